package dev.pivot.cli;

import dev.pivot.server.ServedImage;
import dev.pivot.boot.MacAddress;
import dev.pivot.loaders.KexecScript;
import dev.pivot.image.GenericImport;
import dev.pivot.image.NetbootImport;
import dev.pivot.image.NetbootIpxe;
import dev.pivot.server.StateDir;
import dev.pivot.stage1.Stage1Contract;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * `pivot image kexec DIR`: the exact kexec commands that boot an image from a running Linux, without firmware.
 * Without --server: the NixOS netboot build itself (its whole initrd, root image included), as NixOS's kexec-boot
 * does. With --server URL --mac MAC: Pivot's chain from a running `pivot serve` (stage 1 + prelude, the root image
 * fetched after boot), the same kernel command line the iPXE script gives.
 */
@Command(name = "kexec", mixinStandardHelpOptions = true,
        description = {"Print the kexec commands that boot the image in DIR from a running Linux.",
                "With --server and --mac: boot it through a running `pivot serve` (root image fetched after boot)."})
final class ImageKexecCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "a NixOS netboot build, or a generic image")
    Path dir;

    @Option(names = "--server", paramLabel = "URL", description = "the `pivot serve` HTTP address, e.g. http://10.0.0.1")
    String server;

    @Option(names = "--mac", paramLabel = "MAC", description = "the machine's MAC (as the server knows it); with --server")
    String mac;

    @Option(names = "--state", paramLabel = "DIR", description = "the state directory `pivot serve` uses; default a"
            + " temporary one (artifacts are content-addressed, so the hashes are the same)")
    Path state;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if ((server == null) != (mac == null)) {
            throw new IllegalArgumentException("--server and --mac go together");
        }
        boolean generic = GenericImport.isGeneric(dir);
        if (server == null) {
            if (generic) {
                throw new IllegalArgumentException(dir + ": a generic image has no stage 1 of its own to mount its"
                        + " root: give --server URL --mac MAC to boot it through pivot serve");
            }
            NetbootIpxe ipxe = NetbootIpxe.parse(dir.resolve(NetbootImport.SCRIPT));
            List<String> append = new ArrayList<>();
            append.add(Stage1Contract.INIT + "=" + ipxe.init());
            append.addAll(ipxe.kernelArgs());
            out.println(KexecScript.load(dir.toAbsolutePath().resolve(ipxe.kernel()).normalize().toString(),
                    dir.toAbsolutePath().resolve(ipxe.initrds().getFirst()).normalize().toString(), append));
            out.println("kexec -e");
            out.flush();
            return 0;
        }
        String base = server.replaceAll("/+$", "");
        if (!base.matches("https?://[^/\\s]+")) {
            throw new IllegalArgumentException("--server " + server + ": expected http://HOST[:PORT]");
        }
        MacAddress machine = MacAddress.parse(mac);
        // The same artifacts `pivot serve` builds for this image (content-addressed: the same sha256s).
        return StateDir.withArtifacts(state, "pivot-kexec-", store -> {
            PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
            Optional<ServedImage> served = ServedImage.prepare(new dev.pivot.boot.BootSource.ImageDir(dir), "", store, new ServedImage.Options(
                    dev.pivot.server.ServerConfig.Stage1Mode.PRELUDE, null, false, java.util.OptionalLong.empty(), quiet,
                    spec.commandLine().getErr(), dev.pivot.server.ServerConfig.RootTransport.HTTP));
            if (served.isEmpty()) {
                return 2;
            }
            KexecScript.throughServer(served.get().spec(), base, machine).forEach(out::println);
            out.flush();
            return 0;
        });
    }
}
