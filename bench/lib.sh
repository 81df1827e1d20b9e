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

# Pivot's classes, then the benchmark's own classes next to them.
bench_build() {
  pivot_build_if_needed
  mkdir -p "$BENCH_HOME/target/classes"
  "$JAVA_HOME/bin/javac" -Xlint:all -d "$BENCH_HOME/target/classes" \
    -cp "$PIVOT_HOME/target/classes:$(cat "$PIVOT_HOME/target/classpath.txt")" \
    "$BENCH_HOME"/src/dev/pivot/bench/*.java
  BENCH_CP="$BENCH_HOME/target/classes:$PIVOT_HOME/target/classes:$(cat "$PIVOT_HOME/target/classpath.txt")"
  # Until the real prelude scripts are in src/main/resources, `pivot serve` needs the test stand-ins (same size
  # class: a few hundred bytes next to busybox) to build pivot.cpio.gz.
  if [ ! -f "$PIVOT_HOME/target/classes/dev/pivot/initrd/prelude/init" ]; then
    BENCH_CP="$BENCH_CP:$PIVOT_HOME/src/test/resources"
  fi
  bench_pivot_java
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
# JVM options: PIVOT_BENCH_JAVA_OPTS (by default PIVOT_DEFAULT_JAVA_OPTS: what ./pivot runs with); logging is the project's own
# logback.xml unless BENCH_LOGBACK names another.
bench_pivot_java() {
  # shellcheck disable=SC2206
  PIVOT_JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${PIVOT_BENCH_JAVA_OPTS:-$PIVOT_DEFAULT_JAVA_OPTS}
    ${BENCH_LOGBACK:+-Dlogback.configurationFile="$BENCH_LOGBACK"} -cp "$BENCH_CP")
}

# Starts the real `pivot serve NETBOOT_DIR` on 127.0.0.1 without DHCP (HTTP_PORT, TFTP_PORT, state in STATE,
# then any further `pivot serve` options); sets PIVOT_PID.
bench_start_pivot_serve() {
  local dir=$1 http_port=$2 tftp_port=$3 state=$4 log="$BENCH_WORK/pivot.log"
  shift 4
  "${PIVOT_JAVA[@]}" dev.pivot.cli.Main serve "$dir" --listen 127.0.0.1 --dhcp off --http-port "$http_port" \
    --tftp-port "$tftp_port" --state "$state" "$@" > "$log" 2>&1 &
  PIVOT_PID=$!
  BENCH_PIDS+=("$PIVOT_PID")
  bench_wait_for_line "$log" "^pivot: http://127.0.0.1:$http_port/boot.ipxe" "$PIVOT_PID" 300
}

# Starts nginx in the foreground (no daemon) on 127.0.0.1:PORT serving ROOT with sendfile; /boot.ipxe?mac=M is
# the static file scripts/M.ipxe and /report answers 200. Sets NGINX_PID. BENCH_NGINX_WORKERS (default 1) sets
# worker_processes: 1 is one process without a master; more run under a master, whose SIGTERM (the exit trap) ends
# them too, and whose CPU figure must include theirs (bench_cpu_ms_tree).
bench_start_nginx() {
  local root=$1 port=$2 prefix="$BENCH_WORK/nginx" workers=${BENCH_NGINX_WORKERS:-1}
  mkdir -p "$prefix/tmp"
  cat > "$prefix/nginx.conf" <<CONF
daemon off;
master_process $([ "$workers" = 1 ] && echo off || echo on);
worker_processes $workers;
$([ "$(id -u)" = 0 ] && echo 'user root root;') # workers read BENCH_WORK (mode 0700) as the one-process nginx did
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
    curl -s -o /dev/null "http://127.0.0.1:$port/report" && return 0
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$prefix/error.log" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: nginx did not answer on 127.0.0.1:$port" >&2; return 1
}

# Peak resident set of PID in MB (VmHWM).
bench_peak_rss_mb() {
  awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}

# CPU time (user + system, all threads) PID has used so far, in milliseconds.
bench_cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"
}

# CPU time (user + system) PID and its direct children (nginx's workers) have used so far, in milliseconds.
bench_cpu_ms_tree() {
  local pid=$1 child total
  total=$(bench_cpu_ms "$pid")
  for child in $(ps -o pid= --ppid "$pid"); do
    total=$((total + $(bench_cpu_ms "$child" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# The kernel's count of connections dropped because a listen queue was full (all sockets on this host).
bench_listen_overflows() {
  awk '/^TcpExt:/ { if (!n) { for (i = 1; i <= NF; i++) col[$i] = i; n = 1 } else print $col["ListenOverflows"] }' \
    /proc/net/netstat
}

# "user ms / system ms" PID has used so far.
bench_cpu_split() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%d/%d", $14 * 1000 / hz, $15 * 1000 / hz }' "/proc/$1/stat"
}

bench_loadavg() {
  cut -d' ' -f1-3 /proc/loadavg
}
