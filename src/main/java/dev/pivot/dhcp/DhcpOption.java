package dev.pivot.dhcp;

/** Option codes Pivot reads or writes (RFC 2132, 3004, 3046, 4578, iPXE's 175). */
public final class DhcpOption {

    public static final int PAD = 0;
    public static final int SUBNET_MASK = 1;
    public static final int ROUTER = 3;
    public static final int DNS = 6;
    public static final int HOST_NAME = 12;
    public static final int DOMAIN_NAME = 15;
    public static final int BROADCAST_ADDRESS = 28;
    public static final int VENDOR_ENCAPSULATED = 43;
    public static final int REQUESTED_IP = 50;
    public static final int LEASE_TIME = 51;
    public static final int OVERLOAD = 52;
    public static final int MESSAGE_TYPE = 53;
    public static final int SERVER_ID = 54;
    public static final int PARAMETER_LIST = 55;
    public static final int MESSAGE = 56;
    public static final int MAX_MESSAGE_SIZE = 57;
    public static final int RENEWAL_TIME = 58;
    public static final int REBINDING_TIME = 59;
    public static final int VENDOR_CLASS = 60;
    public static final int CLIENT_ID = 61;
    public static final int TFTP_SERVER_NAME = 66;
    public static final int BOOTFILE_NAME = 67;
    public static final int USER_CLASS = 77;
    public static final int RELAY_AGENT_INFO = 82;
    public static final int CLIENT_ARCH = 93;
    public static final int CLIENT_NDI = 94;
    public static final int CLIENT_UUID = 97;
    public static final int IPXE_ENCAPSULATED = 175;
    public static final int END = 255;

    /** PXE vendor option 43 sub-option 6: 8 = "no boot server discovery, just boot the file" (PXE 2.1 §2.4.7). */
    public static final int PXE_DISCOVERY_CONTROL = 6;
    /** iPXE option 175 sub-option 176: 1 = do not wait for ProxyDHCP offers. */
    public static final int IPXE_NO_PXEDHCP = 176;

    private DhcpOption() {
    }
}
