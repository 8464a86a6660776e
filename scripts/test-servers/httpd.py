#!/usr/bin/env python3
"""HTTP test receiver for reportctl's integration tests (heartbeat pings, the
webhook, Slack and Teams destinations).

Listens on 127.0.0.1 (port 0: it binds a free port itself, no race with other
processes), answers every GET, POST and HEAD with 200 "OK", and appends one JSON
line per request to --requests: {"method", "path", "headers", "body", "sha256"}
(the body decoded as UTF-8, with replacement; sha256 of its bytes). Tests put a
random key in the path and read the lines whose path contains it. With --cert and
--key, a second listener speaks HTTPS (same handler, same record). Once listening,
writes HTTP_PORT=PORT (and HTTPS_PORT=PORT) to --ports-file. SIGTERM or SIGINT
stops it and exits 0. Standard library only.

Webhooks: with --webhook-secret-env NAME (the secret in that environment
variable), a request with a Reportctl-Signature header (t=UNIX,v1=HEX) gets
"signature": "valid" or "invalid" in its record: HEX must be
HMAC-SHA256(secret, "{t}.{signed}"), signed being the body, or for a
multipart/form-data body its `payload` part; such a body's parts are recorded in
"parts" ([{name, filename, content_type, bytes, sha256}]).

Failures on demand: a path with /fail/STATUS/TIMES/ in it is answered STATUS for
its first TIMES requests (counted per path), then 200. The answer's body echoes
the webhook secret and the path (so tests can check that reportctl never repeats
them); 429 and 503 carry Retry-After: 1 (/fail/429x/TIMES/: Retry-After: 3600).

Slack: paths under /slack/ are Slack's Web API contract (slack_contract.py),
with the bot token from --slack-token-env NAME.
"""

import argparse
import hashlib
import hmac
import json
import os
import signal
import ssl
import sys
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import slack_contract

LOCK = threading.Lock()
FAILED = {}  # path -> failures answered so far


def read_body(rfile, headers):
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = b""
        while True:
            size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                rfile.readline()
                return out
            out += rfile.read(size)
            rfile.readline()
    length = int(headers.get("Content-Length") or 0)
    return rfile.read(length) if length else b""


def multipart_parts(ctype, body):
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    parts = []
    for p in msg.iter_parts():
        data = p.get_payload(decode=True) or b""
        parts.append({
            "name": p.get_param("name", header="content-disposition"),
            "filename": p.get_filename(),
            "content_type": p.get_content_type(),
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "data": data,
        })
    return parts


def verify(header, signed, secret):
    fields = dict(x.split("=", 1) for x in header.split(",") if "=" in x)
    if not secret or "t" not in fields or "v1" not in fields:
        return "invalid"
    want = hmac.new(secret.encode(), fields["t"].encode() + b"." + signed, hashlib.sha256).hexdigest()
    return "valid" if hmac.compare_digest(want, fields["v1"]) else "invalid"


def failure(path, secret):
    """(status, headers, body) when the path asks to fail now, else None."""
    parts = path.split("/")
    if "fail" not in parts:
        return None
    i = parts.index("fail")
    if i + 2 >= len(parts):
        return None
    status, times = parts[i + 1], parts[i + 2]
    with LOCK:
        n = FAILED.get(path, 0)
        if n >= int(times):
            return None
        FAILED[path] = n + 1
    headers = {"Content-Type": "text/plain"}
    if status in ("429", "503"):
        headers["Retry-After"] = "1"
    if status == "429x":
        status, headers["Retry-After"] = "429", "3600"
    return int(status), headers, f"refused: secret {secret} at {path}\nsecond line\n".encode()


def handler(requests_file, secrets):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def record(self):
            body = read_body(self.rfile, self.headers)
            entry = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
            status, headers, answer = 200, {"Content-Type": "text/plain"}, b"OK"
            if self.path.startswith("/slack/"):
                scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
                base = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
                status, headers, answer, extra = slack_contract.handle(
                    self.path, self.headers, body, secrets["slack"], base)
                entry.update(extra)
            else:
                self.webhook(entry, body)
                failed = failure(self.path, secrets["webhook"])
                if failed:
                    status, headers, answer = failed
            entry["status"] = status
            with LOCK, open(requests_file, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer)

        def webhook(self, entry, body):
            signed = body
            ctype = self.headers.get("Content-Type", "")
            if ctype.startswith("multipart/form-data"):
                parts = multipart_parts(ctype, body)
                signed = next((p["data"] for p in parts if p["name"] == "payload"), b"")
                for p in parts:
                    del p["data"]
                entry["parts"] = parts
            sig = self.headers.get("Reportctl-Signature")
            if sig is not None:
                entry["signature"] = verify(sig, signed, secrets["webhook"])

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
    p.add_argument("--webhook-secret-env")
    p.add_argument("--slack-token-env")
    a = p.parse_args()
    secrets = {
        "webhook": os.environ.get(a.webhook_secret_env or "", ""),
        "slack": os.environ.get(a.slack_token_env or "", ""),
    }
    h = handler(a.requests, secrets)
    servers = {"HTTP_PORT": ThreadingHTTPServer((a.host, a.port), h)}
    if a.cert and a.key:
        tls = ThreadingHTTPServer((a.host, 0), h)
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
