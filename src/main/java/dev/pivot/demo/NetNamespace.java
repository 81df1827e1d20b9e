package dev.pivot.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.security.SecureRandom;

/**
 * A throw-away Linux network namespace (`pvt-<purpose>-<random>`) holding the lab's links (tap, bridge, veth)
 * and the processes run inside it. Closing it ends those processes by their own PID (never by name) and
 * deletes the namespace, which removes every link inside it.
 */
public final class NetNamespace implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String name;
    private final List<Process> started = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean closed;

    private NetNamespace(String name) {
        this.name = name;
    }

    /** Creates a namespace with a unique name and its loopback up. Needs root. */
    public static NetNamespace create(String purpose) {
        if (!purpose.matches("[a-z0-9]{1,6}")) {
            throw new IllegalArgumentException("namespace purpose '" + purpose + "' must be 1-6 of [a-z0-9]");
        }
        byte[] r = new byte[4];
        RANDOM.nextBytes(r);
        String name = "pvt-" + purpose + "-" + HexFormat.of().formatHex(r);
        Commands.run(List.of("ip", "netns", "add", name));
        NetNamespace ns = new NetNamespace(name);
        try {
            ns.ip("link", "set", "lo", "up");
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    public String name() {
        return name;
    }

    /** Runs `ip ARGS…` inside the namespace and returns its output. */
    public String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "-n", name));
        cmd.addAll(List.of(args));
        return Commands.run(cmd);
    }

    /** Runs a short command inside the namespace to completion and returns its output. */
    public String exec(String... command) {
        return Commands.run(inside(List.of(command)));
    }

    /** A tap device (for QEMU's `-netdev tap,ifname=…`), up; carrier comes when QEMU attaches. */
    public void addTap(String tap) {
        ip("tuntap", "add", tap, "mode", "tap");
        ip("link", "set", tap, "up");
    }

    /** A bridge, up, with forwarding delay 0 so ports pass traffic at once (DHCP can't wait 15 s). */
    public void addBridge(String bridge) {
        ip("link", "add", bridge, "type", "bridge", "forward_delay", "0");
        ip("link", "set", bridge, "up");
    }

    public void attach(String link, String bridge) {
        ip("link", "set", link, "master", bridge);
        ip("link", "set", link, "up");
    }

    /** Adds an address (IPv4 `a.b.c.d/len` or IPv6, the latter without duplicate address detection). */
    public void addAddress(String link, String cidr) {
        if (cidr.contains(":")) {
            ip("-6", "addr", "add", cidr, "dev", link, "nodad");
        } else {
            ip("addr", "add", cidr, "dev", link);
        }
    }

    /** A veth pair from this namespace (`here`) to another one (`there`, named `thereName`), both up. */
    public void addVethTo(String here, NetNamespace other, String thereName) {
        ip("link", "add", here, "type", "veth", "peer", "name", thereName, "netns", other.name());
        ip("link", "set", here, "up");
        other.ip("link", "set", thereName, "up");
    }

    /**
     * Starts a long-running command inside the namespace. `ip netns exec` execs in place, so the returned
     * Process's PID is the command's own PID: closing the namespace ends exactly it.
     */
    public Process start(List<String> command, Path log) {
        ProcessBuilder pb = new ProcessBuilder(inside(command)).redirectErrorStream(true);
        if (log != null) {
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        }
        return track(pb, true);
    }

    /** Like {@link #start(List, Path)}, but the caller reads the output (e.g. to stream it). */
    public Process startPiped(List<String> command) {
        return track(new ProcessBuilder(inside(command)).redirectErrorStream(true), true);
    }

    /**
     * Like {@link #startPiped(List)}, but the caller also keeps the command's stdin open: for a child that runs
     * until its stdin closes (a test server JVM, say). Closing the namespace still ends it by its PID.
     */
    public Process startWithStdin(List<String> command) {
        return track(new ProcessBuilder(inside(command)).redirectErrorStream(true), false);
    }

    private Process track(ProcessBuilder pb, boolean closeStdin) {
        if (closed) {
            throw new IllegalStateException("namespace " + name + " is closed");
        }
        try {
            Process p = pb.start();
            if (closeStdin) {
                p.getOutputStream().close();
            }
            started.add(p);
            return p;
        } catch (IOException e) {
            throw new LabException("cannot start " + pb.command() + ": " + e.getMessage(), e);
        }
    }

    List<String> inside(List<String> command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(command);
        return cmd;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Process> toEnd;
        synchronized (started) {
            toEnd = new ArrayList<>(started);
        }
        Collections.reverse(toEnd);
        toEnd.forEach(Commands::end);
        Commands.runQuietly(List.of("ip", "netns", "del", name));
    }
}
