package dev.pivot.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A QEMU VM that network-boots from a tap inside a {@link NetNamespace}. The serial console goes to a file,
 * where SeaBIOS, iPXE and the kernel all print (`-nographic`), so the boot's milestones can be read there.
 */
public final class Qemu implements AutoCloseable {
    public static final String DEFAULT_MARKER = "PIVOT-DEMO: stage 2 reached";
    private static final Path OVMF = Path.of("/usr/share/ovmf/OVMF.fd");
    private static final Path OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd");
    private static final Path OVMF_VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd");
    private static final Path OVMF_CODE_MS = Path.of("/usr/share/OVMF/OVMF_CODE_4M.ms.fd");
    private static final Path OVMF_VARS_MS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
    /** AAVMF, Debian's UEFI for QEMU's arm64 "virt" machine (package qemu-efi-aarch64). */
    public static final Path AAVMF = Path.of("/usr/share/qemu-efi-aarch64/QEMU_EFI.fd");

    /** How the VM's firmware reaches the network. */
    public enum Boot {
        /** SeaBIOS runs the NIC's option ROM, which is iPXE. */
        BIOS_IPXE_ROM,
        /** OVMF runs the NIC's iPXE EFI driver (from the same ROM file). */
        UEFI_IPXE_ROM,
        /** OVMF with the NIC ROM disabled: OVMF's own (non-iPXE) PXE client, which must TFTP ipxe.efi. */
        UEFI_OWN_PXE,
        /**
         * OVMF as pflash with the NIC ROM disabled and its PXE switched off: it asks DHCP as
         * "HTTPClient:Arch:00016" and fetches its loader by URL (UEFI HTTP Boot).
         */
        UEFI_HTTP_BOOT,
        /**
         * Secure Boot enforcing: q35 with SMM, OVMF_CODE_4M.ms.fd and a copy of OVMF_VARS_4M.ms.fd (Microsoft's keys
         * enrolled), the NIC ROM disabled: OVMF's own PXE, which runs only what those keys (or shim) trust.
         */
        UEFI_SECURE_BOOT,
        /** The Secure Boot machine set to HTTP Boot: its PXE switched off as for {@link #UEFI_HTTP_BOOT}. */
        UEFI_SECURE_HTTP_BOOT,
        /**
         * An ARM64 machine: qemu-system-aarch64 "virt" (a Cortex-A57, always TCG on an x86 host) with AAVMF, the NIC
         * without option ROM: AAVMF's own PXE, which asks DHCP as arch 11 (ARM64 UEFI).
         */
        ARM64_UEFI,
        /** The same ARM64 machine set to HTTP Boot: AAVMF's PXE switched off, it asks DHCP as arch 19. */
        ARM64_UEFI_HTTP_BOOT
    }

    public enum Nic {
        VIRTIO("virtio-net-pci"),
        E1000("e1000");

        final String device;

        Nic(String device) {
            this.device = device;
        }
    }

    /** What to boot. `mac` as aa:bb:cc:dd:ee:ff. */
    public record Spec(Boot boot, Nic nic, String mac, String tap, int memoryMb, Path serialLog) {
        public Spec {
            if (!mac.matches("(?i)([0-9a-f]{2}:){5}[0-9a-f]{2}")) {
                throw new IllegalArgumentException("MAC '" + mac + "' is not of the form aa:bb:cc:dd:ee:ff");
            }
        }

        public static Spec of(Boot boot, Nic nic, String mac, String tap, Path serialLog) {
            return new Spec(boot, nic, mac, tap, 768, serialLog);
        }
    }

    private final Spec spec;
    private final Process process;
    private final long startedNanos;
    private final Path monitor;

    private Qemu(Spec spec, Process process, long startedNanos, Path monitor) {
        this.spec = spec;
        this.process = process;
        this.startedNanos = startedNanos;
        this.monitor = monitor;
    }

    /** Starts the VM inside the namespace (whose tap it uses). */
    public static Qemu start(NetNamespace ns, Spec spec) {
        return start(ns, spec, null);
    }

    /**
     * Starts the VM with its monitor on a Unix socket at {@code monitorSocket}, so keys can be typed on its
     * keyboard ({@link #sendKey}) — a boot menu's choice, say.
     */
    public static Qemu startWithMonitor(NetNamespace ns, Spec spec, Path monitorSocket) {
        return start(ns, spec, monitorSocket);
    }

    private static Qemu start(NetNamespace ns, Spec spec, Path monitorSocket) {
        try {
            Files.deleteIfExists(spec.serialLog());
            Files.createFile(spec.serialLog());
        } catch (IOException e) {
            throw new LabException("cannot create serial log " + spec.serialLog() + ": " + e.getMessage(), e);
        }
        List<String> cmd = command(spec, Accel.detect());
        if (monitorSocket != null) {
            // A path socket: reachable from outside the namespace, which separates only the network.
            cmd.set(cmd.indexOf("-monitor") + 1, "unix:" + monitorSocket + ",server=on,wait=off");
        }
        long t0 = System.nanoTime();
        Process p = ns.start(cmd, spec.serialLog().resolveSibling(spec.serialLog().getFileName() + ".qemu"));
        return new Qemu(spec, p, t0, monitorSocket);
    }

    /** Types {@code key} (QEMU's key name: "1", "ret", "down") on the VM's keyboard, through its monitor. */
    public void sendKey(String key) {
        if (monitor == null) {
            throw new IllegalStateException("this VM was started without a monitor (startWithMonitor)");
        }
        if (!key.matches("[a-z0-9_-]{1,16}")) {
            throw new IllegalArgumentException("key '" + key + "' is not a QEMU key name");
        }
        try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(monitor))) {
            c.write(java.nio.ByteBuffer.wrap(("sendkey " + key + "\n").getBytes(StandardCharsets.US_ASCII)));
            // The monitor echoes the command once it has run it; reading its banner and echo keeps the key from
            // being lost by closing the socket first.
            java.nio.ByteBuffer reply = java.nio.ByteBuffer.allocate(4096);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            StringBuilder seen = new StringBuilder();
            c.configureBlocking(false);
            while (!seen.toString().contains("sendkey " + key) && System.nanoTime() < deadline) {
                reply.clear();
                int n = c.read(reply);
                if (n < 0) {
                    break;
                }
                seen.append(new String(reply.array(), 0, n, StandardCharsets.ISO_8859_1));
                if (n == 0) {
                    Thread.onSpinWait();
                    Thread.sleep(20);
                }
            }
            Thread.sleep(200); // the monitor sends the key's release 100 ms after its press
        } catch (IOException e) {
            throw new LabException("cannot type '" + key + "' through the monitor " + monitor + ": " + e.getMessage(),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted while typing '" + key + "'", e);
        }
    }

    static List<String> command(Spec spec, Accel accel) {
        boolean arm64 = spec.boot() == Boot.ARM64_UEFI || spec.boot() == Boot.ARM64_UEFI_HTTP_BOOT;
        List<String> cmd = new ArrayList<>(List.of(arm64 ? "qemu-system-aarch64" : "qemu-system-x86_64"));
        // KVM here is x86's: an arm64 guest is emulated. cortex-a57 rather than "max": max adds features (pointer
        // authentication) that TCG emulates slowly and the kernel does not need.
        cmd.addAll(arm64 ? List.of("-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg")
                : accel.qemuArgs());
        if (spec.boot() == Boot.UEFI_SECURE_BOOT || spec.boot() == Boot.UEFI_SECURE_HTTP_BOOT) {
            // OVMF's Secure Boot build keeps its variables behind SMM; without it the firmware stops at once.
            cmd.addAll(List.of("-machine", "q35,smm=on", "-global", "driver=cfi.pflash01,property=secure,value=on"));
        }
        cmd.addAll(List.of("-m", Integer.toString(spec.memoryMb()), "-smp", "1",
                "-nographic", "-serial", "file:" + spec.serialLog(), "-monitor", "none",
                "-netdev", "tap,id=n0,ifname=" + spec.tap() + ",script=no,downscript=no"));
        // QEMU's default ROM for these NICs is Debian's iPXE (ipxe-qemu's efi-*.rom, BIOS + EFI in one file).
        // Naming the same file explicitly with romfile=PATH makes SeaBIOS skip it here, so the default is kept.
        String rom = switch (spec.boot()) {
            case BIOS_IPXE_ROM, UEFI_IPXE_ROM -> "";
            case UEFI_OWN_PXE, UEFI_HTTP_BOOT, UEFI_SECURE_BOOT, UEFI_SECURE_HTTP_BOOT, ARM64_UEFI,
                 ARM64_UEFI_HTTP_BOOT -> ",romfile=";
        };
        cmd.addAll(List.of("-device", spec.nic().device + ",netdev=n0,mac=" + spec.mac() + rom));
        switch (spec.boot()) {
            case BIOS_IPXE_ROM -> { }
            case UEFI_IPXE_ROM, UEFI_OWN_PXE -> cmd.addAll(List.of("-bios", OVMF.toString()));
            case UEFI_HTTP_BOOT -> {
                pflash(cmd, OVMF_CODE, OVMF_VARS, spec);
                cmd.addAll(NO_PXE);
            }
            case UEFI_SECURE_BOOT -> pflash(cmd, OVMF_CODE_MS, OVMF_VARS_MS, spec);
            case UEFI_SECURE_HTTP_BOOT -> {
                pflash(cmd, OVMF_CODE_MS, OVMF_VARS_MS, spec);
                cmd.addAll(NO_PXE);
            }
            case ARM64_UEFI -> cmd.addAll(List.of("-bios", AAVMF.toString()));
            case ARM64_UEFI_HTTP_BOOT -> {
                cmd.addAll(List.of("-bios", AAVMF.toString()));
                cmd.addAll(NO_PXE);
            }
        }
        cmd.addAll(List.of("-boot", "n"));
        return cmd;
    }

    /** Set to HTTP Boot as a machine's owner would: the firmware's PXE switched off (OVMF's and AAVMF's knobs). */
    private static final List<String> NO_PXE = List.of("-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n",
            "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n");

    /** The firmware read-only, its variables in a copy beside the serial log (the firmware writes to them). */
    private static void pflash(List<String> cmd, Path code, Path vars, Spec spec) {
        Path copy = spec.serialLog().resolveSibling(spec.serialLog().getFileName() + ".vars.fd");
        try {
            Files.copy(vars, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new LabException("cannot copy the UEFI variables " + vars + " (package ovmf): " + e.getMessage(), e);
        }
        cmd.addAll(List.of("-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + code,
                "-drive", "if=pflash,format=raw,unit=1,file=" + copy));
    }

    public long pid() {
        return process.pid();
    }

    /** Time since QEMU was started. */
    public Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    /**
     * Waits until `marker` appears in the serial log; returns the time from QEMU's start. Throws with the last
     * serial lines when QEMU exits first or the timeout passes.
     */
    public Duration awaitMarker(String marker, Duration timeout) {
        long deadline = startedNanos + timeout.toNanos();
        while (true) {
            String log = serial();
            if (log.contains(marker)) {
                return elapsed();
            }
            if (!process.isAlive()) {
                throw new LabException("QEMU exited (code " + process.exitValue() + ") before '" + marker
                        + "' after " + seconds(elapsed()) + "; last serial lines:\n" + tail(20));
            }
            if (System.nanoTime() > deadline) {
                throw new LabException("no '" + marker + "' within " + seconds(timeout) + " (" + spec.boot() + ", "
                        + spec.nic() + "); last serial lines:\n" + tail(20));
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LabException("interrupted while waiting for '" + marker + "'", e);
            }
        }
    }

    /** The serial log as text, without terminal escape sequences and carriage returns. */
    public String serial() {
        try {
            String raw = new String(Files.readAllBytes(spec.serialLog()), StandardCharsets.ISO_8859_1);
            return raw.replaceAll("\u001b\\[[0-9;?]*[a-zA-Z]", "").replace("\r", "");
        } catch (IOException e) {
            return "";
        }
    }

    /** The last `n` non-blank serial lines. */
    public String tail(int n) {
        List<String> lines = serial().lines().filter(l -> !l.isBlank()).toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    public static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    /** Ends QEMU by its PID (the namespace would too; this is for ending it earlier). */
    @Override
    public void close() {
        Commands.end(process);
    }
}
