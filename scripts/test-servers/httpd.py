#!/usr/bin/env python3
"""HTTP test receiver for reportctl's integration tests (heartbeat pings).

Listens on 127.0.0.1 (port 0: it binds a free port itself, no race with other
processes), answers every GET, POST and HEAD with 200 "OK", and appends one JSON
line per request to --requests: {"method", "path", "body"} (the body decoded as
UTF-8, with replacement). Tests put a random key in the path and read the lines
whose path contains it. With --cert and --key, a second listener speaks HTTPS
(same handler, same record). Once listening, writes HTTP_PORT=PORT (and
HTTPS_PORT=PORT) to --ports-file. SIGTERM or SIGINT stops it and exits 0.
Standard library only.
"""

import argparse
import json
import os
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def handler(requests_file):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def record(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            line = json.dumps({
                "method": self.command,
                "path": self.path,
                "body": body.decode("utf-8", "replace"),
            })
            with LOCK, open(requests_file, "a", encoding="utf-8") as f:
                f.write(line + "\n")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(b"OK")

        do_GET = do_POST = do_HEAD = record

        def log_message(self, fmt, *args):
            sys.stderr.write("httpd: " + (fmt % args) + "\n")

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--requests", required=True)
    p.add_argument("--ports-file", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    a = p.parse_args()
    servers = {"HTTP_PORT": ThreadingHTTPServer((a.host, a.port), handler(a.requests))}
    if a.cert and a.key:
        tls = ThreadingHTTPServer((a.host, 0), handler(a.requests))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        servers["HTTPS_PORT"] = tls
    for s in servers.values():
        s.daemon_threads = True
    done = threading.Event()

    def stop(*_):
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for s in servers.values():
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(a.ports_file + ".tmp", "w") as f:
        for name, s in servers.items():
            f.write(f"{name}={s.server_address[1]}\n")
    os.replace(a.ports_file + ".tmp", a.ports_file)
    done.wait()
    for s in servers.values():
        s.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
