package dev.pivot.server;

import dev.pivot.api.ApiRoutes;
import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.AddressBook;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.EventSink;
import dev.pivot.boot.Generations;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.nbd.NbdConfig;
import dev.pivot.nbd.NbdExports;
import dev.pivot.nbd.NbdServer;
import dev.pivot.stage1.Stage1Contract;
import dev.pivot.stage1.Stage1Exception;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * With --root-transport nbd: the NBD server, exporting the root images the catalog serves, and their dm-verity trees.
 * It starts before the catalog is built, because every boot's kernel command line names its address and port; its
 * exports are looked up in the catalog once there is one.
 */
record NbdRoot(NbdServer server, RootVerity verity, int port) {

    /** Starts the NBD server and makes every generation, served now or imported later, name it; adds it to running. */
    static NbdRoot start(ServerConfig config, PivotServer.Endpoint where, ArtifactStore artifacts,
                         Optional<ServedImage> served, Supplier<ProfileCatalog> catalog, Generations generations,
                         AddressBook addresses, EventSink events, PrintStream out, List<AutoCloseable> running)
            throws IOException, Stage1Exception {
        RootVerity trees = new RootVerity(artifacts, config.state().resolve("verity"), out);
        NbdStage1 stage1 = NbdStage1.create(artifacts, out);
        NbdServer server = new NbdServer(NbdConfig.defaults(where.bind(), config.nbdPort()),
                rootImages(catalog, served.map(ServedImage::spec), artifacts, trees), addresses, events);
        server.start();
        running.add(server);
        int port = server.address().getPort();
        String nbdAt = where.address().getHostAddress() + ":" + port;
        // A kernel alone has no root. Stage 1's NBD client was packed above, once; each root image's dm-verity tree
        // and modules initrd are built here on first use (at start for what is served then), for whichever server
        // recorded the generation.
        generations.transport(spec -> stage1.of(spec)
                .map(more -> spec.withInitrds(more)
                        .withKernelArgs(nbdArgs(nbdAt, trees.of(spec.rootBoot().orElseThrow().rootImage()))))
                .orElse(spec));
        return new NbdRoot(server, trees, port);
    }

    /** The NBD port, when there is an NBD server. */
    static java.util.OptionalInt port(Optional<NbdRoot> nbd) {
        return nbd.map(n -> java.util.OptionalInt.of(n.port())).orElse(java.util.OptionalInt.empty());
    }

    /** The NBD server's counters on /metrics. */
    void gauges(ApiRoutes api) {
        api.gauge("pivot.nbd.connections", "NBD connections being served", server::connections)
                .gauge("pivot.nbd.read.bytes", "Bytes sent in NBD read replies", server::bytesRead)
                .gauge("pivot.nbd.reads", "NBD read requests answered", server::reads)
                .gauge("pivot.nbd.malformed", "NBD connections closed for breaking the protocol", server::malformed)
                .gauge("pivot.nbd.refused", "NBD connections refused: every slot taken", server::refused);
    }

    /**
     * The root images the catalog serves, each an NBD export named by its sha256, and their dm-verity trees (named
     * by theirs); the empty name is the served image's. Only these: the NBD port is no way to read kernels, initrds
     * or anything else in the store.
     */
    private static NbdExports rootImages(Supplier<ProfileCatalog> catalog, Optional<BootSpec> served,
                                         ArtifactStore artifacts, RootVerity verity) {
        return new NbdExports() {
            @Override
            public Optional<Export> find(String name) {
                String sha = name.isEmpty() ? served.flatMap(BootSpec::rootBoot)
                        .map(r -> r.rootImage().sha256()).orElse("") : name;
                return rootImages().filter(a -> a.sha256().equals(sha)).findFirst()
                        .or(() -> verity.tree(sha).map(RootVerity.Tree::tree))
                        .map(a -> new Export(a.sha256(), artifacts.path(a), a.size()));
            }

            @Override
            public List<String> names() {
                return Stream.concat(rootImages().map(Artifact::sha256), verity.treeHashes().stream()).distinct()
                        .sorted().toList();
            }

            private Stream<Artifact> rootImages() {
                ProfileCatalog c = catalog.get();
                Collection<BootSpec> specs = c != null ? c.allSpecs() : served.map(List::of).orElse(List.of());
                return specs.stream().flatMap(s -> s.rootBoot().stream()).map(BootSpec.RootBoot::rootImage);
            }
        };
    }

    /** Where stage 1 attaches the root image, and its dm-verity root hash and tree when it has one. */
    private static List<String> nbdArgs(String nbdAt, Optional<RootVerity.Tree> tree) {
        List<String> args = new ArrayList<>(List.of(Stage1Contract.NBD.is(nbdAt)));
        tree.ifPresent(t -> {
            args.add(Stage1Contract.VERITY.is(t.rootHash()));
            args.add(Stage1Contract.VERITY_TREE.is(t.tree().sha256()));
        });
        return args;
    }
}
