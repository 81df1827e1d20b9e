#!/usr/bin/env bash
# Time to stage 2 of one image booted five ways, same run, under the same QEMU (TCG, BIOS, virtio, 768 MB):
#   direct  QEMU -kernel bzImage -initrd initrd -append "<netboot.ipxe's kernel parameters>": no firmware PXE, no
#           iPXE, no network — the floor for these files;
#   hand    the hand-built netboot: dnsmasq-base (DHCP, TFTP, and its IPv6 router advertisement, pitfall 1) and
#           python3 -m http.server serving the build's own netboot.ipxe with the unsplit initrd; the NIC's iPXE ROM;
#   pivot   `pivot serve IMAGE --interface br0 --dhcp full` as shipped (no router advertisement but Pivot's own);
#   native  the same with --stage1 native: the root image goes as a second initrd to the image's own stage 1, as
#           NixOS netboot does; no Pivot stage 1 (no root check, no stage-1 reports);
#   bare    the same `pivot serve` in its kernel + initrd mode (--kernel bzImage --initrd <the unsplit initrd>
#           --cmdline <netboot.ipxe's parameters>): what a Pivot netboot costs before any stage 1 of its own.
# Each round runs the ways in an order rotated from the last one's; prints every boot (QEMU start → the image's
# stage-2 marker on the serial console), the medians, Pivot − direct and Pivot / hand, native and bare − direct,
# Pivot − bare (what its stage 1 adds); and for each netboot the firmware's share, QEMU start → iPXE's first DHCP
# request ("Configuring (net0" on the serial console), which the direct boot never pays and no server can shorten
# (SeaBIOS, the NIC ROM's iPXE and its Ctrl-B prompt).
#   BENCH_ROUNDS=3 BENCH_TIMEOUT=240 BENCH_KEEP=0 bench/boot-vs-direct.sh        (root: namespaces, taps)
# BENCH_BASELINE_HOME=DIR adds a sixth way, "base": the `pivot serve` of another checkout (e.g. main, for a change's
# before and after in the same run), started exactly as "pivot" and taking its turn in the rotation.
# BENCH_WAYS="pivot base" runs a subset. BENCH_SERIAL_TIMES="python3 bench/serial-times.py" (with BENCH_KEEP=1)
# times every serial line of every boot: serial-times-WAY-roundN.txt in the kept work directory.
# Everything runs inside one network namespace pvt-bootbench-*, deleted on exit; processes are ended by PID.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_ROUNDS:-3}
BASELINE_DIR=${BENCH_BASELINE_HOME:-}
read -r -a WAYS <<< "${BENCH_WAYS:-direct hand pivot native bare${BASELINE_DIR:+ base}}" # a subset: BENCH_WAYS=pivot
TIMEOUT=${BENCH_TIMEOUT:-240}
MARKER='PIVOT-DEMO: stage 2 reached'
MAC=52:54:00:77:00:b1
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespace, tap device)" >&2; exit 2; }
pivot_apt_install qemu-system-x86 ipxe-qemu dnsmasq-base python3 busybox-static squashfs-tools cpio zstd
bench_build
if [ -n "$BASELINE_DIR" ]; then
  [ -x "$BASELINE_DIR/pivot" ] || { echo "bench: no ./pivot in $BASELINE_DIR" >&2; exit 2; }
  # shellcheck source=scripts/common.sh
  (cd "$BASELINE_DIR" && source scripts/common.sh && pivot_build_if_needed >&2)
  BASE_CP="$BASELINE_DIR/target/classes:$(cat "$BASELINE_DIR/target/classpath.txt")"
  echo "bench: baseline (base): pivot serve from $BASELINE_DIR ($(git -C "$BASELINE_DIR" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"
fi

NS="pvt-bootbench-$RANDOM$RANDOM"
bench_ns_cleanup() {
  bench_cleanup
  ip netns del "$NS" 2>/dev/null || true
}
trap bench_ns_cleanup EXIT
ipn() { ip netns exec "$NS" "$@"; }

accel=(-accel tcg)
echo "bench: load average before: $(bench_loadavg) ($(nproc) cores); QEMU ${accel[*]}"

img="$BENCH_WORK/image"
"$PIVOT_HOME/scripts/make-demo-image.sh" "$img" >&2
cmdline="$(sed -n 's/^kernel bzImage //p' "$img/netboot.ipxe" | sed 's/ *\${cmdline}//')"

# The hand-built netboot's files: the image as built (unsplit initrd) and its own netboot.ipxe, by HTTP.
www="$BENCH_WORK/www"; tftp="$BENCH_WORK/tftp"
mkdir -p "$www" "$tftp"
cp "$img/bzImage" "$img/initrd" "$img/netboot.ipxe" "$www/"
cp /usr/lib/ipxe/undionly.kpxe "$tftp/"
chmod -R a+rX "$BENCH_WORK"

ip netns add "$NS"
ipn ip link set lo up
ipn ip link add br0 type bridge forward_delay 0
ipn ip addr add 10.77.0.1/24 dev br0
ipn ip -6 addr add fd77:77::1/64 dev br0 nodad
ipn ip link set br0 up
ipn ip tuntap add tap0 mode tap
ipn ip link set tap0 master br0
ipn ip link set tap0 up

# One VM boot: WAY (direct|hand|pivot); leaves the seconds from QEMU's start to the marker in $BENCH_WORK/took, and
# to iPXE's first DHCP request in $BENCH_WORK/firmware (empty for the direct boot).
FIRMWARE_DONE='Configuring (net0'
vm() {
  local way=$1 log="$BENCH_WORK/serial-$1.log" start end qpid tpid="" args=() fw=""
  : > "$log"
  if [ "$way" = direct ]; then
    args=(-kernel "$img/bzImage" -initrd "$img/initrd" -append "$cmdline" -nic none)
  else
    args=(-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device "virtio-net-pci,netdev=n0,mac=$MAC" -boot n)
  fi
  start=$(date +%s.%N)
  if [ -n "${BENCH_SERIAL_TIMES:-}" ]; then # a program that prints the serial log's lines with their times
    $BENCH_SERIAL_TIMES "$log" "$start" > "$BENCH_WORK/serial-times-$way-round${r:-0}.txt" 2>&1 &
    tpid=$!
    BENCH_PIDS+=("$tpid")
  fi
  ip netns exec "$NS" qemu-system-x86_64 "${accel[@]}" -m 768 -smp 1 -nographic -serial "file:$log" -monitor none "${args[@]}" \
    > "$BENCH_WORK/qemu-$way.out" 2>&1 &
  qpid=$!
  BENCH_PIDS+=("$qpid")
  end=""
  while :; do
    if grep -aq "$MARKER" "$log"; then end=$(date +%s.%N); break; fi
    [ -n "$fw" ] || [ "$way" = direct ] || ! grep -aqF "$FIRMWARE_DONE" "$log" || fw=$(date +%s.%N)
    # The image powers off right after its marker: one last look once QEMU has ended.
    kill -0 "$qpid" 2>/dev/null || { grep -aq "$MARKER" "$log" && end=$(date +%s.%N); break; }
    awk -v n="$(date +%s.%N)" -v s="$start" -v t="$TIMEOUT" 'BEGIN { exit !(n - s > t) }' && break
    sleep 0.05
  done
  kill "$qpid" 2>/dev/null || true
  wait "$qpid" 2>/dev/null || true
  if [ -n "$tpid" ]; then # ended with its boot: the next round's log reuses the path, with another start time
    sleep 0.2
    kill "$tpid" 2>/dev/null || true
    wait "$tpid" 2>/dev/null || true
  fi
  if [ -z "$end" ]; then
    echo "bench: $way: no '$MARKER' within ${TIMEOUT}s; serial:" >&2
    tr -d '\r' < "$log" | tail -20 >&2
    return 1
  fi
  cp "$log" "$BENCH_WORK/last-serial-$way.log"
  awk -v e="$end" -v s="$start" 'BEGIN { printf "%.2f", e - s }' > "$BENCH_WORK/took"
  if [ -n "$fw" ]; then awk -v e="$fw" -v s="$start" 'BEGIN { printf "%.2f", e - s }'; fi > "$BENCH_WORK/firmware"
}

start_hand() {
  ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root --interface=br0 --bind-interfaces \
    --except-interface=lo --dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h --no-ping \
    --dhcp-leasefile="$BENCH_WORK/hand.leases" --pid-file="$BENCH_WORK/hand.pid" --enable-tftp --tftp-root="$tftp" \
    --dhcp-match=set:ipxe,175 --dhcp-boot=tag:ipxe,http://10.77.0.1:8080/netboot.ipxe \
    --dhcp-boot=tag:!ipxe,undionly.kpxe \
    --enable-ra --dhcp-range=::,constructor:br0,ra-only --ra-param=br0,10,0 \
    --log-facility="$BENCH_WORK/hand.log" &
  HAND_DNSMASQ=$!
  BENCH_PIDS+=("$HAND_DNSMASQ")
  (cd "$www" && exec ip netns exec "$NS" python3 -m http.server --bind 10.77.0.1 8080 > "$BENCH_WORK/http.log" 2>&1) &
  HAND_HTTP=$!
  BENCH_PIDS+=("$HAND_HTTP")
  for _ in $(seq 1 100); do
    ipn ss -Hlun "sport = :67" | grep -q . && ipn ss -Hltn "sport = :8080" | grep -q . && return 0
    sleep 0.1
  done
  echo "bench: the hand-built netboot's dnsmasq or http.server did not start" >&2; return 1
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# start_pivot [CLASSPATH|bare|native]: this checkout's pivot serve, the one on CLASSPATH (the baseline), or this
# checkout's in kernel + initrd mode or with --stage1 native
start_pivot() {
  local log="$BENCH_WORK/pivot${1:+-base}.log" java=("${PIVOT_JAVA[@]}") what=("$img")
  if [ "${1:-}" = bare ]; then
    log="$BENCH_WORK/pivot-bare.log"
    what=(--kernel "$img/bzImage" --initrd "$img/initrd" --cmdline "$cmdline")
  elif [ "${1:-}" = native ]; then
    log="$BENCH_WORK/pivot-native.log"
    what=("$img" --stage1 native)
  elif [ -n "${1:-}" ]; then
    java=("${PIVOT_JAVA[@]:0:${#PIVOT_JAVA[@]}-1}" "$1") # the same JVM options, its class path
  fi
  rm -rf "$BENCH_WORK/state"
  ip netns exec "$NS" "${java[@]}" dev.pivot.cli.Main serve "${what[@]}" --interface br0 --dhcp full \
    --range 10.77.0.100-10.77.0.199 --state "$BENCH_WORK/state" > "$log" 2>&1 &
  PIVOT_PID=$!
  BENCH_PIDS+=("$PIVOT_PID")
  bench_wait_for_line "$log" "^pivot: waiting for machines" "$PIVOT_PID" 300
}

declare -A times firmware
order=("${WAYS[@]}")
for ((r = 1; r <= ROUNDS; r++)); do
  for way in "${order[@]}"; do
    case "$way" in
      hand) start_hand ;;
      pivot) start_pivot ;;
      base) start_pivot "$BASE_CP" ;;
      bare|native) start_pivot "$way" ;;
    esac
    vm "$way" || exit 1
    t=$(cat "$BENCH_WORK/took")
    fw=$(cat "$BENCH_WORK/firmware")
    case "$way" in
      hand) stop_pid "$HAND_DNSMASQ"; stop_pid "$HAND_HTTP" ;;
      pivot|base|bare|native) stop_pid "$PIVOT_PID" ;;
    esac
    times[$way]="${times[$way]:-} $t"
    [ -z "$fw" ] || firmware[$way]="${firmware[$way]:-} $fw"
    dhcp_at=""; [ -z "$fw" ] || dhcp_at=" (iPXE's first DHCP at $fw s)"
    echo "round $r  $way  ${t} s$dhcp_at  (load average $(bench_loadavg))"
  done
  order=("${order[@]:1}" "${order[0]}") # the next round starts with the next way
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo
echo "QEMU start -> '$MARKER', median of $ROUNDS rounds:"
for way in direct hand pivot base bare native; do
  [ -n "${times[$way]:-}" ] || continue
  m=$(echo "${times[$way]}" | median)
  declare "median_$way=$m"
  printf '  %-28s %s s   [%s ]\n' "$(case $way in direct) echo "direct kernel boot (floor)" ;; hand) echo "hand-built netboot" ;; pivot) echo "pivot serve" ;; base) echo "pivot serve (baseline)" ;; bare) echo "pivot serve, kernel + initrd" ;; native) echo "pivot serve --stage1 native" ;; esac)" "$m" "${times[$way]# }"
done
if [ -n "${times[direct]:-}" ] && [ -n "${times[hand]:-}" ] && [ -n "${times[pivot]:-}" ]; then
  awk -v d="$median_direct" -v h="$median_hand" -v p="$median_pivot" 'BEGIN {
    printf "  pivot - direct = %+.2f s (goal <= 3 s); pivot / hand = %.2f (goal <= 0.90)\n", p - d, p / h }'
fi
for way in hand pivot base bare native; do
  [ -n "${firmware[$way]:-}" ] || continue
  printf '  %-28s %s s   [%s ]\n' "$way: firmware to iPXE's DHCP" "$(echo "${firmware[$way]}" | median)" "${firmware[$way]# }"
done
if [ -n "${times[direct]:-}" ] && [ -n "${firmware[pivot]:-}" ]; then
  awk -v d="$median_direct" -v p="$median_pivot" -v f="$(echo "${firmware[pivot]}" | median)" 'BEGIN {
    printf "  pivot - direct - firmware = %+.2f s (the rest: DHCP, downloads, kernel start-up, stage 1)\n", p - d - f }'
fi
if [ -n "${times[direct]:-}" ] && [ -n "${times[bare]:-}" ]; then
  awk -v d="$median_direct" -v b="$median_bare" 'BEGIN { printf "  bare - direct = %+.2f s (a Pivot netboot with no stage 1 of its own)\n", b - d }'
fi
if [ -n "${times[direct]:-}" ] && [ -n "${times[native]:-}" ]; then
  awk -v d="$median_direct" -v n="$median_native" -v h="${median_hand:-0}" 'BEGIN {
    printf "  native - direct = %+.2f s", n - d; if (h > 0) printf "; native / hand = %.2f", n / h; print "" }'
fi
if [ -n "${times[bare]:-}" ] && [ -n "${times[pivot]:-}" ]; then
  awk -v b="$median_bare" -v p="$median_pivot" 'BEGIN { printf "  pivot - bare = %+.2f s (what its stage 1 adds: NIC driver, reports, root image split off and fetched)\n", p - b }'
fi
if [ -n "${times[base]:-}" ] && [ -n "${times[pivot]:-}" ]; then
  awk -v b="$median_base" -v p="$median_pivot" 'BEGIN { printf "  pivot - baseline = %+.2f s\n", p - b }'
fi
echo "bench: load average after: $(bench_loadavg)"
