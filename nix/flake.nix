# Pivot's NixOS module and package. The package needs the built jars in nix/dist/lib (see package.nix).
#   imports = [ pivot.nixosModules.default ];
#   services.pivot = { enable = true; image = …netboot build…; interface = "eth1"; openFirewall = true; };
{
  description = "Pivot: network-boot machines from a NixOS netboot build";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAll (pkgs: rec {
        pivot = pkgs.callPackage ./package.nix { dist = ./dist; };
        default = pivot;
      });

      overlays.default = final: prev: { pivot = final.callPackage ./package.nix { dist = ./dist; }; };

      nixosModules.pivot = ./module.nix;
      nixosModules.default = { pkgs, lib, ... }: {
        imports = [ ./module.nix ];
        services.pivot.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      };

      checks.x86_64-linux.vm = nixpkgs.legacyPackages.x86_64-linux.testers.runNixOSTest {
        imports = [ ./test.nix ];
        defaults.imports = [ self.nixosModules.default ];
      };
    };
}
