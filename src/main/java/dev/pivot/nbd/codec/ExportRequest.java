package dev.pivot.nbd.codec;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The data of NBD_OPT_INFO and NBD_OPT_GO: an export name and the information items the client asks for.
 * Data that does not add up is answered with NBD_REP_ERR_INVALID, not a closed connection (the spec's way).
 */
public record ExportRequest(String name, List<Integer> infoRequests) {

    public ExportRequest {
        infoRequests = List.copyOf(infoRequests);
    }

    /** Parses the whole option data. */
    public static ExportRequest parse(byte[] data) throws InvalidOption {
        ByteBuffer in = ByteBuffer.wrap(data);
        if (in.remaining() < 6) {
            throw new InvalidOption("export request of " + data.length + " bytes (at least 6)");
        }
        long nameLength = Integer.toUnsignedLong(in.getInt());
        if (nameLength > in.remaining() - 2 || nameLength > NbdProtocol.MAX_STRING) {
            throw new InvalidOption("export name of " + nameLength + " bytes in " + data.length + " bytes of data");
        }
        byte[] name = new byte[(int) nameLength];
        in.get(name);
        int count = Short.toUnsignedInt(in.getShort());
        if (in.remaining() != 2 * count) {
            throw new InvalidOption(count + " information requests in " + in.remaining() + " bytes");
        }
        List<Integer> infos = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            infos.add(Short.toUnsignedInt(in.getShort()));
        }
        return new ExportRequest(decodeName(name), infos);
    }

    /** Export names are UTF-8; bytes that are not are refused rather than guessed at. */
    static String decodeName(byte[] bytes) throws InvalidOption {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new InvalidOption("export name is not UTF-8");
        }
    }

    /** The NBD_OPT_EXPORT_NAME form: the whole data is the name. */
    public static String exportName(byte[] data) throws InvalidOption {
        if (data.length > NbdProtocol.MAX_STRING) {
            throw new InvalidOption("export name of " + data.length + " bytes");
        }
        return decodeName(data);
    }

    public byte[] encode() {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(4 + n.length + 2 + 2 * infoRequests.size());
        out.putInt(n.length).put(n).putShort((short) infoRequests.size());
        infoRequests.forEach(i -> out.putShort((short) (int) i));
        return out.array();
    }

    /** Option data the spec calls invalid: answered with NBD_REP_ERR_INVALID. */
    public static final class InvalidOption extends Exception {
        public InvalidOption(String message) {
            super(message);
        }
    }
}
