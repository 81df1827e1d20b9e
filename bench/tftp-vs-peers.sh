#!/usr/bin/env bash
# TFTP throughput: Pivot vs tftpd-hpa vs dnsmasq-base, same clients, same run, inside a fresh network namespace
# (loopback only). Prints MiB/s per server and the ratio Pivot / best peer, plus windowsize 64 vs lock-step.
#
#   sudo bench/tftp-vs-peers.sh [REPS]      (REPS: runs per 1 MiB case, median reported; default 3)
#   SIZES="64m" CASES="curl512" sudo -E bench/tftp-vs-peers.sh    (a subset, e.g. while tuning one case)
#   LOSS=5 sudo -E bench/tftp-vs-peers.sh 1  (nftables drops 5 % of the packets after the warm-up; every client on
#                                             1 MiB, each fetch bounded by BOUND seconds, default 60)
#   BENCH_BASELINE_HOME=DIR sudo -E bench/tftp-vs-peers.sh   (the pivot serve built in DIR, another checkout, takes
#                                             its turns as a fourth server: a column of its own, not in the ratio,
#                                             for before/after figures under the same load)
#
# Needs root (ip netns), Debian packages: curl atftp tftpd-hpa dnsmasq-base iproute2 cpio squashfs-tools, and JDK 25.
# Every process is started by this script and ended by PID in the EXIT trap; the namespace is deleted there too.
set -euo pipefail
REPS=${1:-3}
LOSS=${LOSS:-0}
BOUND=${BOUND:-300}
if [ "$LOSS" != 0 ]; then
    BOUND=${BOUND_LOSS:-60}
    SIZES=${SIZES:-1m}
    CASES=${CASES:-curl512 curl1468 tftphpa atftp512 atftp1468 bb512 bb1468}
fi
HERE=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
for p in curl atftp /usr/sbin/in.tftpd dnsmasq ip; do
    command -v "$p" >/dev/null || { echo "missing $p (Debian: curl atftp tftpd-hpa dnsmasq-base iproute2)" >&2; exit 2; }
done
if [ "$LOSS" != 0 ]; then
    for p in nft tftp busybox; do
        command -v "$p" >/dev/null || { echo "missing $p (Debian: nftables tftp-hpa busybox-static)" >&2; exit 2; }
    done
fi

# shellcheck source=scripts/common.sh
source "$HERE/scripts/common.sh"
pivot_build_if_needed # before entering the namespace: ./pivot must not build inside it
BASELINE_DIR=${BENCH_BASELINE_HOME:-}
if [ -n "$BASELINE_DIR" ]; then
    [ -x "$BASELINE_DIR/pivot" ] || { echo "no ./pivot in $BASELINE_DIR" >&2; exit 2; }
    # shellcheck source=scripts/common.sh
    (cd "$BASELINE_DIR" && source scripts/common.sh && pivot_build_if_needed)
    echo "baseline: pivot serve from $BASELINE_DIR ($(git -C "$BASELINE_DIR" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"
fi

WORK=$(mktemp -d /tmp/pvt-tftpbench.XXXXXX)
NS=pvt-tftpbench-$$
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
chmod 755 "$WORK"; mkdir -m 755 "$WORK/root"
head -c $((1 << 20)) /dev/urandom > "$WORK/root/1m.bin"
head -c $((64 << 20)) /dev/urandom > "$WORK/root/64m.bin"
chmod 644 "$WORK/root/"*.bin

ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }
# Servers start with "ip netns exec" itself, not in_ns: "$!" of a backgrounded function is a subshell, and killing
# that by PID would leave the server running.

# Pivot: `pivot serve` as shipped (DHCP off), the files under test as its TFTP root. It needs an image to serve: a
# tiny NixOS-shaped one (a stand-in kernel, a one-file stage 1 and root image).
mkdir -p "$WORK/image" "$WORK/src/stage1" "$WORK/src/store/bench-system"
head -c 4096 /dev/urandom > "$WORK/image/bzImage"
printf '#!/bin/sh\nexec /bin/sh\n' > "$WORK/src/store/bench-system/init"; chmod 755 "$WORK/src/store/bench-system/init"
cp "$WORK/src/store/bench-system/init" "$WORK/src/stage1/init"
(cd "$WORK/src/stage1" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/image/initrd"
mksquashfs "$WORK/src/store" "$WORK/src/nix-store.squashfs" -quiet -noappend -comp gzip > /dev/null
(cd "$WORK/src" && echo nix-store.squashfs | cpio -o -H newc --quiet | gzip -1) >> "$WORK/image/initrd"
printf '#!ipxe\nkernel bzImage init=/nix/store/bench-system/init initrd=initrd ${cmdline}\ninitrd initrd\nboot\n' \
    > "$WORK/image/netboot.ipxe"
ip netns exec "$NS" "$HERE/pivot" serve "$WORK/image" --skip-check --listen 127.0.0.1 --dhcp off --tftp-port 6970 \
    --http-port 6980 --tftp-root "$WORK/root" --state "$WORK/state" --limit tftp-transfers-per-client=256 \
    > "$WORK/pivot.log" 2>&1 &
PIDS+=($!)
# tftpd-hpa: "-a :PORT" because its AI_ADDRCONFIG lookup of 127.0.0.1 fails where only loopback exists.
ip netns exec "$NS" /usr/sbin/in.tftpd -4 -L -s "$WORK/root" -a :6969 &
PIDS+=($!)
# dnsmasq-base 2.90: TFTP only on port 69 (no port option), DNS off, nothing but 127.0.0.1 in this namespace.
ip netns exec "$NS" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --user=root --pid-file= --bind-interfaces \
    --listen-address=127.0.0.1 --enable-tftp --tftp-root="$WORK/root" --log-facility="$WORK/dnsmasq.log" \
    > "$WORK/dnsmasq.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 600); do grep -q '^pivot: waiting for machines' "$WORK/pivot.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^pivot: waiting for machines' "$WORK/pivot.log" || { echo "Pivot did not start: $(cat "$WORK/pivot.log")" >&2; exit 1; }
PIVOT_PORT=6970
declare -A PORT=([pivot]=$PIVOT_PORT [tftpd-hpa]=6969 [dnsmasq]=69 [baseline]=6972)
SERVERS=(pivot tftpd-hpa dnsmasq)
if [ -n "$BASELINE_DIR" ]; then
    ip netns exec "$NS" "$BASELINE_DIR/pivot" serve "$WORK/image" --skip-check --listen 127.0.0.1 --dhcp off \
        --tftp-port 6972 --http-port 6982 --tftp-root "$WORK/root" --state "$WORK/state-baseline" \
        --limit tftp-transfers-per-client=256 > "$WORK/baseline.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 600); do grep -q '^pivot: waiting for machines' "$WORK/baseline.log" 2>/dev/null && break; sleep 0.1; done
    grep -q '^pivot: waiting for machines' "$WORK/baseline.log" || { echo "baseline did not start: $(cat "$WORK/baseline.log")" >&2; exit 1; }
    SERVERS+=(baseline)
fi

# One fetch; prints elapsed ms, or "fail".
fetch() {  # server file client-case
    local port=${PORT[$1]} file=$2 out="$WORK/out" start end
    rm -f "$out"
    start=$(date +%s%N)
    case $3 in
        curl512)  in_ns timeout "$BOUND" curl -sS --tftp-blksize 512  -o "$out" "tftp://127.0.0.1:$port/$file" ;;
        curl1468) in_ns timeout "$BOUND" curl -sS --tftp-blksize 1468 -o "$out" "tftp://127.0.0.1:$port/$file" ;;
        tftphpa)  in_ns timeout "$BOUND" tftp -m binary 127.0.0.1 "$port" -c get "$file" "$out" ;;
        atftp512) in_ns timeout "$BOUND" atftp -g -r "$file" -l "$out" 127.0.0.1 "$port" ;;
        atftp1468) in_ns timeout "$BOUND" atftp --option "blksize 1468" -g -r "$file" -l "$out" 127.0.0.1 "$port" ;;
        bb512)    in_ns timeout "$BOUND" busybox tftp -g -b 512 -r "$file" -l "$out" 127.0.0.1 "$port" ;;
        bb1468)   in_ns timeout "$BOUND" busybox tftp -g -b 1468 -r "$file" -l "$out" 127.0.0.1 "$port" ;;
        ws16)     in_ns timeout "$BOUND" atftp --option "blksize 1468" --option "windowsize 16" -g -r "$file" -l "$out" 127.0.0.1 "$port" ;;
        ws64)     in_ns timeout "$BOUND" atftp --option "blksize 1468" --option "windowsize 64" -g -r "$file" -l "$out" 127.0.0.1 "$port" ;;
    esac >/dev/null 2>&1 || { echo fail; return; }
    end=$(date +%s%N)
    cmp -s "$out" "$WORK/root/$file" || { echo fail; return; }
    echo $(( (end - start) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "fail")}'; }
mibs() { awk -v ms="$1" -v mib="$2" 'BEGIN { if (ms == "fail") print "fail"; else printf "%.1f", mib * 1000 / (ms < 1 ? 1 : ms) }'; }
# What a cell shows: MiB/s, or under loss the seconds a fetch took (a fail there: not done within BOUND).
show() { if [ "$LOSS" = 0 ]; then mibs "$1" "$2"; else awk -v ms="$1" 'BEGIN { if (ms == "fail") print "fail"; else printf "%.1f s", ms / 1000 }'; fi; }

# Warm-up, not measured: every server serves the 1 MiB file once to each client, as a running server would have
# (page cache, and Pivot's JIT compiles its per-block loop).
for c in ${CASES:-curl512 curl1468 atftp512 ws16 ws64}; do
    for s in "${SERVERS[@]}"; do fetch "$s" 1m.bin "$c" >/dev/null; done
done
if [ "$LOSS" != 0 ]; then
    # As in TftpLossIT: the option handshake (OACK, ACK 0) is exempt, for every server alike (atftp aborts on a
    # repeated OACK); @th,64 is the TFTP opcode after the 8-byte UDP header.
    in_ns nft "add table inet pvtloss; add chain inet pvtloss in { type filter hook input priority 0; policy accept; };
        add rule inet pvtloss in meta l4proto udp @th,64,32 != 0x00040000 @th,64,16 != 6 numgen random mod 100 lt $LOSS counter drop"
    echo "$LOSS % of the packets dropped from here on; a fetch not done in $BOUND s counts as a failure"
fi
echo "TFTP throughput, $([ "$LOSS" = 0 ] && echo "MiB/s" || echo "seconds per fetch") (median of $REPS for 1 MiB, 1 run for 64 MiB; servers take turns, each rep starting"
echo "with the next one, so a slow spell of the host falls on all of them); load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-26s %10s %10s %10s %14s' size case pivot tftpd-hpa dnsmasq 'pivot/best'
[ -n "$BASELINE_DIR" ] && printf ' %10s' baseline
echo
declare -A MS
for size in ${SIZES:-1m 64m}; do
    reps=$REPS; mib=1; [ $size = 64m ] && { reps=1; mib=64; }
    for c in ${CASES:-curl512 curl1468 atftp512 ws16 ws64}; do
        declare -A rate=() runs=()
        servers=("${SERVERS[@]}")
        n=${#servers[@]}
        for r in $(seq "$reps"); do
            for i in $(seq 0 $((n - 1))); do
                s=${servers[$(( (r + i) % n ))]}
                runs[$s]="${runs[$s]:-} $(fetch "$s" "$size.bin" "$c")"
            done
        done
        for s in "${servers[@]}"; do
            ms=$(printf '%s\n' ${runs[$s]} | { grep -v fail || true; } | median)
            MS[$size,$c,$s]=$ms
            rate[$s]=$(show "$ms" "$mib")
        done
        # Pivot / best peer in throughput = the best peer's time / Pivot's. A peer that did not finish within the
        # bound took longer than that: when none did, the ratio is at least bound / Pivot's time.
        best=$(printf '%s\n' "${MS[$size,$c,tftpd-hpa]}" "${MS[$size,$c,dnsmasq]}" | { grep -v fail || true; } | sort -n | head -1)
        more=""
        [ -n "$best" ] || { best=$((BOUND * 1000)); more=">"; }
        ratio=$(awk -v p="${MS[$size,$c,pivot]}" -v b="$best" -v m="$more" 'BEGIN { if (p == "fail") print "n/a"; else printf "%s%.2fx", m, b / (p < 1 ? 1 : p) }')
        label=$c
        case $c in
            curl512) label="curl blksize 512";; curl1468) label="curl blksize 1468";;
            atftp512) label="atftp lock-step 512";; ws16) label="atftp 1468 windowsize 16";;
            tftphpa) label="tftp-hpa 512";; atftp1468) label="atftp lock-step 1468";;
            bb512) label="busybox 512";; bb1468) label="busybox 1468";;
            ws64) label="atftp 1468 windowsize 64";;
        esac
        printf '%-6s %-26s %10s %10s %10s %14s' "$size" "$label" "${rate[pivot]}" "${rate[tftpd-hpa]}" \
            "${rate[dnsmasq]}" "$ratio"
        [ -n "$BASELINE_DIR" ] && printf ' %10s' "${rate[baseline]}"
        echo
    done
done
for size in ${SIZES:-1m 64m}; do
    [ -n "${MS[$size,atftp512,pivot]:-}" ] && [ -n "${MS[$size,ws64,pivot]:-}" ] || continue
    awk -v a="${MS[$size,atftp512,pivot]}" -v b="${MS[$size,ws64,pivot]}" -v s=$size 'BEGIN {
        if (a != "fail" && b != "fail" && b > 0) printf "Pivot %s: atftp windowsize 64 (blksize 1468) is %.1fx faster than lock-step 512\n", s, a / b }'
done
echo "Peers: tftpd-hpa 5.2 and dnsmasq 2.90 do not implement windowsize (RFC 7440): they answer the windowsize rows lock-step."
