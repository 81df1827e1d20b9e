# Shared by the benchmarks: build, start Pivot and nginx on loopback, kill them by PID on every exit path.
# shellcheck shell=bash
set -euo pipefail
BENCH_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/common.sh
source "$BENCH_HOME/../scripts/common.sh"
JAVA_HOME="$(pivot_java_home)"; export JAVA_HOME

BENCH_PIDS=()
BENCH_WORK="$(mktemp -d /tmp/pivot-bench.XXXXXX)"

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    echo "bench: kept $BENCH_WORK" >&2
  else
    rm -rf "$BENCH_WORK"
  fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# nginx is installed with a policy-rc.d that refuses service starts (pivot_apt_install): only our own
# nginx, with a private config on loopback, ever runs.
bench_install() {
  pivot_apt_install nginx curl cpio squashfs-tools zstd gzip
}

# Pivot and the benchmarks' own Java, both built by Maven (`./mvnw package` compiles bench/src into
# target/bench-classes, see pom.xml), rebuilt when a source or the pom is newer than the last build here.
# PIVOT_CP is what ./pivot runs with; BENCH_CP adds target/bench-classes, which holds only dev.pivot.bench classes
# (no resources), so a Pivot main started with it runs as shipped.
bench_build() {
  local stamp="$PIVOT_HOME/target/bench-classes/.built"
  if [ ! -f "$stamp" ] || [ ! -f "$PIVOT_HOME/target/classpath.txt" ] \
      || [ -n "$(find "$PIVOT_HOME/src/main" "$BENCH_HOME/src" "$PIVOT_HOME/pom.xml" -newer "$stamp" -print -quit)" ]; then
    echo "bench: building…" >&2
    (cd "$PIVOT_HOME" && ./mvnw -q -B -DskipTests package >&2)
    touch "$stamp"
  fi
  PIVOT_CP="$PIVOT_HOME/target/classes:$(cat "$PIVOT_HOME/target/classpath.txt")"
  BENCH_CP="$PIVOT_HOME/target/bench-classes:$PIVOT_CP"
  bench_pivot_java
}

# A NixOS-shaped netboot build in OUT made with the real tools: bzImage, initrd = gzip cpio (stage 1) followed by a
# zstd cpio holding only nix-store.squashfs (from mksquashfs; its root is the store, as NixOS's, with the init=
# program pivot serve checks for), and the netboot.ipxe nixpkgs generates. Sizes in KiB of random bytes: nothing
# compresses, so sizes on the wire are the sizes given. Scratch files go under BENCH_WORK.
bench_make_netboot() {
  local out=$1 kernel_kib=$2 stage1_kib=$3 root_kib=$4 scratch
  scratch="$(mktemp -d "$BENCH_WORK/netboot-src.XXXXXX")"
  mkdir -p "$out" "$scratch/stage1/lib/modules" "$scratch/store/bench-system"
  head -c "$((kernel_kib * 1024))" /dev/urandom > "$out/bzImage"
  head -c "$((stage1_kib * 1024))" /dev/urandom > "$scratch/stage1/lib/modules/bench.ko"
  printf '#!/bin/sh\nexec /nix/store/bench-system/init\n' > "$scratch/stage1/init"
  chmod 0755 "$scratch/stage1/init"
  (cd "$scratch/stage1" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initrd"
  head -c "$((root_kib * 1024))" /dev/urandom > "$scratch/store/bench-system/payload"
  printf '#!/bin/sh\nexec /bin/sh\n' > "$scratch/store/bench-system/init"
  chmod 0755 "$scratch/store/bench-system/init"
  mksquashfs "$scratch/store" "$scratch/nix-store.squashfs" -quiet -noappend -comp zstd > /dev/null
  (cd "$scratch" && echo nix-store.squashfs | cpio -o -H newc --quiet | zstd -q -1) >> "$out/initrd"
  cat > "$out/netboot.ipxe" <<'IPXE'
#!ipxe
# Use the cmdline variable to allow the user to specify custom kernel params
# when chainloading this script from other iPXE scripts like netboot.xyz
kernel bzImage init=/nix/store/bench-system/init initrd=initrd loglevel=4 ${cmdline}
initrd initrd
boot
IPXE
  rm -rf "$scratch"
}

# A port nobody uses on TCP or UDP (bounded tries).
bench_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! ss -Htuan "sport = :$port" | grep -q .; then echo "$port"; return 0; fi
  done
  echo "bench: no free port found" >&2; return 1
}

# Waits (bounded) until FILE has a line matching REGEX, or PID died.
bench_wait_for_line() {
  local file=$1 regex=$2 pid=$3 seconds=$4
  for _ in $(seq 1 $((seconds * 10))); do
    grep -qE "$regex" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "bench: process $pid died; its log:" >&2; tail -20 "$file" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: no '$regex' in $file after ${seconds}s" >&2; return 1
}

# The command that runs a Pivot main: a plain array, so that `"${PIVOT_JAVA[@]}" ... &` makes $! the JVM's own
# PID (a shell function run with & would be a subshell, and killing it would leave the JVM running).
# JVM options and flags are ./pivot's: PIVOT_BENCH_JAVA_OPTS (by default PIVOT_DEFAULT_JAVA_OPTS, what ./pivot runs
# with); logging is the project's own logback.xml unless BENCH_LOGBACK names another.
bench_pivot_java() {
  # shellcheck disable=SC2206
  PIVOT_JAVA=("$JAVA_HOME/bin/java" ${PIVOT_BENCH_JAVA_OPTS:-$PIVOT_DEFAULT_JAVA_OPTS} --enable-native-access=ALL-UNNAMED
    --add-exports java.base/sun.nio.ch=ALL-UNNAMED ${BENCH_LOGBACK:+-Dlogback.configurationFile="$BENCH_LOGBACK"}
    -cp "$BENCH_CP")
}

# Starts the real `pivot serve NETBOOT_DIR` on 127.0.0.1 without DHCP (HTTP_PORT, TFTP_PORT, state in STATE,
# then any further `pivot serve` options); sets PIVOT_PID. Its output goes to BENCH_PIVOT_LOG (default pivot.log in
# the work directory).
bench_start_pivot_serve() {
  local dir=$1 http_port=$2 tftp_port=$3 state=$4 log="${BENCH_PIVOT_LOG:-$BENCH_WORK/pivot.log}"
  shift 4
  "${PIVOT_JAVA[@]}" dev.pivot.cli.Main serve "$dir" --listen 127.0.0.1 --dhcp off --http-port "$http_port" \
    --tftp-port "$tftp_port" --state "$state" "$@" > "$log" 2>&1 &
  PIVOT_PID=$!
  BENCH_PIDS+=("$PIVOT_PID")
  bench_wait_for_line "$log" "^pivot: http://127.0.0.1:$http_port/boot.ipxe" "$PIVOT_PID" 300
}

# Starts nginx on 127.0.0.1:PORT serving ROOT with sendfile; /boot.ipxe?mac=M is the static file scripts/M.ipxe and
# /report answers 200. WORKERS (optional): without it one process does everything (no master, no daemon); with it a
# master in the foreground (never a daemon, so $! is its PID, its pid file under BENCH_WORK) and WORKERS worker
# processes, nginx as it is deployed: `bench_start_nginx ROOT PORT "$(nproc)"`. Sets NGINX_PID (the master); SIGTERM
# to it stops the workers too, and bench_cpu_ms counts the workers' CPU with it.
bench_start_nginx() {
  local root=$1 port=$2 workers=${3:-${BENCH_NGINX_WORKERS:-}} prefix="$BENCH_WORK/nginx" processes
  if [ -n "$workers" ] && [ "$workers" != 1 ]; then processes="master_process on;
worker_processes $workers;"
    # Run as root, the master would hand the workers to nobody, who cannot read BENCH_WORK (mode 0700): they run
    # as the user who runs the bench, like Pivot.
    [ "$(id -u)" = 0 ] && processes="$processes
user root root;"
  else processes="master_process off;"; fi
  mkdir -p "$prefix/tmp"
  cat > "$prefix/nginx.conf" <<CONF
daemon off;
$processes
worker_rlimit_nofile 8192;
pid $prefix/nginx.pid;
error_log $prefix/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;
  client_body_temp_path $prefix/tmp/body;
  proxy_temp_path $prefix/tmp/proxy;
  fastcgi_temp_path $prefix/tmp/fastcgi;
  uwsgi_temp_path $prefix/tmp/uwsgi;
  scgi_temp_path $prefix/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $root;
    location = /report { default_type text/plain; return 200 "ok\n"; }
    location = /boot.ipxe { default_type text/plain; try_files /scripts/\$arg_mac.ipxe =404; }
  }
}
CONF
  nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" > "$prefix/stdout.log" 2>&1 &
  NGINX_PID=$!
  BENCH_PIDS+=("$NGINX_PID")
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/report"; then
      [ -z "$workers" ] && return 0
      # The master opens the socket before it forks the workers: wait until all of them are up.
      if [ "$(bench_children "$NGINX_PID" | wc -w)" -ge "$workers" ]; then
        # shellcheck disable=SC2207 # PIDs are words
        BENCH_PIDS+=($(bench_children "$NGINX_PID")) # ended by PID too, should the master not end them
        return 0
      fi
    fi
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$prefix/error.log" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: nginx did not answer on 127.0.0.1:$port" >&2; return 1
}

# Peak resident set of PID in MB (VmHWM).
bench_peak_rss_mb() {
  awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}

# The PIDs of PID's child processes (nginx's workers; none for a JVM).
bench_children() {
  ps -o pid= --ppid "$1" 2>/dev/null || true
}

# The stat lines of PID and its child processes.
bench_stats() {
  local pid
  for pid in "$1" $(bench_children "$1"); do cat "/proc/$pid/stat" 2>/dev/null || true; done
}

# CPU time (user + system, all threads) PID and its child processes have used so far, in milliseconds.
bench_cpu_ms() {
  bench_stats "$1" | awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 } END { print int(t * 1000 / hz) }'
}

# The same as bench_cpu_ms, which already counts the children (nginx's workers).
bench_cpu_ms_tree() {
  bench_cpu_ms "$1"
}

# The kernel's count of connections dropped because a listen queue was full (all sockets on this host).
bench_listen_overflows() {
  awk '/^TcpExt:/ { if (!n) { for (i = 1; i <= NF; i++) col[$i] = i; n = 1 } else print $col["ListenOverflows"] }' \
    /proc/net/netstat
}

# "user ms / system ms" PID and its child processes have used so far.
bench_cpu_split() {
  bench_stats "$1" | awk -v hz="$(getconf CLK_TCK)" '{ u += $14; s += $15 } END { printf "%d/%d", u * 1000 / hz, s * 1000 / hz }'
}

bench_loadavg() {
  cut -d' ' -f1-3 /proc/loadavg
}

# A private PostgreSQL (Debian's postgresql package, never its service) under $BENCH_WORK/pg, its PID in the kill
# list; sets PG_BIN, PG_DIR, PG_PORT and psql_ SQL. bench_start_postgres ADDRESS [PORT [PREFIX...]]: listens on
# ADDRESS (and a socket in PG_DIR), on PORT (a free one by default), started through PREFIX (e.g. ip netns exec NS);
# an ADDRESS other than 127.0.0.1 trusts its own subnet (the database exists only for the benchmark).
bench_start_postgres() {
  local address=$1 as_pg=()
  PG_PORT=${2:-$(bench_free_port)}
  shift; [ $# -gt 0 ] && shift
  pivot_apt_install postgresql
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PG_DIR="$BENCH_WORK/pg"
  mkdir -p "$PG_DIR"
  # initdb refuses root: postgres runs as its own user, which may pass through (not list) the work directory.
  if [ "$(id -u)" = 0 ]; then chmod o+x "$BENCH_WORK"; chown postgres: "$PG_DIR"; as_pg=(runuser -u postgres --); fi
  "${as_pg[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U pivot --auth=trust -E UTF8 >/dev/null
  [ "$address" = 127.0.0.1 ] || echo "host all all samenet trust" >>"$PG_DIR/data/pg_hba.conf"
  "$@" "${as_pg[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -c listen_addresses="$address" \
    -c unix_socket_directories="$PG_DIR" >"$PG_DIR/log" 2>&1 &
  BENCH_PIDS+=($!)
  for _ in $(seq 100); do
    "$PG_BIN/pg_isready" -q -h "$PG_DIR" -p "$PG_PORT" && break
    sleep 0.2
  done
  "$PG_BIN/pg_isready" -q -h "$PG_DIR" -p "$PG_PORT" || { echo "bench: postgres did not start: $(cat "$PG_DIR/log")" >&2; exit 1; }
}
psql_() { "$PG_BIN/psql" -X -q -At -h "$PG_DIR" -p "$PG_PORT" -U pivot -d postgres -v ON_ERROR_STOP=1 -c "$1"; }
