# Evaluates module.nix without nixpkgs' package set or NixOS: nixpkgs' lib, stubs for the NixOS options the
# module sets, and sample configurations; NixModuleTest reads the result as JSON and asserts on it.
#   nix-instantiate --eval --strict --json nix/check.nix --arg nixpkgsLib /path/to/nixpkgs/lib
{ nixpkgsLib }:

let
  lib = import nixpkgsLib;
  inherit (lib) mkOption types;

  anything = mkOption { type = types.anything; default = { }; };
  fakePackage = name: { type = "derivation"; inherit name; outPath = "/nix/store/00000000000000000000000000000000-${name}"; };

  # The NixOS options module.nix sets, declared as loosely as evaluation needs.
  stubs = {
    options = {
      assertions = mkOption { type = types.listOf types.unspecified; default = [ ]; };
      users.users = mkOption { type = types.attrsOf types.anything; default = { }; };
      users.groups = mkOption { type = types.attrsOf types.anything; default = { }; };
      networking.firewall.allowedUDPPorts = mkOption { type = types.listOf types.port; default = [ ]; };
      networking.firewall.allowedTCPPorts = mkOption { type = types.listOf types.port; default = [ ]; };
      environment.systemPackages = mkOption { type = types.listOf types.package; default = [ ]; };
      systemd.services = mkOption { type = types.attrsOf types.anything; default = { }; };
    };
    config._module.args.pkgs = { pivot = fakePackage "pivot"; ipxe = fakePackage "ipxe"; coreutils = fakePackage "coreutils"; };
  };

  eval = settings: lib.evalModules { modules = [ stubs ./module.nix { services.pivot = settings; } ]; };

  summary = settings:
    let
      c = (eval settings).config;
      s = c.systemd.services.pivot or null;
    in {
      failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) c.assertions);
      service = if s == null then null else {
        inherit (s) wantedBy after;
        inherit (s.serviceConfig) ExecStart ExecReload User Group StateDirectory AmbientCapabilities CapabilityBoundingSet
          ProtectSystem NoNewPrivileges RestartPreventExitStatus ReadWritePaths;
      };
      user = c.users.users.pivot or null;
      udp = c.networking.firewall.allowedUDPPorts;
      tcp = c.networking.firewall.allowedTCPPorts;
    };

  # The options a user sets, as `pivot serve` names its flags (enable, package, … are the module's own).
  declared = builtins.attrNames (eval { }).options.services.pivot;
in
{
  inherit declared;

  onInterface = summary {
    enable = true;
    image = "/srv/netboot/pc";
    interface = "eth1";
    dhcp = "full";
    range = "10.0.0.100-10.0.0.199";
    openFirewall = true;
    profiles = "/etc/pivot/profiles.yaml";
    extraArgs = [ "--skip-check" ];
  };

  onLoopback = summary {
    enable = true;
    image = "/srv/netboot/pc";
    listen = "127.0.0.1";
    dhcp = "off";
    httpPort = 8080;
    stateDir = "/srv/pivot state";
    database = "jdbc:postgresql://db/pivot?user=pivot&x=100%";
    openFirewall = true;
  };

  fullWithoutRange = summary { enable = true; image = "/srv/netboot/pc"; interface = "eth1"; dhcp = "full"; };

  disabled = summary { image = "/srv/netboot/pc"; interface = "eth1"; };
}
