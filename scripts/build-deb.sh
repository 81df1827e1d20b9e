#!/usr/bin/env bash
# Builds the Debian package from what `./mvnw package` left in target/: a Java runtime made with jlink (Debian 12
# ships no JDK 25), the jars, /usr/bin/pivot, pivot.service, /etc/pivot/pivot.yaml, a man page and the bash and zsh
# completion. Usage: scripts/build-deb.sh [OUT_DIR] (default target/); prints the .deb's path.
# The release build runs it: ./mvnw -B -Prelease package
set -euo pipefail
source "$(dirname "$0")/common.sh"
JAVA_HOME="$(pivot_java_home)"; export JAVA_HOME
cd "$PIVOT_HOME"
out="${1:-$PIVOT_HOME/target}"
jar=$(find target -maxdepth 1 -name 'pivot-*.jar' ! -name '*-sources.jar' | head -1)
if [ -z "$jar" ] || [ ! -f target/classpath.txt ]; then
  echo "build-deb: no target/pivot-*.jar or target/classpath.txt: run ./mvnw package first" >&2
  exit 2
fi
for tool in dpkg-deb help2man; do
  command -v "$tool" >/dev/null || pivot_apt_install "$(case $tool in dpkg-deb) echo dpkg;; *) echo "$tool";; esac)"
done
version=$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' pom.xml | head -1)
version=${version%-SNAPSHOT}
arch=$(dpkg --print-architecture)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
mkdir -p "$root/DEBIAN" "$root/usr/lib/pivot/lib" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/pivot" \
  "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions" "$root/usr/share/pivot" \
  "$root/usr/share/doc/pivot"

# The modules the jars use (jdeps), plus what runs only by reflection or service loading: the JDBC drivers'
# java.sql, TLS's elliptic curves, JFR-free JVM metrics, and the FFM and Unsafe users (zstd-jni, Jetty).
modules=$("$JAVA_HOME/bin/jdeps" --ignore-missing-deps --multi-release 25 --print-module-deps \
  -cp "$(cat target/classpath.txt)" "$jar")
modules="$modules,java.sql,jdk.crypto.ec,java.management,jdk.management,jdk.unsupported,jdk.zipfs"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress=zip-6 --output "$root/usr/lib/pivot/runtime"
# The class-data archive for the runtime's own classes: a faster start (pivot --help).
"$root/usr/lib/pivot/runtime/bin/java" -Xshare:dump >/dev/null

cp "$jar" "$root/usr/lib/pivot/lib/pivot.jar"
# The class path in a fixed order: the class-data archive postinst makes is valid only for this exact path.
classpath=/usr/lib/pivot/lib/pivot.jar
for dep in $(tr ':' ' ' < target/classpath.txt); do
  cp "$dep" "$root/usr/lib/pivot/lib/"
  classpath="$classpath:/usr/lib/pivot/lib/$(basename "$dep")"
done
# Two dependencies with one file name would leave one of them out.
copied=$(find "$root/usr/lib/pivot/lib" -name '*.jar' | wc -l)
wanted=$(( $(tr ':' '\n' < target/classpath.txt | grep -c .) + 1 ))
[ "$copied" = "$wanted" ] || { echo "build-deb: $copied jars copied, $wanted on the class path" >&2; exit 1; }
sed -e "s|@JAVA_OPTS@|$PIVOT_DEFAULT_JAVA_OPTS|" -e "s|@CLASSPATH@|$classpath|" packaging/deb/pivot > "$root/usr/bin/pivot"
chmod 0755 "$root/usr/bin/pivot"
install -m 0644 packaging/deb/pivot.service "$root/lib/systemd/system/pivot.service"
install -m 0644 packaging/deb/pivot.yaml "$root/etc/pivot/pivot.yaml"
install -m 0644 README.md "$root/usr/share/doc/pivot/README.md"

# Man page and completion from the command line itself, run from the staged tree (as installed, but relocated).
staged_pivot() {
  "$root/usr/lib/pivot/runtime/bin/java" -cp "$root/usr/lib/pivot/lib/*" dev.pivot.cli.Main "$@"
}
launcher="$stage/pivot"
printf '#!/bin/sh\nexec "%s/usr/lib/pivot/runtime/bin/java" -cp "%s/usr/lib/pivot/lib/*" dev.pivot.cli.Main "$@"\n' \
  "$root" "$root" > "$launcher"
chmod 0755 "$launcher"
# Each command's own --help, preformatted, after the sections written by hand.
include="$stage/man.h2m"
cp packaging/deb/man-extra.h2m "$include"
for cmd in serve machines sessions assign label image completion; do
  printf '\n[COMMAND: PIVOT %s]\n.nf\n' "${cmd^^}"
  staged_pivot "$cmd" --help | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
  printf '.fi\n'
done >> "$include"
help2man --no-info --name "network-boot server for NixOS and any Linux" --section 1 \
  --include "$include" "$launcher" | sed "s|$launcher|pivot|g" | gzip -9n \
  > "$root/usr/share/man/man1/pivot.1.gz"
staged_pivot completion bash > "$root/usr/share/bash-completion/completions/pivot"
staged_pivot completion zsh > "$root/usr/share/pivot/completion.zsh"

installed_kb=$(du -sk "$root" | cut -f1)
# shim (signed by Microsoft) and Debian's signed network GRUB: what `pivot serve --efi-loader grub`, the default,
# gives UEFI x86-64 PXE clients so that Secure Boot machines boot; without them it falls back to iPXE and warns.
recommends_secure_boot=""
if [ "$arch" = amd64 ]; then recommends_secure_boot=", shim-signed, grub-efi-amd64-signed"; fi
cat > "$root/DEBIAN/control" <<CONTROL
Package: pivot
Version: $version
Architecture: $arch
Maintainer: Pivot developers <pivot@localhost>
Section: net
Priority: optional
Installed-Size: $installed_kb
Depends: adduser, ipxe, busybox-static
Recommends: ovmf$recommends_secure_boot
Suggests: nbd-client, qemu-utils, dmsetup, grub-common
Description: network-boot server for NixOS and any Linux
 DHCP (full or proxy), TFTP and HTTP in one process: PXE, iPXE and UEFI
 machines boot a NixOS netboot build or a kernel and initrd, with a
 timeline of every boot step in a web page, an API and Prometheus metrics.
 Carries its own Java runtime.
CONTROL
echo /etc/pivot/pivot.yaml > "$root/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"

mkdir -p "$out"
deb="$out/pivot_${version}_${arch}.deb"
# PIVOT_DEB_COMPRESSION=gzip (or none) for a quicker build when the package is only tested here.
dpkg-deb --root-owner-group "-Z${PIVOT_DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
echo "$deb"
