# services.pivot: Pivot as a NixOS service, shaped like nixpkgs' services.pixiecore. One option per flag of
# `pivot serve` (NixModuleTest holds the names to ServeCommand's), plus enable, package, openFirewall and
# extraArgs. The service runs as the system user `pivot` with only the capabilities its flags need.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.pivot;
  inherit (lib) mkOption mkEnableOption mkIf types optional optionals concatMapStringsSep;

  nullOr = t: types.nullOr t;
  port = types.ints.between 0 65535;

  # systemd's ExecStart is not a shell: quote each argument its way and keep % and $ literal.
  systemdArg = arg:
    let escaped = lib.replaceStrings [ "\\" "\"" "%" "$" ] [ "\\\\" "\\\"" "%%" "$$" ] (toString arg);
    in if builtins.match "[A-Za-z0-9_./:=,@+-]+" escaped != null then escaped else "\"${escaped}\"";

  flag = name: value: optionals (value != null) [ name (toString value) ];
  switch = name: on: optional on name;

  serveArgs = [ "serve" (toString cfg.image) ]
    ++ flag "--interface" cfg.interface
    ++ flag "--listen" cfg.listen
    ++ [ "--dhcp" cfg.dhcp ]
    ++ flag "--range" cfg.range
    ++ flag "--router" cfg.router
    ++ [ "--http-port" (toString cfg.httpPort) "--tftp-port" (toString cfg.tftpPort) ]
    ++ flag "--tftp-root" cfg.tftpRoot
    ++ flag "--tftp-max-blksize" cfg.tftpMaxBlksize
    ++ flag "--api-token-file" cfg.apiTokenFile
    ++ switch "--protect-reads" cfg.protectReads
    ++ [ "--state" cfg.stateDir "--efi-loader" cfg.efiLoader ]
    ++ flag "--database" cfg.database
    ++ flag "--profiles" cfg.profiles
    ++ [ "--ipxe-dir" (toString cfg.ipxeDir) ]
    ++ switch "--ipxe-upgrade" cfg.ipxeUpgrade
    ++ flag "--init" cfg.init
    ++ [ "--stage1" cfg.stage1 ]
    ++ switch "--skip-check" cfg.skipCheck
    ++ flag "--machine-ram" cfg.machineRam
    ++ lib.concatLists (lib.mapAttrsToList (name: n: [ "--limit" "${name}=${toString n}" ]) cfg.limit)
    ++ switch "--trust-host-header" cfg.trustHostHeader
    ++ cfg.extraArgs;

  # Ports below 1024 (DHCP 67, TFTP 69, HTTP 80) need CAP_NET_BIND_SERVICE. Binding the DHCP sockets to an
  # interface (SO_BINDTODEVICE) needs CAP_NET_RAW on current kernels and CAP_NET_ADMIN on older ones; with
  # DHCP off or no interface named, Pivot binds no device and gets neither.
  bindsDevice = cfg.interface != null && cfg.dhcp != "off";
  capabilities = [ "CAP_NET_BIND_SERVICE" ] ++ optionals bindsDevice [ "CAP_NET_RAW" "CAP_NET_ADMIN" ];
in
{
  options.services.pivot = {
    enable = mkEnableOption "Pivot, a network-boot server (ProxyDHCP or DHCP, TFTP, HTTP) for NixOS netboot builds";

    package = mkOption {
      type = types.package;
      default = pkgs.pivot;
      defaultText = lib.literalExpression "pkgs.pivot";
      description = "The Pivot package (the flake's nixosModules.default sets its own).";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Open DHCP (67/udp), ProxyDHCP (4011/udp), TFTP (69/udp) and HTTP (httpPort/tcp) on the firewall.
      '';
    };

    image = mkOption {
      type = types.path;
      example = lib.literalExpression "nixosConfigurations.pc.config.system.build.netboot";
      description = ''
        The netboot build to serve (bzImage, initrd, netboot.ipxe), or a generic image directory (`pivot serve DIR`).
      '';
    };

    interface = mkOption {
      type = nullOr types.str;
      default = null;
      example = "eth1";
      description = "Serve on this interface; the server's address is its IPv4 address (`--interface`).";
    };

    listen = mkOption {
      type = nullOr types.str;
      default = null;
      example = "10.0.0.1";
      description = "Bind to this address instead of an interface (`--listen`).";
    };

    dhcp = mkOption {
      type = types.enum [ "proxy" "full" "off" ];
      default = "proxy";
      description = ''
        `proxy`: ProxyDHCP beside the network's DHCP server (boot options only); `full`: hand out addresses from
        `range` too; `off`: no DHCP (`--dhcp`).
      '';
    };

    range = mkOption {
      type = nullOr types.str;
      default = null;
      example = "10.0.0.100-10.0.0.199";
      description = "The addresses to lease with `dhcp = \"full\"` (`--range`).";
    };

    router = mkOption {
      type = nullOr types.str;
      default = null;
      description = "The default gateway handed out with `dhcp = \"full\"` (`--router`).";
    };

    httpPort = mkOption {
      type = port;
      default = 80;
      description = "HTTP port: boot scripts, kernels, images, the API and the web page (`--http-port`).";
    };

    tftpPort = mkOption {
      type = port;
      default = 69;
      description = "TFTP port (`--tftp-port`).";
    };

    tftpRoot = mkOption {
      type = nullOr types.path;
      default = null;
      description = "Extra read-only files served over TFTP (`--tftp-root`).";
    };

    tftpMaxBlksize = mkOption {
      type = nullOr (types.ints.between 8 65464);
      default = null;
      description = "The largest TFTP blksize granted; null: what fits the interface's MTU (`--tftp-max-blksize`).";
    };

    apiTokenFile = mkOption {
      type = nullOr types.path;
      default = null;
      description = "The token API changes need; null: made in stateDir/api-token on first start (`--api-token-file`).";
    };

    protectReads = mkOption {
      type = types.bool;
      default = false;
      description = "The API, its event stream and /metrics need the token too (`--protect-reads`).";
    };

    stateDir = mkOption {
      type = types.path;
      default = "/var/lib/pivot";
      description = "Artifacts, leases and pivot.db, the boot history (`--state`).";
    };

    efiLoader = mkOption {
      type = types.str;
      default = "ipxe.efi";
      description = "The iPXE build for UEFI x86-64 PXE clients: ipxe.efi or snponly.efi (`--efi-loader`).";
    };

    database = mkOption {
      type = nullOr types.str;
      default = null;
      example = "jdbc:postgresql://db/pivot?user=pivot";
      description = ''
        Keep boot history in this database instead of stateDir/pivot.db (`--database`). The URL ends up in the
        world-readable Nix store and the process list: prefer authentication that needs no password in it.
      '';
    };

    profiles = mkOption {
      type = nullOr types.path;
      default = null;
      description = "profiles.yaml: more images, groups of machines, a default (`--profiles`).";
    };

    ipxeDir = mkOption {
      type = types.path;
      default = pkgs.ipxe;
      defaultText = lib.literalExpression "pkgs.ipxe";
      description = "The iPXE binaries (undionly.kpxe, ipxe.efi) handed to PXE firmware (`--ipxe-dir`).";
    };

    ipxeUpgrade = mkOption {
      type = types.bool;
      default = false;
      description = "Hand iPXE clients (old NIC ROMs) this iPXE once per boot before the script (`--ipxe-upgrade`).";
    };

    init = mkOption {
      type = nullOr types.str;
      default = null;
      description = "Generic images: the init to switch_root to; null: /sbin/init or pivot.yaml's (`--init`).";
    };

    stage1 = mkOption {
      type = types.enum [ "prelude" "native" ];
      default = "prelude";
      description = ''
        `prelude`: Pivot's stage 1 fetches the root image after boot; `native`: the root image goes as a second
        initrd to the image's own stage 1 (`--stage1`).
      '';
    };

    skipCheck = mkOption {
      type = types.bool;
      default = false;
      description = "Serve even when the image check finds errors (`--skip-check`).";
    };

    machineRam = mkOption {
      type = nullOr types.ints.positive;
      default = null;
      description = "The machines' RAM in MB: `stage1 = \"native\"` is refused when the image needs more (`--machine-ram`).";
    };

    limit = mkOption {
      type = types.attrsOf types.ints.positive;
      default = { };
      example = { tftp-transfers = 512; http-connections-per-ip = 32; };
      description = "Bounds changed from their defaults, by name (`--limit NAME=N`; `pivot serve --help` lists them).";
    };

    trustHostHeader = mkOption {
      type = types.bool;
      default = false;
      description = "Scripts name the server as the client's Host header did, behind a reverse proxy (`--trust-host-header`).";
    };

    extraArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "More arguments for `pivot serve`.";
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = (cfg.interface == null) != (cfg.listen == null);
        message = "services.pivot: set interface or listen (one of them)";
      }
      {
        assertion = cfg.dhcp != "full" || cfg.range != null;
        message = "services.pivot: dhcp = \"full\" needs range (FIRST-LAST)";
      }
    ];

    users.users.pivot = {
      description = "Pivot network-boot server";
      group = "pivot";
      isSystemUser = true;
      home = cfg.stateDir;
    };
    users.groups.pivot = { };

    networking.firewall = mkIf cfg.openFirewall {
      allowedUDPPorts = optionals (cfg.dhcp != "off") [ 67 4011 ] ++ [ cfg.tftpPort ];
      allowedTCPPorts = [ cfg.httpPort ];
    };

    environment.systemPackages = [ cfg.package ]; # `pivot machines`, `pivot sessions`, … on the server

    systemd.services.pivot = {
      description = "Pivot network-boot server";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      serviceConfig = {
        ExecStart = "${cfg.package}/bin/pivot " + concatMapStringsSep " " systemdArg serveArgs;
        User = "pivot";
        Group = "pivot";
        StateDirectory = "pivot";
        StateDirectoryMode = "0750";
        ReadWritePaths = optional (toString cfg.stateDir != "/var/lib/pivot") (toString cfg.stateDir);
        Restart = "on-failure";
        RestartSec = "2s";
        # Exit 2 is a usage or input error (README's exit codes): restarting cannot fix it.
        RestartPreventExitStatus = "2";

        AmbientCapabilities = capabilities;
        CapabilityBoundingSet = capabilities;
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectProc = "invisible";
        RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" "AF_NETLINK" ];
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        # Not MemoryDenyWriteExecute: the JVM's JIT writes the code it runs.
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" ];
        UMask = "0077";
      };
    };
  };
}
