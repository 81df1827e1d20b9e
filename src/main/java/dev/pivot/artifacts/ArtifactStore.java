package dev.pivot.artifacts;

import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.ArtifactSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Content-addressed artifacts under {@code root/objects/}: the bytes in {@code <sha256>}, the name in
 * {@code <sha256>.name}. A write goes to a temp file in the same directory while being hashed, then is moved into
 * place atomically, so a reader sees an artifact whole or not at all, and a crash leaves only a temp file. The hash
 * is the file name: it is computed once, at import.
 */
public final class ArtifactStore implements ArtifactSource {

    /** Writes an artifact's content. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    private static final String TEMP_PREFIX = ".incoming-";

    private final Path objects;
    private final Map<String, Artifact> known = new ConcurrentHashMap<>();
    /** Stores hold it shared, {@link #collect} exclusively. */
    private final ReentrantReadWriteLock collecting = new ReentrantReadWriteLock();

    private ArtifactStore(Path objects) {
        this.objects = objects;
    }

    /** Opens (creating if needed) the store under {@code root}. */
    public static ArtifactStore open(Path root) throws IOException {
        Path objects = root.resolve("objects");
        Files.createDirectories(objects);
        return new ArtifactStore(objects);
    }

    public Artifact put(InputStream in, String name) throws IOException {
        return write(name, false, in::transferTo);
    }

    /** Like {@link #put} but zero-pads to a multiple of 4 bytes, as the EFI stub's initrd concatenation needs. */
    public Artifact putPadded4(InputStream in, String name) throws IOException {
        return write(name, true, in::transferTo);
    }

    /**
     * Stores {@code in}'s bytes as {@code expected} (fetched from elsewhere by its sha256): they must be exactly its
     * size and sha256, or nothing is stored and the error says what came instead. Reads at most one byte more.
     */
    public Artifact putExpected(InputStream in, Artifact expected) throws IOException {
        return write(expected.name(), false, out -> {
            byte[] buffer = new byte[1 << 16];
            long left = expected.size() + 1;
            int n;
            while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) {
                out.write(buffer, 0, n);
                left -= n;
            }
        }, java.util.Optional.of(expected));
    }

    /**
     * Stores what {@code content} writes. Idempotent: storing the same bytes again returns the same artifact and
     * leaves the stored bytes untouched (only their time, which says they are still in use).
     */
    public Artifact write(String name, boolean padTo4, Content content) throws IOException {
        return write(name, padTo4, content, java.util.Optional.empty());
    }

    private Artifact write(String name, boolean padTo4, Content content, java.util.Optional<Artifact> expected)
            throws IOException {
        checkName(name);
        Path temp = Files.createTempFile(objects, TEMP_PREFIX, ".tmp");
        try {
            MessageDigest sha256 = sha256();
            long size;
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                CountingOutputStream counting = new CountingOutputStream(
                        new DigestOutputStream(Channels.newOutputStream(channel), sha256));
                content.writeTo(counting);
                int padding = padTo4 ? (int) ((4 - (counting.count & 3)) & 3) : 0;
                counting.write(new byte[padding]);
                counting.flush();
                size = counting.count;
                channel.force(true);
            }
            String hash = HexFormat.of().formatHex(sha256.digest());
            if (expected.isPresent() && (size != expected.get().size() || !hash.equals(expected.get().sha256()))) {
                throw new IOException(name + ": expected " + expected.get().size() + " bytes of sha256 "
                        + expected.get().sha256() + ", got " + (size > expected.get().size() ? "more" : size
                        + " bytes of sha256 " + hash) + "; not stored");
            }
            Artifact artifact = new Artifact(hash, size, name);
            Path target = objects.resolve(hash);
            collecting.readLock().lock();
            try {
                storeOrTouch(temp, target, hash, name);
            } finally {
                collecting.readLock().unlock();
            }
            known.putIfAbsent(hash, new Artifact(hash, size, storedName(hash).orElse(name)));
            return artifact;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Moves the new object into place, or, when those bytes are stored already, marks the stored one as used now:
     * {@link #collect} removes only objects nothing imported for a while.
     */
    private void storeOrTouch(Path temp, Path target, String hash, String name) throws IOException {
        if (Files.exists(target)) {
            Files.delete(temp);
            Files.setLastModifiedTime(target, FileTime.from(Instant.now()));
        } else {
            writeName(hash, name);
            // Read-only: an artifact never changes once stored (servers hand out its ETag forever).
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("r--r--r--"));
            moveAtomically(temp, target);
        }
    }

    /** What {@link #collect} removed. */
    public record Collected(int objects, long bytes, int kept) {
    }

    /**
     * Removes every object whose hash is not in {@code keep} and that was last stored or re-imported before
     * {@code cutoff} (with its name file). Imports wait while it runs, so an object being stored again is never
     * removed under it.
     */
    public Collected collect(Set<String> keep, Instant cutoff) throws IOException {
        collecting.writeLock().lock();
        try (var entries = Files.list(objects)) {
            int removed = 0;
            int kept = 0;
            long bytes = 0;
            for (Path object : entries.toList()) {
                String hash = object.getFileName().toString();
                if (!hash.matches("[0-9a-f]{64}")) {
                    continue; // name files go with their object; temp files belong to a write in progress
                }
                if (keep.contains(hash) || Files.getLastModifiedTime(object).toInstant().isAfter(cutoff)) {
                    kept++;
                    continue;
                }
                long size = Files.size(object);
                Files.deleteIfExists(objects.resolve(hash + ".name"));
                Files.delete(object);
                known.remove(hash);
                removed++;
                bytes += size;
            }
            return new Collected(removed, bytes, kept);
        } finally {
            collecting.writeLock().unlock();
        }
    }

    @Override
    public Optional<Artifact> find(String sha256) {
        if (!sha256.matches("[0-9a-f]{64}")) {
            return Optional.empty();
        }
        Artifact cached = known.get(sha256);
        if (cached != null) {
            return Optional.of(cached);
        }
        Path object = objects.resolve(sha256);
        try {
            long size = Files.size(object);
            Artifact artifact = new Artifact(sha256, size, storedName(sha256).orElse(sha256));
            known.putIfAbsent(sha256, artifact);
            return Optional.of(artifact);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public Path path(Artifact artifact) {
        return objects.resolve(artifact.sha256());
    }

    private Optional<String> storedName(String hash) {
        try {
            return Optional.of(Files.readString(objects.resolve(hash + ".name"), StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The first name an object was stored under is kept; the same bytes under another name reuse the object. */
    private void writeName(String hash, String name) throws IOException {
        Path nameFile = objects.resolve(hash + ".name");
        if (Files.exists(nameFile)) {
            return;
        }
        Path temp = Files.createTempFile(objects, TEMP_PREFIX, ".tmp");
        try {
            Files.writeString(temp, name + "\n", StandardCharsets.UTF_8);
            moveAtomically(temp, nameFile);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            // Another writer stored the same content first: same bytes, nothing to do.
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException(to.getParent() + ": the file system cannot move files atomically", e);
        }
    }

    private static void checkName(String name) {
        if (name.isEmpty() || name.contains("/") || name.contains("\n") || name.startsWith(".")) {
            throw new IllegalArgumentException("bad artifact name: \"" + name + "\"");
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
