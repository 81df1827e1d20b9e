# Shared by the benchmarks: build, start Pivot and nginx on loopback, kill them by PID on every exit path.
# shellcheck shell=bash
set -euo pipefail
BENCH_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
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
}

# A loopback TCP port nobody listens on (bounded tries).
bench_free_port() {
  local port i
  for i in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! ss -Htln "sport = :$port" | grep -q .; then echo "$port"; return 0; fi
  done
  echo "bench: no free port found" >&2; return 1
}

# Waits (bounded) until FILE has a line matching REGEX, or PID died.
bench_wait_for_line() {
  local file=$1 regex=$2 pid=$3 seconds=$4 i
  for i in $(seq 1 $((seconds * 10))); do
    grep -qE "$regex" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "bench: process $pid died; its log:" >&2; tail -20 "$file" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: no '$regex' in $file after ${seconds}s" >&2; return 1
}

# Starts Pivot's HTTP server alone (dev.pivot.bench.BenchServer ARGS...); sets PIVOT_PID.
# PIVOT_BENCH_JAVA_OPTS adds JVM options (none by default: what `pivot serve` would run with).
bench_start_pivot() {
  local log="$BENCH_WORK/pivot.log"
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${PIVOT_BENCH_JAVA_OPTS:-} \
    -Dlogback.configurationFile="${BENCH_LOGBACK:-$BENCH_HOME/logback.xml}" -cp "$BENCH_CP" dev.pivot.bench.BenchServer "$@" \
    > "$log" 2>&1 &
  PIVOT_PID=$!
  BENCH_PIDS+=("$PIVOT_PID")
  bench_wait_for_line "$log" '^listening [0-9]+' "$PIVOT_PID" 300
}

# Starts nginx in the foreground of its own process (no master, no daemon) on 127.0.0.1:PORT serving ROOT with
# sendfile; /boot.ipxe?mac=M is the static file scripts/M.ipxe and /report answers 200. Sets NGINX_PID.
bench_start_nginx() {
  local root=$1 port=$2 prefix="$BENCH_WORK/nginx"
  mkdir -p "$prefix/tmp"
  cat > "$prefix/nginx.conf" <<CONF
daemon off;
master_process off;
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
  local i
  for i in $(seq 1 100); do
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

bench_loadavg() {
  cut -d' ' -f1-3 /proc/loadavg
}
