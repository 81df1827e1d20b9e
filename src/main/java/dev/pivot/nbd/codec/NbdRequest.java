package dev.pivot.nbd.codec;

import java.nio.ByteBuffer;

/**
 * One transmission-phase request header (the data of a write follows it on the wire and is not part of it).
 *
 * @param flags  command flags
 * @param type   NBD_CMD_*
 * @param cookie echoed in the reply
 * @param offset byte offset in the export (unsigned on the wire; a value above Long.MAX_VALUE is refused)
 * @param length byte count (unsigned 32 bits)
 */
public record NbdRequest(int flags, int type, long cookie, long offset, long length) {

    /** Decodes the 28 bytes at the buffer's position; the buffer's position moves past them. */
    public static NbdRequest decode(ByteBuffer in) throws MalformedNbdException {
        if (in.remaining() < NbdProtocol.REQUEST_BYTES) {
            throw new MalformedNbdException("request of " + in.remaining() + " bytes, need "
                    + NbdProtocol.REQUEST_BYTES);
        }
        int magic = in.getInt();
        if (magic != NbdProtocol.REQUEST_MAGIC) {
            throw new MalformedNbdException(String.format("request magic 0x%08x, not 0x%08x", magic,
                    NbdProtocol.REQUEST_MAGIC));
        }
        int flags = Short.toUnsignedInt(in.getShort());
        int type = Short.toUnsignedInt(in.getShort());
        long cookie = in.getLong();
        long offset = in.getLong();
        long length = Integer.toUnsignedLong(in.getInt());
        if (offset < 0) {
            throw new MalformedNbdException("offset " + Long.toUnsignedString(offset) + " beyond any export");
        }
        return new NbdRequest(flags, type, cookie, offset, length);
    }

    /** The 28 header bytes (what a client sends; tests and the fuzz target's round trip use it). */
    public void encode(ByteBuffer out) {
        out.putInt(NbdProtocol.REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie)
                .putLong(offset).putInt((int) length);
    }

    /** Whether [offset, offset+length) lies inside an export of {@code size} bytes. */
    public boolean within(long size) {
        return offset <= size && length <= size - offset;
    }
}
