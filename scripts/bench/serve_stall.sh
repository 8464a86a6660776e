#!/usr/bin/env bash
# Benchmark of `reportctl serve` against clients that stop reading, side by side with
# nginx serving the same file, in the same run, on the loopback interface:
#   1. /healthz latency (p50/p99 over 200 requests, one connection each) with no load;
#   2. CLIENTS downloads of a ~SIZE_MB file opened from as many source addresses
#      (127.0.1.1, 127.0.1.2, … 127.0.4.250: Linux lets a client bind any address of
#      127.0.0.0/8), each client with a 4 KiB receive buffer reading only the status
#      line and then nothing;
#   3. while they are held: /healthz latency again, the server's RSS and open file
#      descriptors (nginx: master and workers summed; nginx has no /healthz, so a tiny
#      static file stands in);
#   4. how long until the server has closed the stalled downloads (its established
#      connections, counted with ss), with send_timeout_seconds = SEND_TIMEOUT for
#      reportctl and `send_timeout SEND_TIMEOUTs` for nginx.
#
#   scripts/bench/serve_stall.sh [SIZE_MB] [CLIENTS] [SEND_TIMEOUT]   (defaults: 85 1000 10)
#
# Needs nginx and ss (scripts/install-test-deps.sh installs nginx); raises `ulimit -n`.
# nginx runs as a private instance (own config, port, pid and log files in a temporary
# directory); the system nginx is never touched. Not run in CI. Prints a Markdown table
# for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE_MB="${1:-85}"
CLIENTS="${2:-1000}"
SEND_TIMEOUT="${3:-10}"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "bench: nginx is missing (scripts/install-test-deps.sh)" >&2; exit 1; }
command -v ss >/dev/null || { echo "bench: ss is missing (iproute2)" >&2; exit 1; }
ulimit -n "$(( CLIENTS * 4 + 1024 ))"

# BENCH_BIN=target/debug/reportctl skips the release build (a quick trial of the script).
if [ -n "${BENCH_BIN:-}" ]; then
    BIN=$(realpath "$BENCH_BIN")
else
    cargo build --release --quiet
    BIN="$PWD/target/release/reportctl"
fi

# shellcheck source=scripts/bench/serve_common.sh
. scripts/bench/serve_common.sh
RC_PORT=$(free_port)
NGINX_PORT=$(free_port)
pickup_report "$SIZE_MB" "send_timeout_seconds = $SEND_TIMEOUT
max_connections = $(( CLIENTS + 512 ))"
start_serve "$RC_PORT"
LINK=$(curl -sf -H "X-API-Key: $BENCH_API_KEY" "http://127.0.0.1:$RC_PORT/reports/Bench_Export" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["links"][0]["url"])')
RC_PATH="/${LINK#http://*/}"

mkdir -p "$WORK/nginx/www" "$WORK/nginx/tmp"
echo ok > "$WORK/nginx/www/healthz"
cat > "$WORK/nginx/nginx.conf" <<CONF
# The pickup store is owner-only: the workers read it as the user that starts nginx.
user $(id -un);
worker_processes auto;
worker_rlimit_nofile $(( CLIENTS * 4 + 1024 ));
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections $(( CLIENTS * 2 + 1024 )); }
http {
    access_log $WORK/nginx/access.log;
    sendfile on;
    tcp_nopush on;
    send_timeout ${SEND_TIMEOUT}s;
    client_body_temp_path $WORK/nginx/tmp;
    proxy_temp_path $WORK/nginx/tmp;
    fastcgi_temp_path $WORK/nginx/tmp;
    uwsgi_temp_path $WORK/nginx/tmp;
    scgi_temp_path $WORK/nginx/tmp;
    types { text/csv csv; text/plain txt; }
    default_type text/plain;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /file.csv { alias "$FILE"; }
        location / { root "$WORK/nginx/www"; }
    }
}
CONF
start_nginx "http://127.0.0.1:$NGINX_PORT/healthz"

# The client: stalled downloads, /healthz timings, the server's RSS, descriptors and
# established connections. One JSON line per server.
cat > "$WORK/stall.py" <<'PY'
import json, socket, subprocess, sys, time

port, path, clients, send_timeout = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
pids = [int(p) for p in sys.argv[5].split(",")]

def healthz(n=200):
    took = []
    for _ in range(n):
        start = time.perf_counter()
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        took.append((time.perf_counter() - start) * 1000)
        assert data.startswith(b"HTTP/1.1 200"), data[:100]
    took.sort()
    return round(took[len(took) // 2], 2), round(took[int(len(took) * 0.99) - 1], 2), round(took[-1], 2)

def memory():
    rss = fds = 0
    for pid in pids:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
        fds += len(__import__("os").listdir(f"/proc/{pid}/fd"))
    return round(rss / 1024, 1), fds

def tcp_mem_mb():
    # Every TCP socket of the machine, in pages: what the kernel buffers for the clients.
    for line in open("/proc/net/sockstat"):
        if line.startswith("TCP:"):
            f = line.split()
            return round(int(f[f.index("mem") + 1]) * 4096 / 1048576, 1)

def established():
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return sum(1 for l in out.splitlines() if l.strip())

result = {}
result["idle_p50"], result["idle_p99"], _ = healthz()
result["idle_rss"], result["idle_fds"] = memory()
held = []
start = time.perf_counter()
for i in range(clients):
    src = f"127.0.{1 + i // 250}.{1 + i % 250}"
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((src, 0))
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert s.recv(12).startswith(b"HTTP/1.1 200"), src
    held.append(s)
opened_at = time.perf_counter()
result["open_seconds"] = round(opened_at - start, 1)
time.sleep(1)
result["held"] = established()
result["rss"], result["fds"] = memory()
result["tcp_mem"] = tcp_mem_mb()
result["p50"], result["p99"], result["max"] = healthz()
result["held_after_healthz"] = established()
# Until the server has closed every stalled download, or 3 send timeouts.
closed_after = None
while time.perf_counter() - opened_at < 3 * send_timeout + 5:
    if established() == 0:
        closed_after = round(time.perf_counter() - opened_at, 1)
        break
    time.sleep(0.25)
result["left_open"] = established()
result["closed_after"] = closed_after
result["after_rss"], result["after_fds"] = memory()
print(json.dumps(result))
print(json.dumps(result), file=sys.stderr)
PY

nginx_pids=$(pgrep -d, -P "$NGINX_PID"),$NGINX_PID
echo "bench: file $BYTES bytes, $CLIENTS stalled clients, send timeout ${SEND_TIMEOUT}s, $(nproc) CPUs" >&2
rc=$(python3 "$WORK/stall.py" "$RC_PORT" "$RC_PATH" "$CLIENTS" "$SEND_TIMEOUT" "$SERVE_PID")
ng=$(python3 "$WORK/stall.py" "$NGINX_PORT" /file.csv "$CLIENTS" "$SEND_TIMEOUT" "$nginx_pids")

python3 - "$rc" "$ng" <<'PY'
import json, sys
rows = [("reportctl serve", json.loads(sys.argv[1])), ("nginx", json.loads(sys.argv[2]))]
print()
print("| server | /healthz p50 / p99, idle | held (after the /healthz runs) | /healthz p50 / p99 / max, held | RSS idle → held → after | fds idle → held → after | kernel TCP memory, held | all closed after |")
print("|---|---|---|---|---|---|---|---|")
for name, r in rows:
    closed = f"{r['closed_after']} s" if r["closed_after"] is not None else f"not closed ({r['left_open']} open)"
    print(f"| {name} | {r['idle_p50']} / {r['idle_p99']} ms | {r['held']} ({r['held_after_healthz']}) | {r['p50']} / {r['p99']} / {r['max']} ms "
          f"| {r['idle_rss']} → {r['rss']} → {r['after_rss']} MB | {r['idle_fds']} → {r['fds']} → {r['after_fds']} "
          f"| {r['tcp_mem']} MB | {closed} |")
PY
echo "send-timeout log lines: $(grep -c 'send_timeout_seconds' "$WORK/serve.log")" >&2
