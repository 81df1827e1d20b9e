package dev.pivot.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The lab's network: namespace `pvt-<purpose>-…` with bridge br0 (10.77.0.1/24 + a ULA, where the boot server
 * binds) and tap0 on the bridge (QEMU's NIC). Optionally a second namespace with a plain DHCP "router" at
 * 10.77.0.2 joined to the bridge by a veth, for ProxyDHCP. Everything is removed on close.
 */
public final class LabNetwork implements AutoCloseable {
    public static final String BRIDGE = "br0";
    public static final String TAP = "tap0";
    public static final String SERVER_ADDRESS = "10.77.0.1";
    public static final String ROUTER_ADDRESS = "10.77.0.2";
    public static final String RANGE_START = "10.77.0.100";
    public static final String RANGE_END = "10.77.0.199";
    static final String ULA = "fd77:77::1/64";
    static final String PEER_ROUTER_ULA = "fd77:77::2/64";

    private final NetNamespace ns;
    private final Path workDir;
    private NetNamespace routerNs;
    private NetNamespace ipv6RouterNs;

    private LabNetwork(NetNamespace ns, Path workDir) {
        this.ns = ns;
        this.workDir = workDir;
    }

    /** Creates the namespace, bridge and tap. */
    public static LabNetwork create(String purpose) {
        Path work;
        try {
            work = Files.createTempDirectory("pvt-lab-");
        } catch (IOException e) {
            throw new LabException("cannot create a lab work directory: " + e.getMessage(), e);
        }
        NetNamespace ns = NetNamespace.create(purpose);
        LabNetwork lab = new LabNetwork(ns, work);
        try {
            ns.addBridge(BRIDGE);
            ns.addAddress(BRIDGE, SERVER_ADDRESS + "/24");
            ns.addAddress(BRIDGE, ULA);
            ns.addTap(TAP);
            ns.attach(TAP, BRIDGE);
            return lab;
        } catch (RuntimeException e) {
            lab.close();
            throw e;
        }
    }

    /** Adds the plain-DHCP router (dnsmasq-base, no boot options) in its own namespace on the bridge. */
    public void addPlainDhcpRouter() {
        routerNs = NetNamespace.create("rtr");
        ns.addVethTo("vrtr", routerNs, "rtr0");
        ns.attach("vrtr", BRIDGE);
        routerNs.addAddress("rtr0", ROUTER_ADDRESS + "/24");
        Dnsmasq.plainDhcp(routerNs, "rtr0", RANGE_START, RANGE_END, ROUTER_ADDRESS, workDir);
    }

    /**
     * Adds a peer IPv6 router in its own namespace on the bridge: dnsmasq-base advertising the ULA prefix
     * fd77:77::/64 with router lifetime 0 (pitfall 1's trick, the way a hand-built netboot ends iPXE's wait). Pivot
     * must hear it and stay silent. Returns the router's process.
     */
    public Process addPeerIpv6Router() {
        ipv6RouterNs = NetNamespace.create("ra");
        ns.addVethTo("vra", ipv6RouterNs, "ra0");
        ns.attach("vra", BRIDGE);
        ipv6RouterNs.addAddress("ra0", PEER_ROUTER_ULA);
        return Dnsmasq.routerAdvertisements(ipv6RouterNs, "ra0", workDir);
    }

    public NetNamespace namespace() {
        return ns;
    }

    public Path workDir() {
        return workDir;
    }

    /** Waits until something in the lab namespace listens on UDP `port` (e.g. a DHCP server on 67). */
    public void awaitUdpListener(int port, java.time.Duration timeout, Process owner) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (owner != null && !owner.isAlive()) {
                throw new LabException("the server exited (code " + owner.exitValue() + ") before listening on UDP "
                        + port);
            }
            String out = ns.exec("ss", "-Hlun", "sport = :" + port);
            if (!out.isBlank()) {
                return;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LabException("interrupted while waiting for UDP " + port, e);
            }
        }
        throw new LabException("nothing listened on UDP " + port + " in " + ns.name() + " within " + timeout);
    }

    @Override
    public void close() {
        if (routerNs != null) {
            routerNs.close();
        }
        if (ipv6RouterNs != null) {
            ipv6RouterNs.close();
        }
        ns.close();
        deleteTree(workDir);
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            List<Path> all = paths.sorted(Comparator.reverseOrder()).toList();
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a leftover temp file is harmless; the namespace and processes are what must go
        }
    }
}
