package dev.pivot.boot;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The per-boot secret that lets a machine's own reports count: each script carries a fresh token (a random
 * nonce and an HMAC of the machine's MAC and that nonce under the server's key), on the kernel command line and
 * in its artifact URLs, and {@code /report} or a {@code ?mac=} event counts only with a token made for that MAC.
 * Nothing is stored per boot: a token proves itself, so a restart (the key lives in the state directory, or in the
 * database servers share) keeps every boot in flight able to report.
 */
public final class BootSecrets {

    /** Hex characters of the nonce and of the truncated HMAC. */
    private static final int NONCE_BYTES = 8;
    private static final int TAG_BYTES = 16;
    public static final int TOKEN_LENGTH = 2 * (NONCE_BYTES + TAG_BYTES);
    private static final HexFormat HEX = HexFormat.of();
    private static final int KEY_BYTES = 32;

    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();

    private BootSecrets(byte[] key) {
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    /** A key for this process only (tests; a restart invalidates every token). */
    public static BootSecrets ephemeral() {
        byte[] k = new byte[KEY_BYTES];
        new SecureRandom().nextBytes(k);
        return new BootSecrets(k);
    }

    /** The key kept in {@code file} (0600), made on first use. */
    public static BootSecrets fromFile(Path file) throws IOException {
        return of(keyInFile(file));
    }

    /** Under {@code key}, 32 bytes (the one servers sharing a database keep there). */
    public static BootSecrets of(byte[] key) {
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException("a boot key is " + KEY_BYTES + " bytes, not " + key.length);
        }
        return new BootSecrets(key.clone());
    }

    /** The 32 bytes kept in {@code file} (0600, 64 hex characters), made on first use. */
    public static byte[] keyInFile(Path file) throws IOException {
        if (!Files.exists(file)) {
            byte[] k = new byte[KEY_BYTES];
            new SecureRandom().nextBytes(k);
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, HEX.formatHex(k) + "\n");
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        }
        String text = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (!text.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException(file + ": a boot key is 64 hex characters; delete the file to make a"
                    + " new one");
        }
        return HEX.parseHex(text);
    }

    /** A new token for one boot of {@code mac}: 48 hex characters, safe on a kernel command line and in a URL. */
    public String issue(MacAddress mac) {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        return HEX.formatHex(nonce) + HEX.formatHex(tag(mac, nonce));
    }

    /** Whether {@code token} was issued by this server for {@code mac}; constant time in the tag. */
    public boolean verify(MacAddress mac, String token) {
        if (token == null || token.length() != TOKEN_LENGTH || !token.chars().allMatch(BootSecrets::isHex)) {
            return false;
        }
        byte[] nonce = HEX.parseHex(token, 0, 2 * NONCE_BYTES);
        byte[] given = HEX.parseHex(token, 2 * NONCE_BYTES, TOKEN_LENGTH);
        return MessageDigest.isEqual(tag(mac, nonce), given);
    }

    private static boolean isHex(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }

    private byte[] tag(MacAddress mac, byte[] nonce) {
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(key);
            hmac.update(mac.toString().getBytes(StandardCharsets.US_ASCII));
            hmac.update((byte) '/');
            byte[] full = hmac.doFinal(nonce);
            return java.util.Arrays.copyOf(full, TAG_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
