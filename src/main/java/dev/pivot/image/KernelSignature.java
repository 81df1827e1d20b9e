package dev.pivot.image;

import dev.pivot.format.FileSlice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Whether a kernel will boot under UEFI Secure Boot through Pivot's chain (shim, Debian's, which trusts Debian's
 * Secure Boot CA; plus whatever the machine's MOK list and firmware db hold), read from the kernel's PE/COFF
 * Authenticode signature: the certificate table (data directory 4) holds WIN_CERTIFICATE entries of PKCS#7
 * SignedData, whose signer is named by issuer and serial number. Only names are read; nothing is verified here (the
 * firmware and shim do that at boot).
 *
 * @param pe      the kernel is a PE/COFF image (an x86 bzImage with the EFI stub, an arm64 Image with it)
 * @param signers one per signature: the signing certificate's subject and issuer common names
 */
public record KernelSignature(boolean pe, List<Signer> signers) {

    /** The CA whose signatures Debian's shim trusts without a MOK (its built-in vendor certificate). */
    public static final String DEBIAN_CA = "Debian Secure Boot CA";

    /** @param subject the signing certificate's CN ("Debian Secure Boot Signer 2022 - linux"); issuer likewise */
    public record Signer(String subject, String issuer) {
    }

    /** The largest certificate table read: real ones are a few KiB. */
    private static final int MAX_TABLE = 1 << 20;

    public KernelSignature {
        signers = List.copyOf(signers);
    }

    public boolean signed() {
        return !signers.isEmpty();
    }

    /** Signed under Debian's CA: Pivot's shim starts it with no MOK. */
    public boolean trustedByPivotsShim() {
        return signers.stream().anyMatch(s -> DEBIAN_CA.equals(s.issuer()) || DEBIAN_CA.equals(s.subject()));
    }

    /** One line: will it boot under Secure Boot, signed by whom. */
    public String verdict() {
        if (!pe) {
            return "not an EFI (PE/COFF) image: Secure Boot machines cannot start it";
        }
        if (!signed()) {
            return "not signed: Secure Boot machines refuse it (shim checks the kernel GRUB loads)";
        }
        String by = String.join("; ", signers.stream().map(s -> s.subject() + " (issued by " + s.issuer() + ")")
                .toList());
        return trustedByPivotsShim() ? "signed by " + by + ": boots under Secure Boot through Pivot's shim"
                : "signed by " + by + ": boots under Secure Boot only where that certificate is trusted (a MOK or"
                + " the firmware's db)";
    }

    /** What the user must do when {@link #trustedByPivotsShim()} is false; empty when nothing. */
    public Optional<String> advice() {
        if (trustedByPivotsShim()) {
            return Optional.empty();
        }
        return Optional.of("for Secure Boot machines: use a distro-signed kernel (Debian's linux-image-* is), or sign"
                + " this one (sbsign --key KEY --cert CERT bzImage) and enroll CERT on each machine as a MOK"
                + " (mokutil --import CERT.der, confirmed at the next boot in MokManager); see docs/secure-boot.md");
    }

    /** Reads the signature of a kernel file; a file that is no PE image gives {@code pe=false}. */
    public static KernelSignature read(Path kernel) throws IOException {
        try (FileChannel ch = FileChannel.open(kernel, StandardOpenOption.READ)) {
            long size = ch.size();
            byte[] dos = FileSlice.readAt(ch, 0, 0x40);
            if (dos.length < 0x40 || dos[0] != 'M' || dos[1] != 'Z') {
                return new KernelSignature(false, List.of());
            }
            long peOffset = le(dos, 0x3c) & 0xffffffffL;
            byte[] head = FileSlice.readAt(ch, peOffset, 24 + 240);
            if (peOffset + 24 > size || head.length < 24 + 2 || head[0] != 'P' || head[1] != 'E' || head[2] != 0
                    || head[3] != 0) {
                return new KernelSignature(false, List.of());
            }
            int magic = u16(head, 24);
            int dirs = switch (magic) {
                case 0x20b -> 24 + 112; // PE32+
                case 0x10b -> 24 + 96;  // PE32
                default -> -1;
            };
            int countAt = dirs - 4;
            if (dirs < 0 || head.length < dirs + 5 * 8 || (le(head, countAt) & 0xffffffffL) < 5) {
                return new KernelSignature(true, List.of());
            }
            long tableOffset = le(head, dirs + 4 * 8) & 0xffffffffL;
            long tableSize = le(head, dirs + 4 * 8 + 4) & 0xffffffffL;
            if (tableOffset == 0 || tableSize == 0 || tableSize > MAX_TABLE || tableOffset + tableSize > size) {
                return new KernelSignature(true, List.of());
            }
            byte[] table = FileSlice.readAt(ch, tableOffset, (int) tableSize);
            List<Signer> signers = new ArrayList<>();
            int at = 0;
            while (at + 8 <= table.length) {
                long length = le(table, at) & 0xffffffffL;
                int type = u16(table, at + 6);
                if (length < 8 || at + length > table.length) {
                    break;
                }
                if (type == 0x0002) { // WIN_CERT_TYPE_PKCS_SIGNED_DATA
                    try {
                        signers.addAll(Pkcs7.signers(table, at + 8, (int) (at + length)));
                    } catch (RuntimeException malformed) {
                        signers.add(new Signer("(unreadable signature)", "(unreadable)"));
                    }
                }
                at += (int) ((length + 7) & ~7L);
            }
            return new KernelSignature(true, signers);
        }
    }

    private static int le(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
    }

    /** Just enough DER to name the signers of a PKCS#7 SignedData. */
    static final class Pkcs7 {

        private record Tlv(int tag, int start, int end) {
            List<Tlv> children(byte[] b) {
                List<Tlv> out = new ArrayList<>();
                int at = start;
                while (at < end) {
                    Tlv t = read(b, at, end);
                    out.add(t);
                    at = t.end;
                }
                return out;
            }
        }

        private static Tlv read(byte[] b, int at, int limit) {
            int tag = b[at] & 0xff;
            int lenByte = b[at + 1] & 0xff;
            int header = 2;
            long len;
            if (lenByte < 0x80) {
                len = lenByte;
            } else {
                int n = lenByte & 0x7f;
                if (n == 0 || n > 4) {
                    throw new IllegalArgumentException("DER length of " + n + " bytes");
                }
                len = 0;
                for (int i = 0; i < n; i++) {
                    len = len << 8 | (b[at + 2 + i] & 0xff);
                }
                header += n;
            }
            long end = at + header + len;
            if (end > limit) {
                throw new IllegalArgumentException("DER value past its container");
            }
            return new Tlv(tag, at + header, (int) end);
        }

        static List<Signer> signers(byte[] b, int from, int to) {
            Tlv contentInfo = read(b, from, to);
            List<Tlv> ci = contentInfo.children(b);
            Tlv signedData = ci.get(1).children(b).getFirst(); // [0] EXPLICIT SignedData
            List<Tlv> sd = signedData.children(b);
            List<Tlv> certificates = new ArrayList<>();
            Tlv signerInfos = sd.getLast();
            for (Tlv t : sd) {
                if (t.tag == 0xA0) {
                    certificates.addAll(t.children(b));
                }
            }
            List<Signer> out = new ArrayList<>();
            for (Tlv si : signerInfos.children(b)) {
                Tlv issuerAndSerial = si.children(b).get(1);
                List<Tlv> is = issuerAndSerial.children(b);
                String issuer = commonName(b, is.get(0));
                byte[] serial = java.util.Arrays.copyOfRange(b, is.get(1).start, is.get(1).end);
                String subject = "(certificate not included)";
                for (Tlv cert : certificates) {
                    List<Tlv> tbs = cert.children(b).getFirst().children(b);
                    int i = tbs.getFirst().tag == 0xA0 ? 1 : 0; // [0] version
                    Tlv certSerial = tbs.get(i);
                    if (java.util.Arrays.equals(serial, java.util.Arrays.copyOfRange(b, certSerial.start,
                            certSerial.end))) {
                        subject = commonName(b, tbs.get(i + 4));
                    }
                }
                out.add(new Signer(subject, issuer));
            }
            return out;
        }

        /** The CN of an X.500 Name (SEQUENCE of SET of SEQUENCE { OID, value }); the whole name's text if none. */
        private static String commonName(byte[] b, Tlv name) {
            List<String> parts = new ArrayList<>();
            for (Tlv rdn : name.children(b)) {
                for (Tlv atv : rdn.children(b)) {
                    List<Tlv> kv = atv.children(b);
                    byte[] oid = java.util.Arrays.copyOfRange(b, kv.get(0).start, kv.get(0).end);
                    String value = new String(b, kv.get(1).start, kv.get(1).end - kv.get(1).start,
                            StandardCharsets.UTF_8);
                    if (java.util.Arrays.equals(oid, new byte[]{0x55, 0x04, 0x03})) {
                        return value;
                    }
                    parts.add(value);
                }
            }
            return String.join(", ", parts);
        }
    }
}
