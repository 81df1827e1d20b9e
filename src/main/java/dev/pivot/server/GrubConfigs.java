package dev.pivot.server;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.ArtifactSource;
import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.BootSecrets;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.EventSink;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
import dev.pivot.loaders.GrubConfig;
import dev.pivot.loaders.Routes;
import dev.pivot.tftp.TftpContent;
import dev.pivot.tftp.TftpFiles;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GRUB's files over TFTP, for Debian's signed network GRUB (the one shim starts, Secure Boot on or off), which finds
 * its prefix on the TFTP server it came from: {@code grub/grub.cfg} (the same for every machine) and
 * {@code grub/machine/<mac>.cfg} (this boot's config, with its secret, recorded as the script step).
 *
 * <p>The kernel and initrds that config names come over HTTP from this server's address (as iPXE's do, the same HTTP
 * steps) when the GRUB served has the http module (Debian 13's 2.12), with TFTP as the last fallback; Debian 12's 2.06
 * has no http module, so for it they come by TFTP: {@code artifacts/<sha256>/<name>} streamed from the artifact store, only for artifacts the asking machine
 * boots. Stage 1 fetches the root image over HTTP either way.
 */
final class GrubConfigs implements TftpFiles.Generator {

    private static final Pattern ARTIFACT = Pattern.compile(Pattern.quote(Routes.ARTIFACTS.substring(1))
            + "([0-9a-f]{64})/([A-Za-z0-9._+-]{1,255})");

    private final BootCatalog catalog;
    private final ArtifactSource artifacts;
    private final AddressBook addresses;
    private final EventSink events;
    private final BootSecrets secrets;
    private final String baseUrl;
    private final String tftpServer;
    private final boolean overHttp;
    private final byte[] bootstrap = GrubConfig.bootstrap().getBytes(StandardCharsets.UTF_8);
    /** The other live servers' base URLs (same build): GRUB tries them after this one. None by default. */
    private volatile java.util.function.Supplier<java.util.List<String>> peers = java.util.List::of;

    /**
     * @param baseUrl    the HTTP server as machines reach it (stage 1's root image and reports)
     * @param tftpServer this server's address as machines reach it over TFTP
     * @param overHttp   whether the GRUB served loads kernel and initrds over HTTP ({@link UefiLoaders#grubOverHttp})
     */
    GrubConfigs(BootCatalog catalog, ArtifactSource artifacts, AddressBook addresses, EventSink events,
                BootSecrets secrets, String baseUrl, String tftpServer, boolean overHttp) {
        this.catalog = catalog;
        this.artifacts = artifacts;
        this.addresses = addresses;
        this.events = events;
        this.secrets = secrets;
        this.baseUrl = baseUrl;
        this.tftpServer = tftpServer;
        this.overHttp = overHttp;
    }

    void peers(java.util.function.Supplier<java.util.List<String>> peers) {
        this.peers = peers;
    }

    @Override
    public Optional<byte[]> generate(String name, InetAddress client) {
        if (name.equals(Routes.GRUB_BOOTSTRAP.substring(1))) {
            return Optional.of(bootstrap.clone());
        }
        Optional<MacAddress> asked = GrubConfig.machine("/" + name);
        if (asked.isEmpty()) {
            return Optional.empty();
        }
        MacAddress mac = asked.get();
        Optional<BootSpec> spec = catalog.specFor(mac);
        byte[] config = (spec.isPresent()
                ? (overHttp ? overHttp(spec.get(), mac) : overTftp(spec.get(), mac))
                : GrubConfig.noImage(mac)).getBytes(StandardCharsets.UTF_8);
        events.emit(spec.isPresent()
                ? BootEvent.ok(mac, Step.SCRIPT, "grub.cfg", config.length).withFile("grub.cfg")
                : BootEvent.failed(mac, Step.SCRIPT, "no image assigned to this MAC"));
        return Optional.of(config);
    }

    /**
     * Over HTTP from this server, then from each live peer that serves HTTP at the root of an IP address; then over
     * TFTP from the same, in the same order ({@link GrubConfig#overHttpThenTftp} says why). All by the address the
     * server reaches machines at, never a Host header (TFTP has none, and the config's URLs must not be a client's to
     * choose).
     */
    private String overHttp(BootSpec spec, MacAddress mac) {
        Servers servers = servers(uri -> "http".equals(uri.getScheme())
                && (uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/")));
        return GrubConfig.overHttpThenTftp(spec, servers.urls(), servers.tftp(), mac, Optional.of(secrets.issue(mac)));
    }

    /** This server first, then each live peer whose base URL names an IP address (its TFTP server). */
    private String overTftp(BootSpec spec, MacAddress mac) {
        Servers servers = servers(uri -> true);
        return GrubConfig.overTftp(spec, servers.urls(), servers.tftp(), mac, Optional.of(secrets.issue(mac)));
    }

    /** Base URLs and the TFTP addresses of the same servers, in the same order: this server first. */
    private record Servers(java.util.List<String> urls, java.util.List<String> tftp) {
    }

    /** This server, then each live peer whose base URL names an IP address and that {@code usable} accepts. */
    private Servers servers(java.util.function.Predicate<java.net.URI> usable) {
        java.util.List<String> urls = new java.util.ArrayList<>(java.util.List.of(baseUrl));
        java.util.List<String> tftp = new java.util.ArrayList<>(java.util.List.of(tftpServer));
        for (String peer : peers.get()) {
            java.net.URI uri = java.net.URI.create(peer);
            String host = uri.getHost();
            if (host != null && host.matches("[0-9.]+") && !urls.contains(peer) && usable.test(uri)) {
                urls.add(peer);
                tftp.add(host);
            }
        }
        return new Servers(urls, tftp);
    }

    /** shim's optional files beside itself; GRUB's module and locale lists under its prefix (all built in). */
    private static final java.util.Set<String> SHIM_PROBES = java.util.Set.of("revocations_sku.efi",
            "revocations_sbat.efi", "shim_certificate_0.efi");

    @Override
    public boolean probe(String name) {
        return SHIM_PROBES.contains(name) || name.matches("grub/x86_64-efi/[a-z]+\\.lst") || name.startsWith("grub/locale/");
    }

    @Override
    public Optional<TftpContent> content(String name, InetAddress client) {
        Matcher m = ARTIFACT.matcher(name);
        if (!m.matches()) {
            return generate(name, client).map(TftpContent.MemoryContent::new);
        }
        // Only what the asking machine boots: the store is not for anyone on the LAN to browse by hash.
        Optional<Artifact> artifact = addresses.macOf(client).flatMap(catalog::specFor).flatMap(spec -> spec
                .artifacts().stream().filter(a -> a.sha256().equals(m.group(1)) && a.name().equals(m.group(2)))
                .findFirst());
        return artifact.map(a -> new TftpContent.FileContent(artifacts.path(a), a.size()));
    }
}
