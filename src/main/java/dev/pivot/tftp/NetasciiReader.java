package dev.pivot.tftp;

import java.io.IOException;

/**
 * Converts octets to netascii while reading (RFC 764 as used by RFC 1350): LF becomes CR LF and a bare CR becomes
 * CR NUL. The file is taken to hold Unix line ends, as every Unix TFTP server assumes. An expansion that does not
 * fit the caller's block is carried over to the next read, so blocks stay exactly full until the end.
 */
final class NetasciiReader implements TftpContent.Reader {

    private final TftpContent.Reader source;
    private final byte[] chunk = new byte[8192];
    private int chunkLength;
    private int chunkPosition;
    private int pending = -1;
    private boolean sourceEnded;

    NetasciiReader(TftpContent.Reader source) {
        this.source = source;
    }

    @Override
    public int read(byte[] into, int offset, int length) throws IOException {
        int written = 0;
        while (written < length) {
            if (pending >= 0) {
                into[offset + written++] = (byte) pending;
                pending = -1;
                continue;
            }
            if (chunkPosition == chunkLength) {
                if (sourceEnded) {
                    break;
                }
                chunkLength = source.read(chunk, 0, chunk.length);
                chunkPosition = 0;
                sourceEnded = chunkLength < chunk.length;
                if (chunkLength == 0) {
                    break;
                }
            }
            byte b = chunk[chunkPosition++];
            if (b == '\n') {
                into[offset + written++] = '\r';
                pending = '\n';
            } else if (b == '\r') {
                into[offset + written++] = '\r';
                pending = 0;
            } else {
                into[offset + written++] = b;
            }
        }
        return written;
    }

    @Override
    public void close() throws IOException {
        source.close();
    }
}
