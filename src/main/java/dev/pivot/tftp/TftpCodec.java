package dev.pivot.tftp;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Encodes and decodes TFTP packets (RFC 1350, 2347). Decoding never trusts the peer: every flaw is reported. */
public final class TftpCodec {

    /** Largest datagram a TFTP peer can send us: 4-byte DATA header + the largest block size of RFC 2348. */
    public static final int MAX_PACKET = 4 + 65464;

    private TftpCodec() { }

    public static TftpPacket decode(byte[] bytes, int length) throws MalformedPacketException {
        if (length < 2) {
            throw new MalformedPacketException("packet of " + length + " bytes is shorter than an opcode");
        }
        int opcode = u16(bytes, 0);
        return switch (opcode) {
            case TftpPacket.RRQ, TftpPacket.WRQ -> decodeRequest(opcode, bytes, length);
            case TftpPacket.DATA -> {
                requireLength(bytes, length, 4, "DATA");
                byte[] payload = java.util.Arrays.copyOfRange(bytes, 4, length);
                yield new TftpPacket.Data(u16(bytes, 2), payload);
            }
            case TftpPacket.ACK -> {
                requireLength(bytes, length, 4, "ACK");
                yield new TftpPacket.Ack(u16(bytes, 2));
            }
            case TftpPacket.ERROR -> {
                requireLength(bytes, length, 4, "ERROR");
                // Some peers omit the message's terminating NUL; accept that, it is harmless.
                List<String> strings = strings(bytes, 4, length, false);
                yield new TftpPacket.Error(u16(bytes, 2), strings.isEmpty() ? "" : strings.getFirst());
            }
            case TftpPacket.OACK -> new TftpPacket.OptionAck(options(strings(bytes, 2, length, true), 0));
            default -> throw new MalformedPacketException("unknown opcode " + opcode);
        };
    }

    private static TftpPacket decodeRequest(int opcode, byte[] bytes, int length) throws MalformedPacketException {
        List<String> strings = strings(bytes, 2, length, true);
        if (strings.size() < 2) {
            throw new MalformedPacketException("request without filename and mode");
        }
        String filename = strings.get(0);
        if (filename.isEmpty()) {
            throw new MalformedPacketException("request with an empty filename");
        }
        String mode = strings.get(1).toLowerCase(Locale.ROOT);
        Map<String, String> options = options(strings, 2);
        return opcode == TftpPacket.RRQ
                ? new TftpPacket.ReadRequest(filename, mode, options)
                : new TftpPacket.WriteRequest(filename, mode, options);
    }

    /** Name/value pairs from {@code from} on. A dangling name is dropped; the first of a repeated name wins. */
    private static Map<String, String> options(List<String> strings, int from) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = from; i + 1 < strings.size(); i += 2) {
            options.putIfAbsent(strings.get(i).toLowerCase(Locale.ROOT), strings.get(i + 1));
        }
        return options;
    }

    /** NUL-terminated strings from {@code start}; with {@code strict}, trailing bytes without NUL are an error. */
    private static List<String> strings(byte[] bytes, int start, int length, boolean strict)
            throws MalformedPacketException {
        List<String> strings = new ArrayList<>();
        int from = start;
        for (int i = start; i < length; i++) {
            if (bytes[i] == 0) {
                // ISO-8859-1 maps every byte to one char, so odd bytes survive to the path checks unchanged.
                strings.add(new String(bytes, from, i - from, StandardCharsets.ISO_8859_1));
                from = i + 1;
            }
        }
        if (from < length) {
            if (strict) {
                throw new MalformedPacketException("string at offset " + from + " is not NUL-terminated");
            }
            strings.add(new String(bytes, from, length - from, StandardCharsets.ISO_8859_1));
        }
        return strings;
    }

    private static void requireLength(byte[] bytes, int length, int min, String what) throws MalformedPacketException {
        if (length < min) {
            throw new MalformedPacketException(what + " packet of " + length + " bytes, needs at least " + min);
        }
    }

    private static int u16(byte[] bytes, int at) {
        return ((bytes[at] & 0xff) << 8) | (bytes[at + 1] & 0xff);
    }

    public static byte[] encode(TftpPacket packet) {
        return switch (packet) {
            case TftpPacket.ReadRequest r -> request(TftpPacket.RRQ, r.filename(), r.mode(), r.options());
            case TftpPacket.WriteRequest w -> request(TftpPacket.WRQ, w.filename(), w.mode(), w.options());
            case TftpPacket.Data d -> {
                ByteBuffer buffer = ByteBuffer.allocate(4 + d.length());
                buffer.putShort((short) TftpPacket.DATA).putShort((short) d.block());
                buffer.put(d.payload(), d.offset(), d.length());
                yield buffer.array();
            }
            case TftpPacket.Ack a -> ByteBuffer.allocate(4).putShort((short) TftpPacket.ACK)
                    .putShort((short) a.block()).array();
            case TftpPacket.Error e -> {
                ByteArrayOutputStream out = header(TftpPacket.ERROR);
                out.write(e.code() >> 8);
                out.write(e.code());
                string(out, e.message());
                yield out.toByteArray();
            }
            case TftpPacket.OptionAck o -> {
                ByteArrayOutputStream out = header(TftpPacket.OACK);
                o.options().forEach((name, value) -> {
                    string(out, name);
                    string(out, value);
                });
                yield out.toByteArray();
            }
        };
    }

    private static byte[] request(int opcode, String filename, String mode, Map<String, String> options) {
        ByteArrayOutputStream out = header(opcode);
        string(out, filename);
        string(out, mode);
        options.forEach((name, value) -> {
            string(out, name);
            string(out, value);
        });
        return out.toByteArray();
    }

    private static ByteArrayOutputStream header(int opcode) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        out.write(opcode >> 8);
        out.write(opcode);
        return out;
    }

    private static void string(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
        out.write(0);
    }
}
