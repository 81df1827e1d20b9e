# A NixOS VM test of services.pivot, as nixpkgs writes them (run by the flake's checks.x86_64-linux.vm through
# pkgs.testers.runNixOSTest, which also imports the module into every node). Not run by ./test: it needs Nix
# with KVM. The server hands out addresses on the test VLAN (192.168.1.0/24, where the test driver numbers the
# nodes) with full DHCP; the client drops its static address, leases one, and fetches its boot script and
# kernel as iPXE would.
{ lib, pkgs, ... }:

let
  # A small NixOS netboot build (bzImage, initrd with the store, netboot.ipxe) for Pivot to serve.
  netboot = (pkgs.nixos ({ modulesPath, ... }: {
    imports = [ "${modulesPath}/installer/netboot/netboot-minimal.nix" ];
    system.stateVersion = lib.trivial.release;
  })).config.system.build.netboot;
in
{
  name = "pivot";

  nodes.server = { ... }: {
    virtualisation.vlans = [ 1 ];
    services.pivot = {
      enable = true;
      image = netboot;
      interface = "eth1";
      dhcp = "full";
      range = "192.168.1.100-192.168.1.199";
      openFirewall = true;
    };
  };

  nodes.client = { ... }: {
    virtualisation.vlans = [ 1 ];
    environment.systemPackages = [ pkgs.busybox pkgs.curl ];
  };

  testScript = { nodes, ... }:
    let server = nodes.server.networking.primaryIPAddress;
    in ''
    start_all()
    server.wait_for_unit("pivot.service")
    server.wait_for_open_port(80)
    server.succeed("ss -ulpn | grep -q ':67 '")
    server.succeed("ss -ulpn | grep -q ':69 '")

    # Runs as the pivot user with only the capabilities it needs, its state where systemd made it.
    assert server.succeed("systemctl show -p User --value pivot").strip() == "pivot"
    caps = server.succeed("systemctl show -p AmbientCapabilities --value pivot")
    assert "cap_net_bind_service" in caps and "cap_net_raw" in caps and "cap_sys_admin" not in caps, caps
    server.succeed("test -s /var/lib/pivot/api-token")
    server.succeed("stat -c %U /var/lib/pivot/pivot.db | grep -qx pivot")

    # A machine on the VLAN leases an address from the range and is pointed at its boot script.
    client.succeed("ip addr flush dev eth1")
    client.succeed("busybox udhcpc -i eth1 -n -q -t 10 -s ${pkgs.writeShellScript "udhcpc-script" ''
      [ "$1" = bound ] && ${pkgs.iproute2}/bin/ip addr add "$ip/$mask" dev "$interface"; exit 0
    ''}")
    client.succeed("ip -4 addr show eth1 | grep -q 'inet 192.168.1.1[0-9][0-9]/'")
    mac = client.succeed("cat /sys/class/net/eth1/address").strip()
    script = client.succeed(f"curl -sf 'http://${server}/boot.ipxe?mac={mac}'")
    assert script.startswith("#!ipxe"), script
    kernel = next(l.split()[1] for l in script.splitlines() if l.startswith("kernel "))
    client.succeed(f"curl -sf -o /dev/null '{kernel}'")

    # The operator commands see the machine, with the token from the server's state directory.
    server.wait_until_succeeds(f"pivot machines | grep -q '{mac}'")
    server.succeed(f"pivot label {mac} rack=r1 | grep -q rack=r1")
    server.succeed("pivot machines --server 127.0.0.1:1; test $? -eq 3")  # nothing there: exit 3
  '';
}
