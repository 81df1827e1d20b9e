#!/usr/bin/env bash
# Development harness: boots the demo image + Pivot's prelude in a QEMU VM with only Debian peers
# (dnsmasq-base for DHCP/TFTP/RA, busybox httpd for HTTP), all inside a throw-away network namespace.
# It proves the image and the prelude before Pivot's own servers exist, and measures QEMU start → marker.
#
# Usage (root): scripts/dev-netboot-harness.sh bios|uefi|uefi-pxe|e1000
#               scripts/dev-netboot-harness.sh prepare DIR http://ADDR:PORT   (only writes DIR/http, DIR/tftp;
#               the Java DevHarnessIT serves them with the lab classes)
# Env: PIVOT_HARNESS_TIMEOUT (s, default 180), PIVOT_SHELL=1 adds pivot.shell.
set -euo pipefail
MODE="${1:?usage: $0 bios|uefi|uefi-pxe|e1000 | prepare DIR URL}"
HOME_DIR="$(cd "$(dirname "$0")/.." && pwd)"
TIMEOUT="${PIVOT_HARNESS_TIMEOUT:-180}"
if [ "$MODE" = prepare ]; then
  W="${2:?prepare needs a directory}"; A="${3:?prepare needs the HTTP base URL}"; mkdir -p "$W"
else
  W="$(mktemp -d /tmp/pvt-harness.XXXXXX)"; A=http://10.77.0.1:8080
fi
chmod 0755 "$W"  # dnsmasq drops to nobody and must read the TFTP root
NS="pvt-harness-$RANDOM$RANDOM"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$W"
}
[ "$MODE" = prepare ] || trap cleanup EXIT INT TERM

PARTS="$W/parts"
"$HOME_DIR/scripts/make-demo-image.sh" --parts "$PARTS" "$W/img" 2>/dev/null
INIT="$(grep -o 'init=[^ ]*' "$W/img/netboot.ipxe")"

H="$W/http"; T="$W/tftp"
mkdir -p "$H" "$T" "$W/prelude/pivot" "$W/prelude/dev"
cp "$W/img/bzImage" "$H/bzImage"
cp "$PARTS/stage1.cpio.gz" "$H/initrd"
cp "$PARTS/nix-store.squashfs" "$H/nix-store.squashfs"
echo ok > "$H/report"
P="$HOME_DIR/src/main/resources/dev/pivot/stage1/prelude"
install -m 0755 "$P/init" "$W/prelude/pivot/init"
install -m 0755 "$P/udhcpc.script" "$W/prelude/pivot/udhcpc.script"
install -m 0755 /bin/busybox "$W/prelude/pivot/busybox"
rm -f "$W/prelude/dev/console"; mknod "$W/prelude/dev/console" c 5 1
(cd "$W/prelude" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n > "$H/pivot.cpio.gz"
s=$(stat -c %s "$H/pivot.cpio.gz"); head -c $(( (4 - s % 4) % 4 )) /dev/zero >> "$H/pivot.cpio.gz"
SHA="$(sha256sum "$H/nix-store.squashfs" | cut -d' ' -f1)"
cat > "$H/boot.ipxe" <<EOF
#!ipxe
kernel $A/bzImage initrd=initrd initrd=pivot.cpio.gz rdinit=/pivot/init pivot.url=$A pivot.mac=\${net0/mac} pivot.root=$A/nix-store.squashfs pivot.sha256=$SHA $INIT console=ttyS0 loglevel=4${PIVOT_SHELL:+ pivot.shell}
initrd $A/initrd
initrd $A/pivot.cpio.gz
boot
EOF
cp /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi "$T/"
[ "$MODE" = prepare ] && exit 0

ip netns add "$NS"
ipn() { ip netns exec "$NS" "$@"; }
ipn ip link set lo up
ipn ip tuntap add tap0 mode tap
ipn ip addr add 10.77.0.1/24 dev tap0
ipn ip -6 addr add fd77:77::1/64 dev tap0 nodad
ipn ip link set tap0 up
ip netns exec "$NS" busybox httpd -f -p 10.77.0.1:8080 -h "$H" & PIDS+=($!)
ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --interface=tap0 --bind-interfaces \
  --dhcp-range=10.77.0.100,10.77.0.200,255.255.255.0,1h --no-ping --dhcp-leasefile="$W/leases" \
  --pid-file="$W/dnsmasq.pid" --enable-tftp --tftp-root="$T" \
  --dhcp-match=set:ipxe,175 --dhcp-match=set:efi64,option:client-arch,7 \
  --dhcp-boot=tag:ipxe,$A/boot.ipxe --dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi \
  --dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe \
  --enable-ra --dhcp-range=::,constructor:tap0,ra-only --ra-param=tap0,10,0 \
  --log-facility="$W/dnsmasq.log" & PIDS+=($!)

NIC="virtio-net-pci,netdev=n0,mac=52:54:00:77:00:10"
FW=()
case "$MODE" in
  bios) ;;
  e1000) NIC="e1000,netdev=n0,mac=52:54:00:77:00:10" ;;
  uefi) FW=(-bios /usr/share/ovmf/OVMF.fd) ;;
  uefi-pxe) FW=(-bios /usr/share/ovmf/OVMF.fd); NIC="$NIC,romfile=" ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
LOG="$W/serial.log"; : > "$LOG"
sleep 0.5
START=$(date +%s.%N)
ip netns exec "$NS" qemu-system-x86_64 -accel tcg -m 768 -nographic -serial file:"$LOG" -monitor none "${FW[@]}" \
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device "$NIC" -boot n & QPID=$!; PIDS+=($QPID)
rc=1
while kill -0 $QPID 2>/dev/null; do
  if grep -q 'PIVOT-DEMO: stage 2 reached' "$LOG"; then rc=0; break; fi
  awk -v n="$(date +%s.%N)" -v s="$START" -v t="$TIMEOUT" 'BEGIN { exit !(n - s > t) }' && break
  sleep 0.2
done
grep -q 'PIVOT-DEMO: stage 2 reached' "$LOG" && rc=0
END=$(date +%s.%N)
kill $QPID 2>/dev/null || true
wait $QPID 2>/dev/null || true
tr -d '\r' < "$LOG" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | grep -av '^\s*$' | tail -25
echo "----"
if [ $rc = 0 ]; then
  printf 'harness %s: marker after %.1f s (QEMU start → "PIVOT-DEMO: stage 2 reached")\n' "$MODE" "$(awk -v e="$END" -v s="$START" 'BEGIN { print e - s }')"
else
  echo "harness $MODE: NO marker within ${TIMEOUT}s"
fi
exit $rc
