package dev.pivot.nbd.codec;

import java.nio.ByteBuffer;

/**
 * The header of one option the client sends during the handshake: IHAVEOPT, the option, the length of its data.
 */
public record OptionHeader(int option, int length) {

    /** Decodes 16 bytes; a wrong magic or data beyond {@link NbdProtocol#MAX_OPTION_DATA} is malformed. */
    public static OptionHeader decode(ByteBuffer in) throws MalformedNbdException {
        if (in.remaining() < NbdProtocol.OPTION_HEADER_BYTES) {
            throw new MalformedNbdException("option header of " + in.remaining() + " bytes, need 16");
        }
        long magic = in.getLong();
        if (magic != NbdProtocol.IHAVEOPT) {
            throw new MalformedNbdException(String.format("option magic 0x%016x, not IHAVEOPT", magic));
        }
        int option = in.getInt();
        long length = Integer.toUnsignedLong(in.getInt());
        if (length > NbdProtocol.MAX_OPTION_DATA) {
            throw new MalformedNbdException("option " + option + " with " + length + " bytes of data (at most "
                    + NbdProtocol.MAX_OPTION_DATA + ")");
        }
        return new OptionHeader(option, (int) length);
    }

    public void encode(ByteBuffer out) {
        out.putLong(NbdProtocol.IHAVEOPT).putInt(option).putInt(length);
    }
}
