package dev.pivot.stage1;

import dev.pivot.boot.Step;

import java.util.List;
import java.util.Optional;

/**
 * What Pivot's boot loaders and its stage 1 agree on: the kernel parameters the prelude's /pivot/init reads, where
 * the prelude keeps its files, and the steps it reports. Defined here once: the loaders render these names, the
 * prelude builder lays out these paths, and tests hold the init script and the README's parameter table to them.
 */
public final class Stage1Contract {

    /**
     * One kernel parameter the prelude reads.
     *
     * @param name    the key on the kernel command line ("pivot.url")
     * @param value   the value as the README shows it ("http://SERVER:PORT"); empty for a flag
     * @param meaning what stage 1 does with it, as the README says it
     */
    public record Parameter(String name, String value, String meaning) {

        /** The {@code name=value} word for the kernel command line. */
        public String is(Object v) {
            return name + "=" + v;
        }

        /** A flag is present or not; it has no value. */
        public boolean flag() {
            return value.isEmpty();
        }

        /** As the README's table shows it: {@code pivot.url=http://SERVER:PORT}, or just the name of a flag. */
        public String usage() {
            return flag() ? name : name + "=" + value;
        }
    }

    public static final Parameter URL = new Parameter("pivot.url", "http://SERVER:PORT",
            "where stage 1 reports its steps");
    public static final Parameter FALLBACK = new Parameter("pivot.fallback", "URL,URL",
            "the other live servers (same build): when `pivot.url` fails, the root image and the reports go to the"
                    + " next one");
    public static final Parameter MAC = new Parameter("pivot.mac", "MAC",
            "the machine, for reports and to pick its interface");
    public static final Parameter TOKEN = new Parameter("pivot.token", "SECRET",
            "this boot's secret: reports count only with it (a new one in every script)");
    public static final Parameter ROOT = new Parameter("pivot.root", "URL",
            "the root image (squashfs) to fetch into `/nix-store.squashfs`");
    public static final Parameter SHA256 = new Parameter("pivot.sha256", "HEX",
            "its sha256; a mismatch stops the boot");
    public static final Parameter SIZE = new Parameter("pivot.size", "BYTES",
            "its size: stage 1 checks free RAM before fetching and trusts this over a transfer that ends early");
    public static final Parameter MODE = new Parameter("pivot.mode", "layout",
            "mount the root image itself (overlay or NixOS store layout) and switch_root to `init=`, for images"
                    + " without a stage 1 of their own");
    public static final Parameter FETCH_STALL = new Parameter("pivot.fetch_stall", "SECONDS",
            "restart the fetch after this long without data (default 30)");
    public static final Parameter FETCH_TRIES = new Parameter("pivot.fetch_tries", "N",
            "fetch attempts, resuming each time, before giving up (default 12)");
    public static final Parameter NBD = new Parameter("pivot.nbd", "SERVER:PORT",
            "attach the root image (export `pivot.sha256`) from this NBD server as `/dev/nbd0` instead of fetching"
                    + " it: only the blocks the machine reads cross the network, so an image larger than RAM boots."
                    + " When this server does not answer, from the next server of `pivot.fallback`, on the NBD port its"
                    + " `/healthz` names (this port when it does not answer); a server that names none, or no server"
                    + " attaching, has the root image fetched over HTTP instead (when it fits in RAM);"
                    + " with qemu-nbd in stage 1, the other servers that answer naming an NBD port stand by and reads"
                    + " move to them when it goes away");
    public static final Parameter VERITY = new Parameter("pivot.verity", "HEX",
            "the dm-verity root hash of the root image (NBD only): stage 1 puts a verity device over `/dev/nbd0` and"
                    + " the hash tree, so the kernel checks every block it reads; without it stage 1 says the blocks"
                    + " are not checked");
    public static final Parameter VERITY_TREE = new Parameter("pivot.verity_tree", "SHA256",
            "the NBD export holding the root image's hash tree (attached as `/dev/nbd1`)");
    public static final Parameter SHELL = new Parameter("pivot.shell", "",
            "open a shell on failure instead of powering off");
    public static final Parameter IP = new Parameter("pivot.ip", "ADDRESS",
            "the address iPXE leased (iPXE fills in `${ip}`): stage 1 uses it instead of asking DHCP again, and asks"
                    + " DHCP only when Pivot cannot be reached with it");
    public static final Parameter NETMASK = new Parameter("pivot.netmask", "MASK", "its netmask (`${netmask}`)");
    public static final Parameter GATEWAY = new Parameter("pivot.gateway", "ADDRESS",
            "the default gateway, when the lease has one (`${gateway}`)");
    public static final Parameter DNS = new Parameter("pivot.dns", "ADDRESS",
            "the name server, when the lease has one (`${dns}`)");

    /**
     * The lease parameters as an iPXE script writes them: iPXE replaces each {@code ${…}} with its setting from the
     * DHCP exchange it just made (empty when unset), so stage 1 need not repeat that exchange.
     */
    public static final List<String> IPXE_LEASE = List.of(IP.is("${ip}"), NETMASK.is("${netmask}"),
            GATEWAY.is("${gateway}"), DNS.is("${dns}"));

    /** Every parameter the prelude reads, in the order the loaders write the ones Pivot sets. */
    public static final List<Parameter> PARAMETERS = List.of(URL, FALLBACK, MAC, TOKEN, ROOT, SHA256, SIZE, MODE, FETCH_STALL,
            FETCH_TRIES, NBD, VERITY, VERITY_TREE, SHELL, IP, NETMASK, GATEWAY, DNS);

    /** {@link #MODE}'s one value. */
    public static final String LAYOUT_MODE = "layout";

    /** The prelude's entry point: the kernel runs it from the initramfs when given {@code rdinit=} this. */
    public static final String RDINIT = "/pivot/init";
    /** The image's stage-2 init (the prelude's layout mode switch_roots to it). Not Pivot's, so no pivot. prefix. */
    public static final String INIT = "init";

    /** The prelude's files, as paths inside its cpio archive (no leading slash). */
    public static final String PRELUDE_DIR = "pivot";
    public static final String INIT_FILE = RDINIT.substring(1);
    public static final String BUSYBOX_FILE = PRELUDE_DIR + "/busybox";
    public static final String UDHCPC_SCRIPT_FILE = PRELUDE_DIR + "/udhcpc.script";
    /** Debian's nbd-client with the libraries it needs, run through their own dynamic loader (NBD transport). */
    public static final String NBD_DIR = PRELUDE_DIR + "/nbd";
    /** The NBD device the root image is attached to. */
    public static final String NBD_DEVICE = "/dev/nbd0";

    /** NIC drivers taken from the root image, under {@code RELEASE/} with their modules.dep and modules.alias. */
    public static final String MODULE_DIR = PRELUDE_DIR + "/modules";

    /**
     * Where the root image lands in the initramfs: the prelude fetches it there, NixOS's own stage 1 (and native
     * mode's cpio) has it there.
     */
    public static final String ROOT_IMAGE_FILE = "nix-store.squashfs";

    /** The steps stage 1 reports to {@code pivot.url/report}, in order; the wire names are {@link Step#wire()}. */
    public static final List<Step> REPORTED_STEPS = List.of(Step.STAGE1, Step.NETWORK, Step.ROOT_FETCHED,
            Step.HANDOVER);

    private Stage1Contract() {
    }

    /** The parameter called {@code name}, if the prelude reads one. */
    public static Optional<Parameter> parameter(String name) {
        return PARAMETERS.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** The {@code rdinit=} word that enters {@code init} from the initramfs. */
    public static String rdinit(String init) {
        return "rdinit=" + init;
    }
}
