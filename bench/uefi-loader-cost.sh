#!/usr/bin/env bash
# What Pivot's default for UEFI PXE clients (shim -> Debian's signed network GRUB, so that a Secure Boot machine
# boots too) costs an ordinary UEFI machine, against the distro's iPXE (--efi-loader ipxe.efi). Same image, same
# QEMU (TCG, OVMF.fd, the NIC's iPXE ROM off so OVMF's own PXE runs, virtio, 768 MB), `pivot serve --dhcp full` as
# shipped, same run; the two ways alternate which goes first each round. Prints every boot (QEMU start -> the
# image's stage-2 marker), the medians, grub - ipxe and grub / ipxe.
#   BENCH_ROUNDS=3 BENCH_TIMEOUT=240 bench/uefi-loader-cost.sh        (root: namespaces, taps)
#   BENCH_DHCP=proxy bench/uefi-loader-cost.sh    the same under `--dhcp proxy` (the default) beside dnsmasq-base as
#                                                 the router's DHCP (no boot options), in a namespace of its own
#   BENCH_FIRMWARE=httpboot bench/uefi-loader-cost.sh   the machine set to UEFI HTTP Boot instead (OVMF_CODE_4M.fd as
#                                                 pflash, its PXE switched off through fw_cfg): shim -> GRUB by URL
#                                                 against ipxe.efi by URL
# Everything runs inside network namespaces pvt-uefibench-* (and pvt-uefirtr-* for the router), deleted on exit;
# processes are ended by PID.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_ROUNDS:-3}
TIMEOUT=${BENCH_TIMEOUT:-240}
MARKER='PIVOT-DEMO: stage 2 reached'
MAC=52:54:00:77:00:b9
DHCP=${BENCH_DHCP:-full}
case "$DHCP" in full | proxy) ;; *) echo "bench: BENCH_DHCP must be full or proxy, not '$DHCP'" >&2; exit 2 ;; esac
FIRMWARE=${BENCH_FIRMWARE:-pxe}
case "$FIRMWARE" in pxe | httpboot) ;; *) echo "bench: BENCH_FIRMWARE must be pxe or httpboot, not '$FIRMWARE'" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespace, tap device)" >&2; exit 2; }
pivot_apt_install qemu-system-x86 ipxe ovmf busybox-static squashfs-tools cpio zstd dnsmasq-base
"$PIVOT_HOME/scripts/fetch-boot-loaders.sh" >/dev/null
bench_build

NS="pvt-uefibench-$RANDOM$RANDOM"
RTR="pvt-uefirtr-$RANDOM$RANDOM"
bench_ns_cleanup() {
  bench_cleanup
  ip netns del "$NS" 2>/dev/null || true
  ip netns del "$RTR" 2>/dev/null || true
}
trap bench_ns_cleanup EXIT
ipn() { ip netns exec "$NS" "$@"; }

echo "bench: load average before: $(bench_loadavg) ($(nproc) cores); QEMU -accel tcg"
img="$BENCH_WORK/image"
"$PIVOT_HOME/scripts/make-demo-image.sh" "$img" >&2

ip netns add "$NS"
ipn ip link set lo up
ipn ip link add br0 type bridge forward_delay 0
ipn ip addr add 10.77.0.1/24 dev br0
ipn ip -6 addr add fd77:77::1/64 dev br0 nodad
ipn ip link set br0 up
ipn ip tuntap add tap0 mode tap
ipn ip link set tap0 master br0
ipn ip link set tap0 up
if [ "$DHCP" = proxy ]; then
  # The router: dnsmasq-base handing out addresses only, on a veth into the bridge, in its own namespace.
  ip netns add "$RTR"
  ipn ip link add vrtr type veth peer name rtr0 netns "$RTR"
  ipn ip link set vrtr master br0
  ipn ip link set vrtr up
  ip netns exec "$RTR" ip link set lo up
  ip netns exec "$RTR" ip addr add 10.77.0.254/24 dev rtr0
  ip netns exec "$RTR" ip link set rtr0 up
  ip netns exec "$RTR" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root --interface=rtr0 \
    --bind-interfaces --except-interface=lo --pid-file="$BENCH_WORK/router.pid" \
    --dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h --dhcp-option=option:router,10.77.0.254 \
    --dhcp-leasefile="$BENCH_WORK/router.leases" > "$BENCH_WORK/router.log" 2>&1 &
  BENCH_PIDS+=("$!")
fi
dhcp_args=(--dhcp full --range 10.77.0.100-10.77.0.199)
[ "$DHCP" = proxy ] && dhcp_args=(--dhcp proxy)

start_pivot() { # $1: ipxe | grub
  local log="$BENCH_WORK/pivot-$1.log" extra=()
  [ "$1" = ipxe ] && extra=(--efi-loader ipxe.efi)
  rm -rf "$BENCH_WORK/state"
  ip netns exec "$NS" "${PIVOT_JAVA[@]}" dev.pivot.cli.Main serve "$img" --interface br0 "${dhcp_args[@]}" \
    --state "$BENCH_WORK/state" "${extra[@]}" > "$log" 2>&1 &
  PIVOT_PID=$!
  BENCH_PIDS+=("$PIVOT_PID")
  bench_wait_for_line "$log" "^pivot: waiting for machines" "$PIVOT_PID" 300
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

vm() { # leaves the seconds from QEMU's start to the marker in $BENCH_WORK/took
  local way=$1 log="$BENCH_WORK/serial-$1.log" start end qpid firmware=(-bios /usr/share/ovmf/OVMF.fd)
  : > "$log"
  if [ "$FIRMWARE" = httpboot ]; then
    # The firmware writes its variables: a fresh copy per boot; PXE off, so OVMF goes straight to HTTP Boot.
    cp /usr/share/OVMF/OVMF_VARS_4M.fd "$BENCH_WORK/vars.fd"
    firmware=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
      -drive "if=pflash,format=raw,unit=1,file=$BENCH_WORK/vars.fd"
      -fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n -fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n)
  fi
  start=$(date +%s.%N)
  ip netns exec "$NS" qemu-system-x86_64 -accel tcg -m 768 -smp 1 -nographic -serial "file:$log" -monitor none \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device "virtio-net-pci,netdev=n0,mac=$MAC,romfile=" \
    "${firmware[@]}" -boot n > "$BENCH_WORK/qemu-$way.out" 2>&1 &
  qpid=$!
  BENCH_PIDS+=("$qpid")
  end=""
  while :; do
    if grep -aq "$MARKER" "$log"; then end=$(date +%s.%N); break; fi
    kill -0 "$qpid" 2>/dev/null || { grep -aq "$MARKER" "$log" && end=$(date +%s.%N); break; }
    awk -v n="$(date +%s.%N)" -v s="$start" -v t="$TIMEOUT" 'BEGIN { exit !(n - s > t) }' && break
    sleep 0.05
  done
  stop_pid "$qpid"
  if [ -z "$end" ]; then
    echo "bench: $way: no '$MARKER' within ${TIMEOUT}s; serial:" >&2
    tr -d '\r' < "$log" | tail -20 >&2
    return 1
  fi
  awk -v e="$end" -v s="$start" 'BEGIN { printf "%.2f", e - s }' > "$BENCH_WORK/took"
}

declare -A times
order=(ipxe grub)
for ((r = 1; r <= ROUNDS; r++)); do
  for way in "${order[@]}"; do
    start_pivot "$way"
    vm "$way" || exit 1
    t=$(cat "$BENCH_WORK/took")
    stop_pid "$PIVOT_PID"
    times[$way]="${times[$way]:-} $t"
    echo "round $r  $way  ${t} s  (load average $(bench_loadavg))"
  done
  order=("${order[1]}" "${order[0]}")
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo
echo "UEFI $FIRMWARE, --dhcp $DHCP, QEMU start -> '$MARKER', median of $ROUNDS rounds:"
mi=$(echo "${times[ipxe]}" | median); mg=$(echo "${times[grub]}" | median)
printf '  %-40s %s s   [%s ]\n' "ipxe.efi (--efi-loader ipxe.efi)" "$mi" "${times[ipxe]# }"
printf '  %-40s %s s   [%s ]\n' "shim -> GRUB (default)" "$mg" "${times[grub]# }"
awk -v i="$mi" -v g="$mg" 'BEGIN { printf "  grub - ipxe = %+.2f s; grub / ipxe = %.2f\n", g - i, g / i }'
echo "bench: load average after: $(bench_loadavg)"
