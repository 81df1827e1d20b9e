package dev.pivot.dhcp;

import dev.pivot.demo.DemoImage;
import dev.pivot.demo.Dnsmasq;
import dev.pivot.demo.NetNamespace;
import dev.pivot.demo.Qemu;
import dev.pivot.server.ServerConfig;
import dev.pivot.store.PostgresCluster;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A boot survives the loss of its server: two `pivot serve --dhcp full --dhcp-leases store` (the ./pivot launcher,
 * the demo image imported by each, one boot key) in two namespaces bridged onto one LAN with one PostgreSQL, and a
 * QEMU VM (TCG) on that LAN. The server whose script the VM fetched (the one whose DHCP answer it took) is killed
 * with SIGKILL as soon as its timeline shows the script step: the loader falls back to the other server for the
 * kernel and initrd (iPXE's {@code ||} chain from SeaBIOS's iPXE ROM; GRUB's if/elif over HTTP when OVMF's own PXE
 * ran shim and GRUB), stage 1 for its reports and the root image, and the VM reaches stage 2. The other server's
 * timeline and API hold the later steps. The same holds with two ProxyDHCP servers beside a dnsmasq-base router,
 * which both answer the VM's DHCP, for a boot menu's choice, and for a root image over NBD.
 */
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class ServerLossQemuIT {

    private static final String MAC = "52:54:00:77:00:d7";
    private static final String UEFI_MAC = "52:54:00:77:00:d8";
    private static final String PROXY_MAC = "52:54:00:77:00:d9";
    private static final String NBD_MAC = "52:54:00:77:00:da";
    private static final String NBD_REFUSED_MAC = "52:54:00:77:00:db";
    private static final String NBD_MOVED_MAC = "52:54:00:77:00:dc";
    private static final String MENU_MAC = "52:54:00:77:00:dd";
    private static final String MIXED_MAC = "52:54:00:77:00:de";
    private static final String MIXED_REFUSED_MAC = "52:54:00:77:00:df";
    private static final Pattern NBD_READ_BYTES = Pattern.compile("(?m)^pivot_nbd_read_bytes(?:\\{[^}]*})? (\\S+)$");
    private static final Duration BOOT_LIMIT = Duration.ofSeconds(360);
    private static final String[] ADDRESS = {"10.79.0.1", "10.79.0.2"};
    private static final String[] NAME = {"pxe-a", "pxe-b"};
    /** Each server's NBD port (--nbd-port): stage 1 learns another server's from its /healthz. */
    private static final int[] NBD_PORT = {ServerConfig.DEFAULT_NBD_PORT, ServerConfig.DEFAULT_NBD_PORT + 1};

    @TempDir
    Path tmp;

    private Lab lab;
    private PostgresCluster pg;
    private Qemu vm;
    /** What the servers serve when a test says so (default: the demo image); what to do before the VM starts. */
    private Path served;
    private LanStep beforeVm = lan -> { };

    private interface LanStep {
        void on(NetNamespace lan) throws Exception;
    }
    private final List<Process> servers = new CopyOnWriteArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        if (vm != null) {
            vm.close();
        }
        for (Process p : servers) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (pg != null) {
            pg.close();
        }
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void theVmReachesStage2ThroughTheOtherServerWhenItsServerIsKilledAfterTheScript() throws Exception {
        List<String> later = survivesTheLossOfItsServer(Qemu.Boot.BIOS_IPXE_ROM, MAC, "full").lines();
        assertThat(later).as("iPXE fetched kernel and initrd from the survivor")
                .anyMatch(l -> Pattern.compile("\\bkernel\\b").matcher(l).find())
                .anyMatch(l -> Pattern.compile("\\binitrd\\b").matcher(l).find());
    }

    @Test
    void grubFromShimFallsBackToTheOtherServerWhenItsServerIsKilledAfterItsConfig() throws Exception {
        List<String> later = survivesTheLossOfItsServer(Qemu.Boot.UEFI_OWN_PXE, UEFI_MAC, "full").lines();
        assertThat(later).as("GRUB fetched kernel and initrds from the survivor over HTTP (its elif), as HTTP steps")
                .anyMatch(l -> Pattern.compile("\\bkernel\\s+bzImage\\b").matcher(l).find())
                .anyMatch(l -> Pattern.compile("\\binitrd\\s+pivot\\.cpio\\.gz\\b").matcher(l).find())
                .noneMatch(l -> l.contains("TFTP: sent '/artifacts/"));
    }

    /**
     * Two ProxyDHCP servers beside the network's router (dnsmasq-base, no boot options): both answer the VM's
     * DHCP at once, the VM takes one, and when that one dies after the script the other carries the boot through.
     */
    @Test
    void twoProxyServersBesideARouterBothAnswerAndTheOtherCarriesTheBoot() throws Exception {
        List<String> later = survivesTheLossOfItsServer(Qemu.Boot.BIOS_IPXE_ROM, PROXY_MAC, "proxy").lines();
        assertThat(later).as("the survivor answered the VM's DHCP as a proxy too")
                .anyMatch(l -> Pattern.compile("\\bdhcp +proxy offer\\b").matcher(l).find());
        assertThat(later).as("iPXE fetched kernel and initrd from the survivor")
                .anyMatch(l -> Pattern.compile("\\bkernel\\b").matcher(l).find())
                .anyMatch(l -> Pattern.compile("\\binitrd\\b").matcher(l).find());
    }

    /**
     * The root image over NBD (both servers with {@code --root-transport nbd}, each on its own port): stage 1
     * attaches it from the survivor's NBD server, on the port the survivor's /healthz names, once the server that
     * served the script is gone.
     */
    @Test
    void anNbdRootIsAttachedFromTheOtherServerWhenItsServerIsKilledAfterTheScript() throws Exception {
        Require.command("qemu-nbd", "qemu-utils"); // packed into stage 1, as NbdRootIT's
        Survivor survivor = survivesTheLossOfItsServer(Qemu.Boot.BIOS_IPXE_ROM, NBD_MAC, "full",
                "--root-transport", "nbd");
        String nbd = nbdAt(survivor.server());
        assertThat(vm.serial()).as("stage 1 attached from the survivor's NBD server")
                .contains("from nbd://" + nbd + " to /dev/nbd0");
        assertThat(survivor.lines()).as("the survivor's timeline says where the root image came from")
                .anyMatch(l -> l.contains("root_fetched") && l.contains("attached over NBD from " + nbd));
    }

    /**
     * The server that wrote the script stays up but refuses NBD connections (an nftables reset in its namespace):
     * stage 1's reports reach it, its attach fails, and the root image is attached from the other server's NBD.
     */
    @Test
    void anNbdRootIsAttachedFromTheOtherServerWhenItsServerRefusesNbd() throws Exception {
        Require.command("qemu-nbd", "qemu-utils");
        Require.command("nft", "nftables");
        Booting booting = bootBesideTwoServers(Qemu.Boot.BIOS_IPXE_ROM, NBD_REFUSED_MAC, "full",
                "--root-transport", "nbd");
        int refusing = booting.server();
        booting.namespaces()[refusing].exec("nft", "add table inet pvtnbd; add chain inet pvtnbd in { type filter"
                + " hook input priority 0; }; add rule inet pvtnbd in tcp dport " + NBD_PORT[refusing]
                + " reject with tcp reset");
        Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
        System.out.printf("ServerLossQemuIT [NBD refused by %s]: QEMU start -> stage 2 in %s%n", NAME[refusing],
                Qemu.seconds(took));
        vm.serial().lines().filter(l -> l.contains("nbd://"))
                .forEach(l -> System.out.println("ServerLossQemuIT: console | " + l));
        String from = nbdAt(refusing);
        String to = nbdAt(1 - refusing);
        assertThat(vm.serial()).as("stage 1 tried the script's server first, then the other")
                .contains("from nbd://" + from + " to /dev/nbd0")
                .contains("pivot: nbd://" + from + " does not answer")
                .contains("from nbd://" + to + " to /dev/nbd0");
        assertThat(vm.serial().split("standing by did not attach", -1)).as("one attach with a server standing by,"
                + " whose source refuses: none after it").hasSize(2);
        Lab.awaitLine(booting.outputs().get(1 - refusing), 30, l -> l.contains(NBD_REFUSED_MAC)
                        && l.contains("root_fetched") && l.contains("attached over NBD from " + to),
                NAME[1 - refusing] + "'s root_fetched step");
    }

    /**
     * One database, pxe-a on {@code --root-transport http} (started first, so it records the build as generation 1)
     * and pxe-b on NBD (answering DHCP alone): both serve that one generation, and the VM boots it through pxe-b with
     * the root image attached over NBD. A generation is the same for either transport; the server on NBD adds its
     * NBD client as an initrd of its own. pxe-a names no NBD port, so it does not stand by.
     */
    @Test
    void aServerOnNbdBootsOverNbdTheGenerationAServerOnHttpRecorded() throws Exception {
        Require.command("qemu-nbd", "qemu-utils");
        Booting booting = bootBesideTwoServers(Qemu.Boot.BIOS_IPXE_ROM, MIXED_MAC,
                i -> i == 0 ? List.of("--dhcp", "off") : List.of("--dhcp", "full", "--root-transport", "nbd"));
        assertThat(booting.server()).as("pxe-b, the only one answering DHCP, served the script").isEqualTo(1);
        for (int i = 0; i < 2; i++) {
            assertThat(curl(booting.lan(), "http://" + ADDRESS[i] + "/api/v1/generations?profile=default"))
                    .as("%s serves the one generation pxe-a recorded", NAME[i])
                    .containsPattern("\"defaultGeneration\"\\s*:\\s*1\\b")
                    .doesNotContainPattern("\"number\"\\s*:\\s*2\\b");
        }
        Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
        System.out.printf("ServerLossQemuIT [pxe-a on HTTP, pxe-b on NBD]: QEMU start -> stage 2 in %s%n",
                Qemu.seconds(took));
        vm.serial().lines().filter(l -> l.contains("nbd://") || l.contains("over NBD"))
                .forEach(l -> System.out.println("ServerLossQemuIT: console | " + l));
        assertThat(vm.serial()).as("pxe-b's script: the prelude, then its NBD client and the modules")
                .containsSubsequence("Pivot: loading initrd pivot.cpio.gz", "Pivot: loading initrd pivot-nbd.cpio.gz",
                        "Pivot: loading initrd pivot-nbd-modules.cpio.gz", "Pivot: booting");
        assertThat(vm.serial()).as("the root image attached from pxe-b, with nothing standing by")
                .contains("from nbd://" + nbdAt(1) + " to /dev/nbd0 (").doesNotContain("standing by")
                .doesNotContain("pivot: FAILED");
        Lab.awaitLine(booting.outputs().get(1), 30, l -> l.contains(MIXED_MAC) && l.contains("root_fetched")
                && l.contains("attached over NBD from " + nbdAt(1)), "pxe-b's root_fetched step");
    }

    /**
     * As above, but pxe-b refuses NBD connections (an nftables reset in its namespace): stage 1's attach fails, it
     * moves on to pxe-a, whose {@code /healthz} names no NBD port, and fetches the root image from it over HTTP
     * (into RAM, checked by its sha256) instead of trying NBD on a server that has none.
     */
    @Test
    void anNbdBootFetchesTheRootImageOverHttpFromAServerOnHttp() throws Exception {
        Require.command("qemu-nbd", "qemu-utils");
        Require.command("nft", "nftables");
        Booting booting = bootBesideTwoServers(Qemu.Boot.BIOS_IPXE_ROM, MIXED_REFUSED_MAC,
                i -> i == 0 ? List.of("--dhcp", "off") : List.of("--dhcp", "full", "--root-transport", "nbd"));
        assertThat(booting.server()).as("pxe-b, the only one answering DHCP, served the script").isEqualTo(1);
        booting.namespaces()[1].exec("nft", "add table inet pvtnbd; add chain inet pvtnbd in { type filter"
                + " hook input priority 0; }; add rule inet pvtnbd in tcp dport " + NBD_PORT[1]
                + " reject with tcp reset");
        Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
        System.out.printf("ServerLossQemuIT [pxe-b on NBD refusing it, pxe-a on HTTP]: QEMU start -> stage 2 in %s%n",
                Qemu.seconds(took));
        vm.serial().lines().filter(l -> l.contains("nbd://") || l.contains("over HTTP") || l.contains("root image"))
                .forEach(l -> System.out.println("ServerLossQemuIT: console | " + l));
        assertThat(vm.serial()).as("stage 1 tried pxe-b's NBD, then fetched over HTTP from pxe-a")
                .containsSubsequence("from nbd://" + nbdAt(1) + " to /dev/nbd0",
                        "pivot: nbd://" + nbdAt(1) + " does not answer",
                        "pivot: http://" + ADDRESS[0] + " serves the root image over HTTP only (its /healthz names no"
                                + " NBD port): fetching it over HTTP",
                        "sha256 ok")
                .doesNotContain("from nbd://" + ADDRESS[0])
                .doesNotContain("pivot: FAILED");
        Lab.awaitLine(booting.outputs().get(0), 30, l -> l.contains(MIXED_REFUSED_MAC) && l.contains("root_fetched")
                && l.contains("sha256 ok, over HTTP: http://" + ADDRESS[0]), "pxe-a's root_fetched step");
    }

    /**
     * Both servers up when stage 1 attaches the root image: it attaches from the one its reports go to, with the
     * other standing by, and once that one is killed (right after the attach, before the image's own stage 1 mounts
     * the root) the reads move on to the other server and the VM reaches stage 2.
     */
    @Test
    void anNbdRootIsReadFromTheOtherServerWhenItsServerIsKilledAfterTheAttach() throws Exception {
        Require.command("qemu-nbd", "qemu-utils");
        Booting booting = bootBesideTwoServers(Qemu.Boot.BIOS_IPXE_ROM, NBD_MOVED_MAC, "full",
                "--root-transport", "nbd");
        int attached = booting.server();
        int other = 1 - attached;
        vm.awaitMarker("pivot: root image attached over NBD", BOOT_LIMIT);
        Process victim = servers.get(attached);
        victim.destroyForcibly(); // SIGKILL
        assertThat(victim.waitFor(10, TimeUnit.SECONDS)).as("%s ended", NAME[attached]).isTrue();
        double readBefore = nbdReadBytes(booting.lan(), other);

        Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
        double readAfter = nbdReadBytes(booting.lan(), other);
        System.out.printf("ServerLossQemuIT [NBD, %s killed after the attach]: QEMU start -> stage 2 in %s; %s sent"
                + " %.0f bytes of NBD reads before the kill, %.0f by stage 2%n", NAME[attached], Qemu.seconds(took),
                NAME[other], readBefore, readAfter);
        vm.serial().lines().filter(l -> l.contains("nbd://") || l.contains("over NBD"))
                .forEach(l -> System.out.println("ServerLossQemuIT: console | " + l));
        assertThat(vm.serial()).as("stage 1 attached from the script's server with the other standing by")
                .contains("attached over NBD from " + nbdAt(attached) + ", standing by: " + nbdAt(other));
        assertThat(readAfter).as("the reads after the kill went to %s", NAME[other]).isGreaterThan(readBefore);
        assertThat(vm.serial()).doesNotContain("I/O error").doesNotContain("pivot: FAILED");
        Lab.awaitLine(booting.outputs().get(other), 30, l -> l.contains(NBD_MOVED_MAC)
                && Pattern.compile("\\bstage2\\b").matcher(l).find(), NAME[other] + "'s stage2 step");
    }

    /**
     * A boot menu (two generations of one build path, which both servers follow) drawn by one server, which is
     * killed while the menu waits: when the menu's time is up, its default choice is chained from the other
     * server ({@code chain http://A/… || chain http://B/…}), and the VM boots that generation.
     */
    @Test
    void aMenuChoiceIsChainedFromTheOtherServerWhenTheMenusServerIsKilled() throws Exception {
        Path root = Require.packagedCli();
        Path one = DemoImage.build(root, tmp.resolve("gen-one"), "--marker", "gen-one");
        Path two = DemoImage.build(root, tmp.resolve("gen-two"), "--marker", "gen-two");
        Path result = tmp.resolve("result");
        TestFiles.relink(result, one);
        served = result;
        beforeVm = lan -> {
            TestFiles.relink(result, two);
            for (String address : ADDRESS) {
                awaitDefaultGeneration(lan, address, 2);
            }
        };
        Booting booting = bootBesideTwoServers(Qemu.Boot.BIOS_IPXE_ROM, MENU_MAC, "full", "--menu-timeout", "10");
        int drew = booting.server();
        int other = 1 - drew;
        Duration menu = vm.awaitMarker("Generation 1, built", BOOT_LIMIT);
        Process victim = servers.get(drew);
        victim.destroyForcibly(); // SIGKILL, while the menu counts down
        assertThat(victim.waitFor(10, TimeUnit.SECONDS)).as("%s ended", NAME[drew]).isTrue();

        Duration took = vm.awaitMarker("PIVOT-DEMO: build gen-two", BOOT_LIMIT);
        System.out.printf("ServerLossQemuIT [menu]: %s drew the menu (on the console %s after QEMU started) and was"
                + " killed; generation 2 reached stage 2 through %s in %s%n", NAME[drew], Qemu.seconds(menu),
                NAME[other], Qemu.seconds(took));
        vm.serial().lines().filter(l -> l.contains("boot.ipxe"))
                .forEach(l -> System.out.println("ServerLossQemuIT: console | " + l));
        assertThat(vm.serial()).contains("Generation 2, built").doesNotContain("PIVOT-DEMO: build gen-one");
        assertThat(vm.serial()).as("the choice's chain: the killed server first, then the other")
                .contains("http://" + ADDRESS[drew] + "/boot.ipxe... Connection")
                .contains("http://" + ADDRESS[other] + "/boot.ipxe... ok");
        Lab.awaitLine(booting.outputs().get(other), 30, l -> l.contains(MENU_MAC)
                && Pattern.compile("\\bscript\\b").matcher(l).find(), NAME[other] + "'s script step (the chain)");
        Lab.awaitLine(booting.outputs().get(other), 30, l -> l.contains(MENU_MAC)
                && Pattern.compile("\\bstage2\\b").matcher(l).find(), NAME[other] + "'s stage2 step");
    }


    private void awaitDefaultGeneration(NetNamespace lan, String address, int generation) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String last = "";
        while (System.nanoTime() < deadline) {
            last = lab.exec(lan, 10, "curl", "-sS", "--max-time", "5", "http://" + address
                    + "/api/v1/generations?profile=default").output();
            if (Pattern.compile("\"defaultGeneration\"\\s*:\\s*" + generation + "\\b").matcher(last).find()) {
                return;
            }
            Thread.sleep(300);
        }
        Assertions.fail("http://" + address + " never had generation " + generation + " as the default: " + last);
    }

    /** Bytes {@code server} has sent in NBD read replies since it started (its metrics). */
    private double nbdReadBytes(NetNamespace lan, int server) throws Exception {
        String metrics = curl(lan, "http://" + ADDRESS[server] + "/metrics");
        var m = NBD_READ_BYTES.matcher(metrics);
        assertThat(m.find()).as("pivot_nbd_read_bytes in %s's metrics", NAME[server]).isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** A server's NBD address: each has its own port (docs/ha.md). */
    private static String nbdAt(int server) {
        return ADDRESS[server] + ":" + NBD_PORT[server];
    }

    /**
     * The server that carried the boot on: its index (into ADDRESS, NAME, NBD_PORT), and its timeline lines of the
     * boot's MAC.
     */
    private record Survivor(int server, List<String> lines) {
    }

    /**
     * Boots {@code mac} with {@code boot}, both servers in {@code dhcp} mode ({@code full} on shared leases, or
     * {@code proxy} beside a dnsmasq-base router) and with {@code serveArgs}, kills the server that served its
     * script; the survivor.
     */
    private Survivor survivesTheLossOfItsServer(Qemu.Boot boot, String mac, String dhcp, String... serveArgs)
            throws Exception {
        Booting booting = bootBesideTwoServers(boot, mac, dhcp, serveArgs);
        int victim = booting.server();
        int survivor = 1 - victim;
        List<List<String>> outputs = booting.outputs();
        long start = booting.start();
        long pid = servers.get(victim).pid();
        Process kill = new ProcessBuilder("kill", "-9", Long.toString(pid)).redirectErrorStream(true).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -9 %d", pid).isTrue();
        assertThat(servers.get(victim).waitFor(10, TimeUnit.SECONDS)).as("%s ended", NAME[victim]).isTrue();
        double killedAt = (System.nanoTime() - start) / 1e9;
        System.out.printf("ServerLossQemuIT [" + boot + "]: %s served the script and was killed (kill -9 %d) %.1f s after QEMU"
                + " started%n", NAME[victim], pid, killedAt);
        List<String> victimOutput = List.copyOf(outputs.get(victim));
        assertThat(victimOutput).as("%s answered the VM's DHCP", NAME[victim])
                .anyMatch(l -> l.contains(mac)
                        && Pattern.compile("\\bdhcp +(ack|proxy (offer|ack))\\b").matcher(l).find());

        Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
        System.out.printf("ServerLossQemuIT [" + boot + "]: QEMU start -> stage 2 in %s through %s; load average %s%n",
                Qemu.seconds(took), NAME[survivor], Files.readString(Path.of("/proc/loadavg")).strip());
        assertThat(vm.serial()).as("stage 1 moved on to the other server")
                .contains("pivot: http://" + ADDRESS[victim] + " does not answer: trying http://"
                        + ADDRESS[survivor]);

        // The survivor's timeline: the later steps of this boot, each through it.
        List<String> later = List.of("stage1", "network", "root_fetched", "handover", "stage2");
        for (String step : later) {
            Lab.awaitLine(outputs.get(survivor), 30, l -> l.contains(mac)
                            && Pattern.compile("\\b" + step + "\\b").matcher(l).find(),
                    NAME[survivor] + "'s " + step + " step");
        }
        List<String> survivorLines = outputs.get(survivor).stream().filter(l -> l.contains(mac)).toList();
        survivorLines.forEach(l -> System.out.println("ServerLossQemuIT: " + NAME[survivor] + " | " + l));
        // And its API, from the shared database: the survivor's session of this boot, with its name.
        String sessions = curl(booting.lan(), "http://" + ADDRESS[survivor] + "/api/v1/sessions?limit=5&mac=" + mac);
        assertThat(sessions).as("the survivor's API").contains("\"server\":\"" + NAME[survivor] + "\"")
                .contains("root_fetched").contains("stage2");
        return new Survivor(survivor, survivorLines);
    }

    /**
     * A VM booting beside the two servers: the one whose script it fetched, the LAN, the servers' namespaces and
     * outputs, and when QEMU started.
     */
    private record Booting(int server, NetNamespace lan, NetNamespace[] namespaces, List<List<String>> outputs,
                           long start) {
    }

    /**
     * Starts the two servers in {@code dhcp} mode ({@code full} on shared leases, or {@code proxy} beside a
     * dnsmasq-base router) with {@code serveArgs}, and a VM booting {@code mac} with {@code boot}; returns once one
     * of them logged the VM's script step.
     */
    private Booting bootBesideTwoServers(Qemu.Boot boot, String mac, String dhcp, String... serveArgs)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("--dhcp", dhcp));
        args.addAll(List.of(serveArgs));
        return bootBesideTwoServers(boot, mac, i -> args);
    }

    /** As above, each server with its own arguments ({@code --dhcp} among them); full DHCP gets a range. */
    private Booting bootBesideTwoServers(Qemu.Boot boot, String mac,
                                         java.util.function.IntFunction<List<String>> argsOf) throws Exception {
        Require.vmLab();
        Require.command("curl");
        Path bin = PostgresCluster.requireBinDir();
        Path root = Require.packagedCli();
        Path image = served != null ? served : DemoImage.build(root, tmp.resolve("image"));

        lab = new Lab();
        NetNamespace lan = lab.namespace("hlan");
        NetNamespace[] ns = {lab.namespace("hsa"), lab.namespace("hsb")};
        String bridge = "pvbr" + lab.id;
        String tap = "pvtp" + lab.id;
        lan.addBridge(bridge);
        lan.addAddress(bridge, "10.79.0.254/24");
        lan.addTap(tap);
        lan.attach(tap, bridge);
        String[] serverIf = {"pva" + lab.id, "pvb" + lab.id};
        for (int i = 0; i < 2; i++) {
            String port = "pvp" + i + lab.id;
            ns[i].addVethTo(serverIf[i], lan, port);
            lan.attach(port, bridge);
            ns[i].addAddress(serverIf[i], ADDRESS[i] + "/24");
        }
        pg = PostgresCluster.start(bin, List.of("ip", "netns", "exec", lan.name()), "10.79.0.254");
        if (argsOf.apply(0).contains("proxy") || argsOf.apply(1).contains("proxy")) {
            Require.command("dnsmasq");
            Dnsmasq.plainDhcp(lan, bridge, "10.79.0.100", "10.79.0.199", "10.79.0.254", tmp);
        }

        // No boot key is copied: each server makes its own, and both use the one the shared database keeps (the first
        // server's), so a token one issued counts at the other.
        List<List<String>> outputs = List.of(new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
        for (int i = 0; i < 2; i++) {
            Path state = Files.createDirectories(tmp.resolve("state-" + NAME[i]));
            List<String> cmd = new ArrayList<>(List.of(root.resolve("pivot").toString(), "serve", image.toString(),
                    "--interface", serverIf[i], "--state", state.toString(), "--server-name", NAME[i],
                    "--no-ipv6-ra", "--database", pg.urlOnListenAddress()));
            List<String> serveArgs = argsOf.apply(i);
            cmd.addAll(serveArgs);
            if (serveArgs.contains("full") && !serveArgs.contains("--range")) {
                cmd.addAll(List.of("--range", "10.79.0.100-10.79.0.199", "--dhcp-leases", "store"));
            }
            if (serveArgs.contains("nbd")) {
                cmd.addAll(List.of("--nbd-port", Integer.toString(NBD_PORT[i])));
            }
            List<String> output = outputs.get(i);
            Process server = lab.start(ns[i], cmd, output);
            servers.add(server);
            Lab.awaitLine(output, 180, l -> l.startsWith("pivot: waiting for machines") || !server.isAlive(),
                    "pivot serve " + NAME[i] + " ready");
            assertThat(server.isAlive()).as("pivot serve %s runs: %s", NAME[i], output).isTrue();
        }
        // Each server names the other in its scripts once it sees its heartbeat.
        for (int i = 0; i < 2; i++) {
            awaitHealth(lan, ADDRESS[i], NAME[1 - i]);
        }

        beforeVm.on(lan);
        long start = System.nanoTime();
        vm = Qemu.start(lan, Qemu.Spec.of(boot, Qemu.Nic.VIRTIO, mac, tap, tmp.resolve("serial.log")));
        Pattern script = Pattern.compile(Pattern.quote(mac) + " .*\\bscript\\b");
        int server = awaitEither(outputs, l -> script.matcher(l).find(), BOOT_LIMIT, "the script step");
        return new Booting(server, lan, ns, outputs, start);
    }

    private void awaitHealth(NetNamespace lan, String address, String peer) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = "";
        while (System.nanoTime() < deadline) {
            last = lab.exec(lan, 10, "curl", "-sS", "--max-time", "5", "http://" + address + "/healthz").output();
            if (last.contains("\"name\":\"" + peer + "\"")) {
                return;
            }
            Thread.sleep(300);
        }
        Assertions.fail("http://" + address + "/healthz never listed " + peer + ": " + last);
    }

    private String curl(NetNamespace lan, String url) throws Exception {
        Lab.Result r = lab.exec(lan, 30, "curl", "-sS", "--max-time", "10", url);
        assertThat(r.exitCode()).as("curl %s: %s", url, r.output()).isZero();
        return r.output();
    }

    /** The index of the first output holding a line {@code wanted}, waiting up to {@code limit}. */
    private int awaitEither(List<List<String>> outputs, java.util.function.Predicate<String> wanted, Duration limit,
                            String what) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < outputs.size(); i++) {
                if (outputs.get(i).stream().anyMatch(wanted)) {
                    return i;
                }
            }
            Thread.sleep(20);
        }
        List<String> both = new ArrayList<>();
        outputs.forEach(both::addAll);
        throw new AssertionError("no server printed " + what + " within " + limit + ": " + both
                + "\nserial console:\n" + vm.serial());
    }
}
