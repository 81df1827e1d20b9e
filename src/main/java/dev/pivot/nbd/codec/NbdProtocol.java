package dev.pivot.nbd.codec;

/**
 * The numbers of the NBD protocol (NetworkBlockDevice/nbd doc/proto.md) that Pivot's server uses: the fixed
 * newstyle handshake, the options, the option replies and the transmission phase's requests and errors.
 */
public final class NbdProtocol {

    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454F5054L;
    public static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;

    /** Handshake flags (server). */
    public static final short FLAG_FIXED_NEWSTYLE = 1;
    public static final short FLAG_NO_ZEROES = 1 << 1;
    /** Client flags: the only two a client may set, and only when the server offered them. */
    public static final int FLAG_C_FIXED_NEWSTYLE = 1;
    public static final int FLAG_C_NO_ZEROES = 1 << 1;

    /** Transmission flags. */
    public static final short FLAG_HAS_FLAGS = 1;
    public static final short FLAG_READ_ONLY = 1 << 1;
    public static final short FLAG_SEND_FLUSH = 1 << 2;
    public static final short FLAG_CAN_MULTI_CONN = 1 << 8;

    /** Options. */
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;

    /** Option reply types. */
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_ERR_UNSUP = 0x80000001;
    public static final int REP_ERR_POLICY = 0x80000002;
    public static final int REP_ERR_INVALID = 0x80000003;
    public static final int REP_ERR_UNKNOWN = 0x80000006;

    /** NBD_REP_INFO types. */
    public static final short INFO_EXPORT = 0;
    public static final short INFO_NAME = 1;
    public static final short INFO_DESCRIPTION = 2;
    public static final short INFO_BLOCK_SIZE = 3;

    /** Commands. */
    public static final short CMD_READ = 0;
    public static final short CMD_WRITE = 1;
    public static final short CMD_DISC = 2;
    public static final short CMD_FLUSH = 3;
    public static final short CMD_TRIM = 4;
    public static final short CMD_CACHE = 5;
    public static final short CMD_WRITE_ZEROES = 6;
    public static final short CMD_BLOCK_STATUS = 7;

    /** Errors in a simple reply. */
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int EINVAL = 22;
    public static final int ENOTSUP = 95;

    /** The spec's default maximum payload (32 MiB): larger reads are refused with EINVAL. */
    public static final int MAX_PAYLOAD = 32 * 1024 * 1024;
    /** The spec bounds strings (export names) at 4096 bytes. */
    public static final int MAX_STRING = 4096;
    /** Option data larger than this is not a real client's: the connection is closed. */
    public static final int MAX_OPTION_DATA = MAX_STRING + 4 + 2 + 2 * 64;
    public static final int OPTION_HEADER_BYTES = 16;
    public static final int REQUEST_BYTES = 28;
    public static final int SIMPLE_REPLY_BYTES = 16;

    private NbdProtocol() {
    }
}
