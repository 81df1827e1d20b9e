package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/**
 * Leases kept in a text file, so a restarted Pivot neither hands a live address to a second machine nor NAKs a
 * renewing client. One line per lease: {@code ADDRESS MAC EXPIRES(ISO-8601) STATE}; '#' starts a comment. The
 * file is rewritten whole (temp file + atomic rename) on every change: a boot network has tens of machines, not
 * millions.
 */
public final class FileLeaseStore implements LeaseStore {

    private final Path file;
    private final InMemoryLeaseStore leases = new InMemoryLeaseStore();

    /** Reads the file if it exists; a malformed line fails with the file, line number and what is wrong. */
    public FileLeaseStore(Path file) throws IOException {
        this.file = file;
        if (Files.exists(file)) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (!line.isEmpty() && !line.startsWith("#")) {
                    leases.put(parse(line, i + 1));
                }
            }
        }
    }

    private Lease parse(String line, int number) {
        String[] f = line.split("\\s+");
        try {
            if (f.length != 4) {
                throw new IllegalArgumentException("expected 'ADDRESS MAC EXPIRES STATE', got " + f.length + " fields");
            }
            return new Lease(Ipv4.parse(f[0]), MacAddress.parse(f[1]), Instant.parse(f[2]), Lease.State.valueOf(f[3]));
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw new IllegalArgumentException("lease file " + file + " line " + number + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<Lease> byMac(MacAddress mac) {
        return leases.byMac(mac);
    }

    @Override
    public Optional<Lease> byAddress(Inet4Address address) {
        return leases.byAddress(address);
    }

    @Override
    public void put(Lease lease) {
        leases.put(lease);
        save();
    }

    @Override
    public void remove(Inet4Address address) {
        leases.remove(address);
        save();
    }

    @Override
    public List<Lease> all() {
        return leases.all();
    }

    private void save() {
        StringBuilder text = new StringBuilder("# Pivot DHCP leases: address mac expires state\n");
        for (Lease l : leases.all()) {
            text.append(l.address().getHostAddress()).append(' ').append(l.mac()).append(' ')
                    .append(l.expires()).append(' ').append(l.state()).append('\n');
        }
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".leases", ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write lease file " + file + ": " + e.getMessage(), e);
        }
    }
}
