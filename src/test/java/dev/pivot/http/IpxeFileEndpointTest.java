package dev.pivot.http;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class IpxeFileEndpointTest {

    @Test
    void onlyShimsEmptySegmentDirectlyAfterIpxeIsDropped() {
        assertThat(IpxeFileEndpoint.withoutShimEmptySegment("/ipxe//grubx64.efi")).isEqualTo("/ipxe/grubx64.efi");
        assertThat(IpxeFileEndpoint.withoutShimEmptySegment("/ipxe/ipxe.efi")).isEqualTo("/ipxe/ipxe.efi");
        assertThat(IpxeFileEndpoint.withoutShimEmptySegment("/ipxe///ipxe.efi")).contains("//");
        assertThat(IpxeFileEndpoint.withoutShimEmptySegment("/ipxe/a//b.efi")).contains("//");
        assertThat(IpxeFileEndpoint.withoutShimEmptySegment("/artifacts//x")).isEqualTo("/artifacts//x");
        assertThat(IpxeFileEndpoint.withoutShimEmptySegment("//ipxe/ipxe.efi")).contains("//");
    }
}
