/**
 * IPv6 Neighbor Discovery, as much as a boot server needs: on a link without an IPv6 router, answer router
 * solicitations with "no router here" so iPXE and stage 1 do not wait for IPv6 autoconfiguration; stay silent
 * where a real router advertises. Codec ({@link dev.pivot.ndp.NdpMessage}), decision
 * ({@code Advertising}), raw socket ({@code Icmpv6Socket}, FFM) and the running adapter
 * ({@link dev.pivot.ndp.RouterAdvertiser}). Imports no other Pivot package.
 */
package dev.pivot.ndp;
