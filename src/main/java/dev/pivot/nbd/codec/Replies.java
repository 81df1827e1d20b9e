package dev.pivot.nbd.codec;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Encoders of what the server sends: the greeting, option replies, the export's info, simple reply headers. */
public final class Replies {

    private Replies() {
    }

    /** NBDMAGIC, IHAVEOPT, the handshake flags: fixed newstyle, and no zeroes after NBD_OPT_EXPORT_NAME. */
    public static ByteBuffer greeting() {
        return ByteBuffer.allocate(18).putLong(NbdProtocol.NBDMAGIC).putLong(NbdProtocol.IHAVEOPT)
                .putShort((short) (NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES)).flip();
    }

    public static ByteBuffer option(int option, int type, byte[] data) {
        return ByteBuffer.allocate(20 + data.length).putLong(NbdProtocol.OPTION_REPLY_MAGIC).putInt(option)
                .putInt(type).putInt(data.length).put(data).flip();
    }

    public static ByteBuffer ack(int option) {
        return option(option, NbdProtocol.REP_ACK, new byte[0]);
    }

    /** An error reply with a message for people (the spec allows a UTF-8 string as the data). */
    public static ByteBuffer error(int option, int type, String message) {
        return option(option, type, message.getBytes(StandardCharsets.UTF_8));
    }

    /** NBD_REP_SERVER for NBD_OPT_LIST: the name's length, the name. */
    public static ByteBuffer server(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return option(NbdProtocol.OPT_LIST, NbdProtocol.REP_SERVER,
                ByteBuffer.allocate(4 + n.length).putInt(n.length).put(n).array());
    }

    public static ByteBuffer infoExport(int option, long size, short flags) {
        return option(option, NbdProtocol.REP_INFO,
                ByteBuffer.allocate(12).putShort(NbdProtocol.INFO_EXPORT).putLong(size).putShort(flags).array());
    }

    public static ByteBuffer infoName(int option, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return option(option, NbdProtocol.REP_INFO,
                ByteBuffer.allocate(2 + n.length).putShort(NbdProtocol.INFO_NAME).put(n).array());
    }

    public static ByteBuffer infoBlockSize(int option, int minimum, int preferred, int maximum) {
        return option(option, NbdProtocol.REP_INFO, ByteBuffer.allocate(14).putShort(NbdProtocol.INFO_BLOCK_SIZE)
                .putInt(minimum).putInt(preferred).putInt(maximum).array());
    }

    /** The answer to NBD_OPT_EXPORT_NAME: size and flags (no zeroes when the client asked for none). */
    public static ByteBuffer exportNameReply(long size, short flags, boolean noZeroes) {
        ByteBuffer b = ByteBuffer.allocate(noZeroes ? 10 : 134).putLong(size).putShort(flags);
        b.position(b.capacity());
        return b.flip();
    }

    /** The 16-byte simple reply header, written into {@code out} at its position. */
    public static void simpleReply(ByteBuffer out, int error, long cookie) {
        out.putInt(NbdProtocol.SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
    }
}
