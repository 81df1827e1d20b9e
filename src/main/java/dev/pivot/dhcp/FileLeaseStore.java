package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/**
 * Leases kept in a text file, so a restarted (even SIGKILLed) Pivot neither hands a live address to a second
 * machine nor NAKs a renewing client.
 *
 * <p>The file is a journal: one line per change, later lines win. {@code ADDRESS MAC EXPIRES(ISO-8601) STATE}
 * stores a lease, {@code - ADDRESS} removes one, '#' starts a comment. Changes are kept in memory and written
 * and made durable by {@link #sync()} (one write and one fsync for every change since the last one: the server
 * calls it once per batch of replies, before sending them: group commit), so the receive loop never waits for the
 * disk, not even for a write that the filesystem's journal holds up. The journal is compacted (whole file written to a temp file,
 * fsynced, atomically renamed over the old one, directory fsynced) on open and whenever it grows past twice the
 * number of live leases, so it stays small and an appended line never rewrites the world.
 *
 * <p>That compaction runs inside {@link #sync()}, on the thread that groups the fsyncs, and writes its snapshot
 * outside the lock: the receive loop keeps appending meanwhile (those lines also go to the new file before it
 * replaces the old one). Done inside an append, it stalled the receive loop for the whole rewrite and two fsyncs,
 * every 4096 lines: with 50,000 leases that was the 200 ms pauses and the drops bench/dhcp-vs-peers.sh showed.
 */
public final class FileLeaseStore implements LeaseStore, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FileLeaseStore.class);
    private static final String HEADER = "# Pivot DHCP leases (journal, later lines win): address mac expires state\n";
    /** Compact once the journal holds this many lines more than there are live leases. */
    private static final int COMPACT_SLACK = 4096;

    private final Path file;
    private final InMemoryLeaseStore leases = new InMemoryLeaseStore();
    private FileChannel journal;
    /** Lines appended since the last {@link #sync()}: the receive loop never writes to the disk itself. */
    private StringBuilder pending = new StringBuilder();
    private int journalLines;
    /** A change since the last fsync that must survive a crash (OFFERs need not: a lost hold is harmless). */
    private boolean durableChangePending;
    /** The journal outgrew the live leases: the next {@link #sync()} compacts it. */
    private boolean compactDue;
    /** While a compaction writes its snapshot: the lines appended since, for the new file. Null otherwise. */
    private StringBuilder compactionTail;
    private int compactionTailLines;

    /** Reads the file if it exists; a malformed line fails with the file, line number and what is wrong, except a
     * torn last line (no newline: the crash came mid-append, before its fsync, so no reply promised it). */
    public FileLeaseStore(Path file) throws IOException {
        this.file = file.toAbsolutePath();
        if (Files.exists(file)) {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            List<String> lines = text.lines().toList();
            boolean tornTail = !text.isEmpty() && !text.endsWith("\n");
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                try {
                    apply(line, i + 1);
                } catch (IllegalArgumentException e) {
                    if (tornTail && i == lines.size() - 1) {
                        log.warn("lease file {}: ignoring torn last line {} ({})", file, i + 1, e.getMessage());
                    } else {
                        throw e;
                    }
                }
            }
        }
        compact();
    }

    private void apply(String line, int number) {
        String[] f = line.split("\\s+");
        try {
            if (f.length == 2 && f[0].equals("-")) {
                leases.remove(Ipv4.parse(f[1]));
                return;
            }
            if (f.length != 4) {
                throw new IllegalArgumentException("expected 'ADDRESS MAC EXPIRES STATE' or '- ADDRESS', got "
                        + f.length + " fields");
            }
            leases.put(new Lease(Ipv4.parse(f[0]), MacAddress.parse(f[1]), Instant.parse(f[2]),
                    Lease.State.valueOf(f[3])));
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw new IllegalArgumentException("lease file " + file + " line " + number + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized Optional<Lease> byMac(MacAddress mac) {
        return leases.byMac(mac);
    }

    @Override
    public synchronized Optional<Lease> byAddress(Inet4Address address) {
        return leases.byAddress(address);
    }

    @Override
    public synchronized void put(Lease lease) {
        leases.put(lease);
        append(line(lease), lease.state() != Lease.State.OFFERED);
    }

    @Override
    public synchronized void remove(Inet4Address address) {
        if (leases.byAddress(address).isPresent()) {
            leases.remove(address);
            append("- " + address.getHostAddress() + "\n", true);
        }
    }

    @Override
    public synchronized List<Lease> all() {
        return leases.all();
    }

    /** One fsync for every change appended since the last call; a no-op when nothing durable changed. The fsync
     * runs outside the lock: the receive loop keeps appending (and answering) while the disk catches up, instead of
     * stalling for the fsync's whole latency (10-100 ms on a busy disk) with packets piling up in the socket. */
    @Override
    public void sync() {
        compactIfDue();
        FileChannel channel;
        String text;
        boolean durable;
        synchronized (this) {
            durable = durableChangePending;
            if (!durable && pending.isEmpty()) {
                return;
            }
            durableChangePending = false;
            channel = journal;
            text = pending.toString();
            pending = new StringBuilder();
        }
        try {
            write(channel, text);
            if (durable) {
                channel.force(false);
            }
        } catch (java.nio.channels.ClosedChannelException e) {
            synchronized (this) {
                if (channel == journal) {
                    pending.insert(0, text);
                    durableChangePending = true;
                    throw new UncheckedIOException("lease file " + file + " closed before its fsync", e);
                }
                // Compacted meanwhile: the new file was fsynced whole, with everything the old one held.
            }
        } catch (IOException e) {
            synchronized (this) {
                // Nothing of it counts as written: kept for the next try, and the next sync rewrites the file from
                // memory, so a line the failed write may have torn never sits in the middle of the journal.
                pending.insert(0, text);
                durableChangePending = true;
                compactDue = true;
            }
            throw new UncheckedIOException("cannot write lease file " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            sync();
            journal.close();
        } catch (IOException e) {
            log.warn("closing lease file {}: {}", file, e.getMessage());
        }
    }

    private void append(String line, boolean durable) {
        {
            pending.append(line);
            journalLines++;
            durableChangePending |= durable;
            if (compactionTail != null) {
                compactionTail.append(line);
                compactionTailLines++;
            }
            if (journalLines > 2L * leases.size() + COMPACT_SLACK) {
                compactDue = true;
            }
        }
    }

    private static String line(Lease l) {
        return l.address().getHostAddress() + ' ' + l.mac() + ' ' + l.expires() + ' ' + l.state() + '\n';
    }

    /**
     * The compaction {@link #sync()} does when one is due: the snapshot is written and fsynced outside the lock,
     * then, under it, the lines appended meanwhile are added and fsynced, the file renamed over the journal and the
     * directory fsynced. Replies wait for this sync, so a lease promised after the snapshot is in the new file.
     * On failure the old journal is untouched and still appended to; the next sync tries again.
     */
    private void compactIfDue() {
        List<Lease> live;
        synchronized (this) {
            if (!compactDue || journal == null) {
                return;
            }
            compactDue = false;
            live = leases.all();
            compactionTail = new StringBuilder();
            compactionTailLines = 0;
        }
        Path tmp = null;
        try {
            tmp = Files.createTempFile(file.getParent(), ".leases", ".tmp");
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                write(out, render(live));
                out.force(true);
                synchronized (this) {
                    write(out, compactionTail.toString());
                    out.force(true);
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    tmp = null;
                    fsyncDirectory();
                    journal.close();
                    journal = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
                    journalLines = live.size() + compactionTailLines;
                    durableChangePending = false;
                    pending = new StringBuilder(); // the snapshot and the tail hold it all
                }
            }
        } catch (IOException e) {
            log.warn("lease file {}: compaction failed, the journal keeps growing until the next try: {}", file,
                    e.getMessage());
        } finally {
            synchronized (this) {
                compactionTail = null;
            }
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    log.debug("removing {}: {}", tmp, e.getMessage());
                }
            }
        }
    }

    private static String render(List<Lease> live) {
        StringBuilder text = new StringBuilder(HEADER.length() + 64 * live.size()).append(HEADER);
        for (Lease l : live) {
            text.append(line(l));
        }
        return text.toString();
    }

    private static void write(FileChannel out, String text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
            out.write(bytes);
        }
    }

    private void fsyncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Rewrites the journal as one line per live lease: temp file, fsync, atomic rename, fsync of the directory
     * (without that last one the rename itself may not survive a power cut). On open and close only. */
    private void compact() {
        String text = render(leases.all());
        Path dir = file.getParent();
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".leases", ".tmp");
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                write(out, text);
                out.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory();
            if (journal != null) {
                journal.close();
            }
            journal = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            journalLines = leases.size();
            durableChangePending = false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write lease file " + file + ": " + e.getMessage(), e);
        }
    }
}
