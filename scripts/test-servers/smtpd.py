#!/usr/bin/env python3
"""SMTP test server for reportctl's integration tests (aiosmtpd).

One process runs three listeners on 127.0.0.1, all delivering into one Maildir
(aiosmtpd.handlers.Mailbox: each message is one Maildir file with X-MailFrom:
and X-RcptTo: headers; X-RcptTo lists the whole envelope, Bcc included):

  starttls  STARTTLS required, then AUTH (PLAIN, LOGIN) required
  smtps     implicit TLS (SMTPS), AUTH (PLAIN, LOGIN) required
  plain     no TLS, no AUTH

A wrong user or password is answered with 535. Each port may be given as 0:
the listener then binds a free port itself (no race with other processes).
Once all three listen, the actual ports are written to --ports-file as
NAME=PORT lines (STARTTLS_PORT, SMTPS_PORT, PLAIN_PORT). SIGTERM or SIGINT
stops the listeners and exits 0.

Run with the Python of the venv made by scripts/install-test-deps.sh.
"""

import argparse
import logging
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


class LockedMailbox(Mailbox):
    """Mailbox shared by the three listeners (each runs its own thread)."""

    _lock = threading.Lock()

    def handle_message(self, message):
        with self._lock:
            self.mailbox.add(message)


class BoundController(Controller):
    """Controller serving on a socket bound beforehand (port 0 allowed)."""

    def __init__(self, handler, sock, **kwargs):
        self._sock = sock
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)

    def _create_server(self):
        return self.loop.create_server(
            self._factory_invoker, sock=self._sock, ssl=self.ssl_context
        )


def bind(host, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(100)
    sock.setblocking(False)
    return sock


def make_authenticator(user, password):
    want_user = user.encode()
    want_password = password.encode()

    def authenticator(server, session, envelope, mechanism, auth_data):
        if mechanism not in ("PLAIN", "LOGIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login == want_user and auth_data.password == want_password
        # handled=False lets aiosmtpd answer "535 5.7.8 Authentication credentials invalid".
        return AuthResult(success=ok, handled=False)

    return authenticator


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--starttls-port", type=int, default=0)
    ap.add_argument("--smtps-port", type=int, default=0)
    ap.add_argument("--plain-port", type=int, default=0)
    ap.add_argument("--cert", required=True, help="PEM certificate (chain) for TLS")
    ap.add_argument("--key", required=True, help="PEM private key for TLS")
    ap.add_argument("--user", required=True)
    ap.add_argument(
        "--password-env",
        required=True,
        help="name of the environment variable holding the password (kept off the command line)",
    )
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--ports-file", help="write NAME=PORT lines here once listening")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    log = logging.getLogger("smtpd")

    # mailbox.Maildir(create=True) makes cur/ new/ tmp/ only for a new path.
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(args.maildir, sub), exist_ok=True)
    handler = LockedMailbox(args.maildir)
    password = os.environ.get(args.password_env, "")
    if not password:
        sys.exit(f"smtpd.py: environment variable {args.password_env} is not set")
    authenticator = make_authenticator(args.user, password)

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)

    controllers = {
        "STARTTLS_PORT": BoundController(
            handler,
            bind(args.host, args.starttls_port),
            tls_context=tls,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=authenticator,
        ),
        # The whole connection is TLS already; aiosmtpd only knows about
        # STARTTLS, so auth_require_tls must be off for AUTH to be offered.
        "SMTPS_PORT": BoundController(
            handler,
            bind(args.host, args.smtps_port),
            ssl_context=tls,
            auth_required=True,
            auth_require_tls=False,
            authenticator=authenticator,
        ),
        "PLAIN_PORT": BoundController(
            handler,
            bind(args.host, args.plain_port),
        ),
    }

    stop = threading.Event()

    def on_signal(signum, frame):
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    started = []
    try:
        for name, ctl in controllers.items():
            ctl.start()
            started.append(ctl)
            log.info("%s listening on %s:%d", name, ctl.hostname, ctl.port)
        if args.ports_file:
            tmp = args.ports_file + ".tmp"
            with open(tmp, "w") as f:
                for name, ctl in controllers.items():
                    f.write(f"{name}={ctl.port}\n")
            os.replace(tmp, args.ports_file)
        while not stop.wait(1.0):
            pass
    finally:
        for ctl in started:
            try:
                ctl.stop()
            except Exception as e:  # already stopping; exit anyway
                log.warning("stop: %s", e)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
