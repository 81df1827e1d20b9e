#!/usr/bin/env bash
# The attacks of issue 16 against the real `pivot serve` on loopback (127.0.0.0/8 only: each attacker uses an
# address of its own, the legitimate client 127.0.0.1), bounded in count and time. Per attack: requests sent,
# legitimate fetches (script + kernel over HTTP + one TFTP file) served / failed during it, Pivot's peak RSS, threads
# and descriptors; then whether the log holds an OutOfMemoryError.
#
# BENCH_PIVOT_HOME=DIR runs the pivot serve built in DIR instead (another checkout, for before/after figures);
# BENCH_ATTACKS=a,b runs only those (tftp-flood, tftp-window, report-flood, conn-flood, download-hold, big-body,
# machines-read). Pivot runs with ./pivot's JVM flags (-Xmx256m).
#
# Then (BENCH_VM=1, the default; needs root) the same server in a private network namespace pvt-abusevm-* with
# `--dhcp full` on a bridge, and a QEMU machine (TCG, the demo image) that boots through it to stage 2 while one
# attack runs from a second namespace pvt-abusea-* on the same bridge: the TFTP flood, the report flood, and a DHCP
# flood of random MACs. Each attack is repeated until the VM reached stage 2 (at most BENCH_TIMEOUT s, 300); the VM
# is the legitimate client, with the HTTP/TFTP fetcher alongside. Both namespaces are deleted on every exit path;
# every process is ended by PID. BENCH_VM_ATTACKS overrides the list.
source "$(dirname "$0")/lib.sh"

bench_build
if [ -n "${BENCH_PIVOT_HOME:-}" ]; then
  [ -f "$BENCH_PIVOT_HOME/target/classpath.txt" ] || (cd "$BENCH_PIVOT_HOME" && ./mvnw -q -B -o -DskipTests package >&2)
  # The attacks and the client stay ours (target/bench-classes); only the server is the other build.
  PIVOT_JAVA=("$JAVA_HOME/bin/java" $PIVOT_DEFAULT_JAVA_OPTS --enable-native-access=ALL-UNNAMED
    --add-exports java.base/sun.nio.ch=ALL-UNNAMED
    -cp "$BENCH_PIVOT_HOME/target/classes:$(cat "$BENCH_PIVOT_HOME/target/classpath.txt")")
  echo "bench: pivot serve from $BENCH_PIVOT_HOME ($(git -C "$BENCH_PIVOT_HOME" rev-parse --short HEAD 2>/dev/null || echo '?'))"
fi
ulimit -n 20000
echo "bench: load average before: $(bench_loadavg) ($(nproc) cores)"
nb="$BENCH_WORK/netboot"
bench_make_netboot "$nb" 2048 1024 4096
http_port=$(bench_free_port)
tftp_port=$(bench_free_port)
bench_start_pivot_serve "$nb" "$http_port" "$tftp_port" "$BENCH_WORK/state"
echo "bench: pivot serve PID $PIVOT_PID"
if [ "${BENCH_ATTACKS:-}" != none ]; then
  "$JAVA_HOME/bin/java" -Xmx512m -cp "$BENCH_CP" dev.pivot.bench.Abuse "$PIVOT_PID" "$http_port" \
    "$tftp_port" "$BENCH_WORK/pivot.log" undionly.kpxe "$(cat "$BENCH_WORK/state/api-token")" "${BENCH_ATTACKS:-}"
fi
kill "$PIVOT_PID" 2>/dev/null || true; wait "$PIVOT_PID" 2>/dev/null || true
echo "bench: load average after: $(bench_loadavg)"

[ "${BENCH_VM:-1}" = 1 ] || exit 0
[ "$(id -u)" = 0 ] || { echo "bench: the VM part needs root (network namespaces, a tap); BENCH_VM=0 skips it" >&2; exit 2; }
pivot_apt_install qemu-system-x86 ipxe-qemu busybox-static squashfs-tools cpio zstd
TIMEOUT=${BENCH_TIMEOUT:-300}
MARKER='PIVOT-DEMO: stage 2 reached'
VM_MAC=52:54:00:ab:05:71
ID=$(printf '%06x' $((RANDOM * 32768 + RANDOM)))
NS="pvt-abusevm-$ID"; NSA="pvt-abusea-$ID"
vm_cleanup() {
  bench_cleanup
  ip netns del "$NS" 2>/dev/null || true
  ip netns del "$NSA" 2>/dev/null || true
}
trap vm_cleanup EXIT
ip netns add "$NS"; ip netns add "$NSA"
ip -n "$NS" link set lo up; ip -n "$NSA" link set lo up
ip -n "$NS" link add br0 type bridge forward_delay 0
ip -n "$NS" addr add 10.77.0.1/24 dev br0
ip -n "$NS" link set br0 up
ip -n "$NS" tuntap add tap0 mode tap
ip -n "$NS" link set tap0 master br0; ip -n "$NS" link set tap0 up
ip link add "pvs$ID" netns "$NS" type veth peer name "pva$ID" netns "$NSA"
ip -n "$NS" link set "pvs$ID" master br0; ip -n "$NS" link set "pvs$ID" up
# The fetcher's address first (the one the kernel picks), then one per attacker (10.77.0.2…10.77.0.9).
ip -n "$NSA" addr add 10.77.0.250/24 dev "pva$ID"
for n in 2 3 4 5 6 7 8 9; do ip -n "$NSA" addr add "10.77.0.$n/24" dev "pva$ID"; done
ip -n "$NSA" link set "pva$ID" up

img="$BENCH_WORK/demo-image"
"$PIVOT_HOME/scripts/make-demo-image.sh" "$img" >&2
vlog="$BENCH_WORK/pivot-vm.log"
ip netns exec "$NS" "${PIVOT_JAVA[@]}" dev.pivot.cli.Main serve "$img" --interface br0 --dhcp full \
  --range 10.77.0.100-10.77.0.199 --state "$BENCH_WORK/state-vm" > "$vlog" 2>&1 &
VM_PIVOT=$!; BENCH_PIDS+=("$VM_PIVOT")
bench_wait_for_line "$vlog" "^pivot: waiting for machines" "$VM_PIVOT" 300
echo
echo "bench: in namespace $NS: pivot serve PID $VM_PIVOT (--dhcp full on br0), a QEMU VM (TCG, 768 MB) booting"
echo "       the demo image to stage 2 during each attack; attackers and the HTTP/TFTP fetcher in $NSA"
read -r -a VM_ATTACKS <<< "${BENCH_VM_ATTACKS:-tftp-flood report-flood dhcp-flood}"
printf "%-16s %10s %9s %9s %9s %8s %6s  %s\n" attack requests "legit ok" "legit bad" "peak RSS" threads fds \
  "refused (pivot_refused_total, after)"
for attack in "${VM_ATTACKS[@]}"; do
  serial="$BENCH_WORK/serial-$attack.log"; until_file="$BENCH_WORK/stage2-$attack"
  : > "$serial"; rm -f "$until_file"
  ip netns exec "$NSA" "$JAVA_HOME/bin/java" -Xmx512m -Dabuse.server=10.77.0.1 -Dabuse.attackers=10.77.0. \
    -Dabuse.legit=10.77.0.250 -Dabuse.until="$until_file" -Dabuse.until.seconds="$TIMEOUT" -cp "$BENCH_CP" \
    dev.pivot.bench.Abuse "$VM_PIVOT" 80 69 "$vlog" undionly.kpxe "$(cat "$BENCH_WORK/state-vm/api-token")" \
    "$attack" > "$BENCH_WORK/abuse-$attack.out" 2>&1 &
  abuse=$!; BENCH_PIDS+=("$abuse")
  sleep 1 # the attack is under way before the VM's firmware asks for anything (not an assertion)
  start=$(date +%s.%N)
  ip netns exec "$NS" qemu-system-x86_64 -accel tcg -m 768 -smp 1 -nographic -serial "file:$serial" -monitor none \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device "virtio-net-pci,netdev=n0,mac=$VM_MAC" -boot n \
    > "$BENCH_WORK/qemu-$attack.out" 2>&1 &
  qpid=$!; BENCH_PIDS+=("$qpid")
  took=""
  while :; do
    if grep -aq "$MARKER" "$serial"; then took=$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN{printf "%.1f", n-s}'); break; fi
    kill -0 "$qpid" 2>/dev/null || { grep -aq "$MARKER" "$serial" && took=done; break; }
    awk -v n="$(date +%s.%N)" -v s="$start" -v t="$TIMEOUT" 'BEGIN { exit !(n - s > t) }' && break
    sleep 0.2
  done
  touch "$until_file"
  kill "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true
  wait "$abuse" 2>/dev/null || true
  grep -v '^attack ' "$BENCH_WORK/abuse-$attack.out" | grep -v '^OutOfMemoryError' || true
  records=$(ip netns exec "$NSA" curl -s --max-time 20 "http://10.77.0.1/api/v1/machines?limit=5000" \
    -H "Authorization: Bearer $(cat "$BENCH_WORK/state-vm/api-token")" | grep -o '"firstSeen"' | wc -l)
  echo "                 machine records after $attack: $records"
  if [ -n "$took" ]; then
    echo "                 VM boot during $attack: stage 2 reached in $took s (load average $(bench_loadavg))"
  else
    echo "                 VM boot during $attack: NO stage 2 within ${TIMEOUT}s; serial:"
    tr -d '\r' < "$serial" | tail -15
  fi
done
echo "OutOfMemoryError in the namespace server's log: $(grep -q OutOfMemoryError "$vlog" && echo YES || echo no)"
echo "bench: load average after the VM part: $(bench_loadavg)"
