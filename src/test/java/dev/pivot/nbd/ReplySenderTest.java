package dev.pivot.nbd;

import dev.pivot.nbd.codec.NbdProtocol;
import dev.pivot.nbd.codec.Replies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Each way a read's reply leaves (small: one send behind the header; up to 256 KiB: sendfile; large: the copy
 * through the buffer) puts the header and exactly the file's bytes on a loopback socket; a file shorter than the
 * read is an error naming the byte where it ended.
 */
class ReplySenderTest {

    private static final int FILE_BYTES = 3 * 1024 * 1024 + 123;

    @TempDir
    Path dir;

    @Test
    void everyWayPutsTheHeaderAndExactlyTheFilesBytesOnTheSocket() throws Exception {
        byte[] content = new byte[FILE_BYTES];
        new Random(14).nextBytes(content);
        Path image = Files.write(dir.resolve("image"), content);
        long[][] reads = {{0, 4096}, {5, 1}, {4096 * 7 + 3, ReplySender.SMALL}, {100, ReplySender.SMALL + 1},
                {4096, 128 * 1024}, {0, ReplySender.LARGE}, {17, 2 * 1024 * 1024 + 9}};
        try (Pair pair = Pair.open(); ExportFiles.Open file = new ExportFiles().acquire(image, FILE_BYTES);
             ReplySender sender = new ReplySender(pair.server(), NbdProtocol.SIMPLE_REPLY_BYTES)) {
            DataInputStream in = new DataInputStream(Channels.newInputStream(pair.client()));
            for (int i = 0; i < reads.length; i++) {
                long from = reads[i][0];
                int count = (int) reads[i][1];
                long cookie = 1000 + i;
                CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
                    try {
                        assertThat(in.readInt()).isEqualTo(NbdProtocol.SIMPLE_REPLY_MAGIC);
                        assertThat(in.readInt()).as("error").isZero();
                        assertThat(in.readLong()).as("cookie").isEqualTo(cookie);
                        byte[] data = new byte[count];
                        in.readFully(data);
                        return data;
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                Replies.simpleReply(sender.header(), 0, cookie);
                sender.reply(file.descriptor(), from, count);
                assertThat(received.get(30, TimeUnit.SECONDS)).as("%d bytes from %d", count, from)
                        .isEqualTo(Arrays.copyOfRange(content, (int) from, (int) from + count));
            }
            pair.client().configureBlocking(false);
            assertThat(pair.client().read(java.nio.ByteBuffer.allocate(1))).as("nothing more than the replies was sent")
                    .isZero();
        }
    }

    @Test
    void aFileShorterThanTheReadIsAnErrorNamingWhereItEnded() throws Exception {
        Path image = Files.write(dir.resolve("short"), new byte[10_000]);
        try (Pair pair = Pair.open(); ExportFiles.Open file = new ExportFiles().acquire(image, 10_000);
             ReplySender sender = new ReplySender(pair.server(), NbdProtocol.SIMPLE_REPLY_BYTES)) {
            Replies.simpleReply(sender.header(), 0, 1);
            assertThatThrownBy(() -> sender.reply(file.descriptor(), 8192, 4096)).isInstanceOf(IOException.class)
                    .hasMessage("the image file ends at byte 10000, before its export does");
        }
    }

    /** Two ends of one loopback TCP connection. */
    private record Pair(ServerSocketChannel listener, SocketChannel server, SocketChannel client)
            implements AutoCloseable {
        static Pair open() throws IOException {
            ServerSocketChannel listener = ServerSocketChannel.open()
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel client = SocketChannel.open(listener.getLocalAddress());
            return new Pair(listener, listener.accept(), client);
        }

        @Override
        public void close() throws IOException {
            client.close();
            server.close();
            listener.close();
        }
    }
}
