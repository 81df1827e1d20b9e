package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DhcpPacketTest {

    private static final MacAddress MAC = MacAddress.parse("52:54:00:12:34:56");

    @Test
    void decodesTheDiscoverOfQemusIpxeRom() {
        DhcpPacket p = Packets.decoded("ipxe-bios");

        assertThat(p.op()).isEqualTo(DhcpPacket.BOOTREQUEST);
        assertThat(p.messageType()).contains(MessageType.DISCOVER);
        assertThat(p.ethernetMac()).contains(MacAddress.parse("52:54:00:aa:bb:01"));
        assertThat(p.vendorClass()).contains("PXEClient:Arch:00000:UNDI:002001");
        assertThat(p.userClasses()).containsExactly("iPXE");
        assertThat(p.clientArchitectures()).containsExactly(0);
        assertThat(p.u16(DhcpOption.MAX_MESSAGE_SIZE)).contains(1472);
        assertThat(p.option(DhcpOption.CLIENT_NDI)).hasValueSatisfying(v -> assertThat(v).containsExactly(1, 2, 1));
        assertThat(p.option(DhcpOption.CLIENT_UUID)).hasValueSatisfying(v -> assertThat(v).hasSize(17));
        assertThat(p.encapsulated(DhcpOption.IPXE_ENCAPSULATED)).containsKeys(0xb1, 0xeb, 0x17, 0x13);
        assertThat(p.broadcastFlag()).isFalse();
    }

    @Test
    void decodesTheDiscoverOfOvmfsOwnPxe() {
        DhcpPacket p = Packets.decoded("ovmf-pxe");

        assertThat(p.vendorClass()).contains("PXEClient:Arch:00007:UNDI:003000");
        assertThat(p.clientArchitectures()).containsExactly(7);
        assertThat(p.has(DhcpOption.IPXE_ENCAPSULATED)).isFalse();
        assertThat(p.userClasses()).isEmpty();
        assertThat(p.broadcastFlag()).isTrue();
    }

    @Test
    void decodesUdhcpcWithExtraOptions() {
        DhcpPacket p = Packets.decoded("udhcpc-pxe");

        assertThat(p.ethernetMac()).contains(MAC);
        assertThat(p.vendorClass()).contains("PXEClient:Arch:00000:UNDI:002001");
        assertThat(p.userClasses()).containsExactly("iPXE");
        assertThat(p.option(DhcpOption.CLIENT_ID)).hasValueSatisfying(v ->
                assertThat(HexFormat.of().formatHex(v)).isEqualTo("01525400123456"));
        assertThat(p.option(DhcpOption.PARAMETER_LIST)).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ipxe-bios", "ovmf-pxe", "udhcpc-plain", "udhcpc-pxe"})
    void reEncodesRealPacketsByteForByte(String name) throws Exception {
        byte[] wire = Packets.raw(name);
        DhcpPacket p = DhcpPacket.decode(wire);

        // Every captured client puts 53 first, ends with END and pads with zeros: the encoding is the same.
        assertThat(HexFormat.of().formatHex(p.encode())).isEqualTo(HexFormat.of().formatHex(wire));
        assertThat(DhcpPacket.decode(p.encode())).isEqualTo(p);
    }

    @Test
    void roundTripsABuiltReply() throws Exception {
        DhcpPacket reply = DhcpPacket.builder().op(DhcpPacket.BOOTREPLY).xid(0x1234abcd).flags(DhcpPacket.BROADCAST_FLAG)
                .mac(MAC).yiaddr(Ipv4.parse("10.77.0.50")).siaddr(Ipv4.parse("10.77.0.1"))
                .file("undionly.kpxe").sname("pivot")
                .type(MessageType.OFFER).option(DhcpOption.SERVER_ID, Ipv4.parse("10.77.0.1"))
                .optionU32(DhcpOption.LEASE_TIME, 3600).option(DhcpOption.VENDOR_CLASS, "PXEClient")
                .option(DhcpOption.VENDOR_ENCAPSULATED, new byte[]{6, 1, 8, (byte) 255})
                .build();

        byte[] wire = reply.encode();
        DhcpPacket back = DhcpPacket.decode(wire);

        assertThat(wire.length).isGreaterThanOrEqualTo(300);
        assertThat(back.xid()).isEqualTo(0x1234abcd);
        assertThat(back.broadcastFlag()).isTrue();
        assertThat(back.ethernetMac()).contains(MAC);
        assertThat(back.yiaddr()).isEqualTo(Ipv4.parse("10.77.0.50"));
        assertThat(back.file()).isEqualTo("undionly.kpxe");
        assertThat(back.sname()).isEqualTo("pivot");
        assertThat(back.messageType()).contains(MessageType.OFFER);
        assertThat(back.address(DhcpOption.SERVER_ID)).contains(Ipv4.parse("10.77.0.1"));
        assertThat(back.u32(DhcpOption.LEASE_TIME)).contains(3600L);
        assertThat(back.encapsulated(DhcpOption.VENDOR_ENCAPSULATED)).containsOnlyKeys(6);
        assertThat(back).isEqualTo(reply);
    }

    @Test
    void splitsLongOptionsAndJoinsThemBack() throws Exception {
        byte[] big = new byte[600];
        Arrays.fill(big, (byte) 'x');
        DhcpPacket p = DhcpPacket.builder().mac(MAC).type(MessageType.ACK).option(DhcpOption.BOOTFILE_NAME, big).build();

        byte[] wire = p.encode();

        assertThat(wire.length).isEqualTo(240 + 3 + 3 * 2 + 600 + 1);
        assertThat(DhcpPacket.decode(wire).option(DhcpOption.BOOTFILE_NAME)).hasValueSatisfying(v ->
                assertThat(v).isEqualTo(big));
    }

    @Test
    void readsOptionsFromOverloadedFileAndSnameFields() throws Exception {
        byte[] wire = withOptions(new byte[]{53, 1, 1, 52, 1, 3, (byte) 255});
        byte[] inFile = {60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', (byte) 255};
        byte[] inSname = {12, 4, 'h', 'o', 's', 't', (byte) 255};
        System.arraycopy(inFile, 0, wire, 108, inFile.length);
        System.arraycopy(inSname, 0, wire, 44, inSname.length);

        DhcpPacket p = DhcpPacket.decode(wire);

        assertThat(p.vendorClass()).contains("PXEClient");
        assertThat(p.string(DhcpOption.HOST_NAME)).contains("host");
        assertThat(p.file()).isEmpty();
        assertThat(p.sname()).isEmpty();
    }

    @Test
    void userClassInRfc3004FormIsAList() {
        DhcpPacket p = DhcpPacket.builder().mac(MAC)
                .option(DhcpOption.USER_CLASS, new byte[]{4, 'i', 'P', 'X', 'E', 3, 'f', 'o', 'o'}).build();

        assertThat(p.userClasses()).containsExactly("iPXE", "foo");
    }

    @Test
    void refusesATruncatedPacket() {
        byte[] wire = Arrays.copyOf(Packets.raw("udhcpc-plain"), 200);
        assertThatThrownBy(() -> DhcpPacket.decode(wire))
                .isInstanceOf(DhcpDecodeException.class).hasMessageContaining("truncated: 200 bytes");
    }

    @Test
    void refusesAnOptionRunningPastTheEnd() {
        byte[] wire = withOptions(new byte[]{53, 1, 1, 60, 40, 'P', 'X', 'E'});
        assertThatThrownBy(() -> DhcpPacket.decode(wire))
                .isInstanceOf(DhcpDecodeException.class).hasMessageContaining("option 60").hasMessageContaining("past the end");
    }

    @Test
    void refusesAnOptionWithoutLengthByte() {
        byte[] wire = withOptions(new byte[]{53, 1, 1, 60});
        assertThatThrownBy(() -> DhcpPacket.decode(wire))
                .isInstanceOf(DhcpDecodeException.class).hasMessageContaining("no length byte");
    }

    @Test
    void refusesAnOverloadLoop() {
        byte[] wire = withOptions(new byte[]{53, 1, 1, 52, 1, 1, (byte) 255});
        byte[] inFile = {52, 1, 1, (byte) 255};
        System.arraycopy(inFile, 0, wire, 108, inFile.length);
        assertThatThrownBy(() -> DhcpPacket.decode(wire))
                .isInstanceOf(DhcpDecodeException.class).hasMessageContaining("option 52").hasMessageContaining("loop");
    }

    @Test
    void refusesAnOverloadValueOutOfRange() {
        byte[] wire = withOptions(new byte[]{53, 1, 1, 52, 1, 7, (byte) 255});
        assertThatThrownBy(() -> DhcpPacket.decode(wire))
                .isInstanceOf(DhcpDecodeException.class).hasMessageContaining("overload");
    }

    @Test
    void refusesHardwareLengthZero() {
        byte[] wire = Packets.raw("udhcpc-plain");
        wire[2] = 0;
        assertThatThrownBy(() -> DhcpPacket.decode(wire))
                .isInstanceOf(DhcpDecodeException.class).hasMessageContaining("hlen 0");
    }

    @Test
    void refusesAGiantPacket() {
        byte[] wire = Arrays.copyOf(Packets.raw("udhcpc-plain"), DhcpPacket.MAX_LENGTH + 1);
        assertThatThrownBy(() -> DhcpPacket.decode(wire))
                .isInstanceOf(DhcpDecodeException.class).hasMessageContaining("giant packet");
    }

    @Test
    void refusesPlainBootpWithoutMagicCookie() {
        byte[] wire = Packets.raw("udhcpc-plain");
        wire[236] = 0;
        assertThatThrownBy(() -> DhcpPacket.decode(wire))
                .isInstanceOf(DhcpDecodeException.class).hasMessageContaining("magic cookie");
    }

    @Test
    void refusesAnUnknownOp() {
        byte[] wire = Packets.raw("udhcpc-plain");
        wire[0] = 9;
        assertThatThrownBy(() -> DhcpPacket.decode(wire))
                .isInstanceOf(DhcpDecodeException.class).hasMessageContaining("op 9");
    }

    @Test
    void refusesAFileNameTooLongForTheField() {
        DhcpPacket p = DhcpPacket.builder().mac(MAC).file("x".repeat(128)).build();
        assertThatThrownBy(p::encode).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("file");
    }

    /** A minimal request (Ethernet, MAC above) whose options area holds exactly these bytes. */
    private static byte[] withOptions(byte[] options) {
        ByteBuffer b = ByteBuffer.allocate(DhcpPacket.MIN_LENGTH + options.length);
        b.put((byte) 1).put((byte) 1).put((byte) 6).put((byte) 0).putInt(42);
        b.position(28);
        b.put(MAC.bytes());
        b.position(236);
        b.putInt(DhcpPacket.MAGIC_COOKIE).put(options);
        return b.array();
    }
}
