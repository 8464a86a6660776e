"""A delay line between two TUN devices, for kernels without sch_netem.

    python3 delay_line.py TUN_A TUN_B ONE_WAY_MS READY_FILE

Creates TUN_A and TUN_B (IFF_TUN, no packet information) and forwards every IP packet
read from one to the other ONE_WAY_MS milliseconds later, in both directions, with no
limit on the packets in flight: a link with a round-trip time of twice ONE_WAY_MS and
no bandwidth limit of its own. TCP over it sees the real round-trip time. Writes
READY_FILE once both devices exist (the caller then moves one into a network namespace
and configures addresses). Runs until SIGTERM.
"""

import collections
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def main():
    name_a, name_b, one_way_ms, ready = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    delay = one_way_ms / 1000.0
    a, b = tun(name_a), tun(name_b)
    other = {a: b, b: a}
    # Packets waiting to be written to a device, oldest first: (due time, packet).
    waiting = {a: collections.deque(), b: collections.deque()}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(ready, "w") as f:
        f.write("ready\n")
    while True:
        now = time.monotonic()
        timeout = None
        for fd, q in waiting.items():
            while q and q[0][0] <= now:
                try:
                    os.write(fd, q.popleft()[1])
                except OSError:
                    pass  # the kernel dropped it, as a full link would
            if q:
                t = q[0][0] - now
                timeout = t if timeout is None else min(timeout, t)
        readable, _, _ = select.select([a, b], [], [], timeout)
        for fd in readable:
            q = waiting[other[fd]]
            for _ in range(256):
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                q.append((time.monotonic() + delay, packet))


if __name__ == "__main__":
    main()
