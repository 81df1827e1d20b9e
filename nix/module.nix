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

  serveArgs = [ "serve" ] ++ optional (cfg.image != null) (toString cfg.image)
    ++ flag "--kernel" cfg.kernel
    ++ lib.concatMap (i: [ "--initrd" (toString i) ]) cfg.initrd
    ++ flag "--cmdline" cfg.cmdline
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
    ++ optionals (cfg.dhcpLeases != "journal") [ "--dhcp-leases" cfg.dhcpLeases ]
    ++ flag "--server-name" cfg.serverName
    ++ flag "--profiles" cfg.profiles
    ++ [ "--ipxe-dir" (toString cfg.ipxeDir) ]
    ++ switch "--ipxe-upgrade" cfg.ipxeUpgrade
    ++ flag "--init" cfg.init
    ++ [ "--stage1" cfg.stage1 ]
    ++ switch "--skip-check" cfg.skipCheck
    ++ flag "--machine-ram" cfg.machineRam
    ++ optionals (cfg.logFormat != "text") [ "--log-format" cfg.logFormat ]
    ++ optionals (cfg.gcAfter != 30) [ "--gc-after" (toString cfg.gcAfter) ]
    ++ [ "--keep-generations" (toString cfg.keepGenerations) ]
    ++ flag "--keep-generations-for" cfg.keepGenerationsFor
    ++ [ "--menu-timeout" (toString cfg.menuTimeout) ]
    ++ switch "--no-ipv6-ra" (!cfg.ipv6Ra)
    ++ lib.concatMap (s: [ "--stall-after" s ]) cfg.stallAfter
    ++ [ "--root-transport" cfg.rootTransport "--nbd-port" (toString cfg.nbdPort) ]
    ++ lib.concatLists (lib.mapAttrsToList (name: n: [ "--limit" "${name}=${toString n}" ]) cfg.limit)
    ++ switch "--trust-host-header" cfg.trustHostHeader
    ++ switch "--dhcp-known-only" cfg.dhcpKnownOnly
    ++ cfg.extraArgs;

  # Ports below 1024 (DHCP 67, TFTP 69, HTTP 80) need CAP_NET_BIND_SERVICE. Binding the DHCP sockets to an
  # interface (SO_BINDTODEVICE) needs CAP_NET_RAW on current kernels and CAP_NET_ADMIN on older ones; with
  # DHCP off or no interface named, Pivot binds no device and gets neither.
  # Answering IPv6 router solicitations (wherever DHCP is served, unless ipv6Ra is off) needs a raw ICMPv6
  # socket: CAP_NET_RAW.
  bindsDevice = cfg.interface != null && cfg.dhcp != "off";
  rawIcmpv6 = cfg.dhcp != "off" && cfg.ipv6Ra;
  capabilities = [ "CAP_NET_BIND_SERVICE" ] ++ optionals (bindsDevice || rawIcmpv6) [ "CAP_NET_RAW" ]
    ++ optionals bindsDevice [ "CAP_NET_ADMIN" ];
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
      type = nullOr types.path;
      default = null;
      example = lib.literalExpression "nixosConfigurations.pc.config.system.build.netboot";
      description = ''
        The netboot build to serve (bzImage, initrd, netboot.ipxe), or a generic image directory (`pivot serve DIR`).
        Set this or `kernel`.
      '';
    };

    kernel = mkOption {
      type = nullOr types.path;
      default = null;
      example = "/srv/debian-installer/linux";
      description = "Instead of `image`: a kernel booted with `initrd` and `cmdline` alone, without Pivot's stage 1 (`--kernel`).";
    };

    initrd = mkOption {
      type = types.listOf types.path;
      default = [ ];
      description = "With `kernel`: its initrds, in load order (`--initrd`, once each).";
    };

    cmdline = mkOption {
      type = nullOr types.str;
      default = null;
      example = "console=ttyS0,115200 priority=low";
      description = "With `kernel`: the kernel command line (`--cmdline`).";
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
      example = "grub";
      description = ''
        What UEFI x86-64 PXE clients load first (`--efi-loader`): grub (shim, then Debian's signed GRUB: boots with
        Secure Boot on or off) or an iPXE build, ipxe.efi or snponly.efi. `pivot serve` defaults to grub; here the
        default is ipxe.efi because nixpkgs has no Microsoft-signed shim nor Debian-signed GRUB to give it, so
        machines with Secure Boot on will not boot (Pivot warns at start). grub works here only with Debian's
        shim-signed and grub-efi-amd64-signed unpacked into /var/cache/pivot/loaders/root, and under --dhcp proxy
        only with Debian 13's grub-efi-amd64-signed (GRUB 2.12) in /var/cache/pivot/loaders/trixie
        (scripts/fetch-boot-loaders.sh does both); a profile may still choose its own with `loader:` in profiles.yaml.
      '';
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

    dhcpLeases = mkOption {
      type = types.enum [ "journal" "store" ];
      default = "journal";
      description = ''
        Where full DHCP keeps its leases (`--dhcp-leases`): journal (stateDir/dhcp-leases, one server per range) or
        store (the PostgreSQL `database`, shared by every server on the range; see docs/ha.md).
      '';
    };

    serverName = mkOption {
      type = nullOr types.str;
      default = null;
      description = "This server's name among the servers sharing `database` (`--server-name`); default the host's name.";
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

    gcAfter = mkOption {
      type = types.ints.unsigned;
      default = 30;
      description = "On start, remove stored artifacts no profile uses and not imported for this many days; 0: never (`--gc-after`).";
    };

    logFormat = mkOption {
      type = types.enum [ "text" "json" ];
      default = "text";
      description = "The timeline and log: `text` (one line per boot step; the journal adds the time) or `json` (`--log-format`).";
    };

    keepGenerations = mkOption {
      type = types.ints.positive;
      default = 10;
      description = ''
        Builds kept per profile: each new build at `image` (a `result` link replaced by `nix build`) becomes the
        profile's next generation without a restart (`--keep-generations`).
      '';
    };

    keepGenerationsFor = mkOption {
      type = nullOr (types.strMatching "[1-9][0-9]*[dhm]");
      default = null;
      example = "30d";
      description = "Also drop generations older than this; never the default or an assigned one (`--keep-generations-for`).";
    };

    menuTimeout = mkOption {
      type = types.ints.between 0 3600;
      default = 5;
      description = "Seconds the boot menu of a profile's generations waits; 0: no menu (`--menu-timeout`).";
    };

    ipv6Ra = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Where DHCP is served, answer IPv6 router solicitations with "no router here" (router lifetime 0, no prefix)
        while no IPv6 router advertises on the link, so iPXE does not wait for IPv6 autoconfiguration
        (`--no-ipv6-ra` when false).
      '';
    };

    stallAfter = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "initrd=60" "network=off" ];
      description = "Per-step deadlines after which a silent boot is marked stalled, as `STEP=SECONDS` or `STEP=off` (`--stall-after`).";
    };

    rootTransport = mkOption {
      type = types.enum [ "http" "nbd" ];
      default = "http";
      description = ''
        `http`: stage 1 fetches the root image into RAM and checks its sha256; `nbd`: stage 1 attaches it from
        Pivot's NBD server and reads only what the machine uses, so images larger than RAM boot (`--root-transport`).
      '';
    };

    nbdPort = mkOption {
      type = types.port;
      default = 10809;
      description = "The NBD server's port with `rootTransport = \"nbd\"` (`--nbd-port`).";
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

    dhcpKnownOnly = mkOption {
      type = types.bool;
      default = false;
      description = "DHCP answers only machines Pivot knows: a machine record, an assignment or a group (`--dhcp-known-only`).";
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
        assertion = (cfg.image == null) != (cfg.kernel == null);
        message = "services.pivot: set image or kernel (one of them)";
      }
      {
        assertion = cfg.kernel != null || (cfg.initrd == [ ] && cfg.cmdline == null);
        message = "services.pivot: initrd and cmdline go with kernel";
      }
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
      allowedTCPPorts = [ cfg.httpPort ] ++ optionals (cfg.rootTransport == "nbd") [ cfg.nbdPort ];
    };

    environment.systemPackages = [ cfg.package ]; # `pivot machines`, `pivot sessions`, … on the server

    systemd.services.pivot = {
      description = "Pivot network-boot server";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      serviceConfig = {
        ExecStart = "${cfg.package}/bin/pivot " + concatMapStringsSep " " systemdArg serveArgs;
        # SIGHUP reads profiles.yaml again (`systemctl reload pivot`), as the Debian package's unit does.
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
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
