#!/usr/bin/env python3
"""Time commands interleaved: run 1 of each, then run 2 of each, and so on, so that a
machine that gets busier or quieter during the benchmark moves every variant alike.

    interleave.py REPS NAME=COMMAND [NAME=COMMAND ...]

COMMAND is split like a shell word list (no shell runs it; stdout goes to /dev/null, so
commands write their output files themselves). Before every run the page cache is
flushed to disk (sync), one untimed warm-up run of each command comes first, and a
failing run stops the benchmark with its stderr. Prints one line per command:

    NAME MEDIAN_WALL_SECONDS MEDIAN_MAX_RSS_KB

Wall time is measured with a monotonic clock around the run (the same overhead for every
command); peak memory is GNU time's %M for the command itself (measured inside the run,
because a child forked from Python would report Python's own memory as its peak).
"""

import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

RSS_FILE = tempfile.NamedTemporaryFile(prefix="interleave-rss.")


def run(argv):
    os.sync()
    start = time.perf_counter()
    child = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", RSS_FILE.name, *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    wall = time.perf_counter() - start
    if child.returncode != 0:
        sys.stderr.write(child.stderr.decode(errors="replace"))
        sys.exit(f"interleave: {argv[0]} exited with {child.returncode}")
    with open(RSS_FILE.name, encoding="ascii") as f:
        return wall, int(f.read().split()[-1])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    reps = int(sys.argv[1])
    variants = []
    for spec in sys.argv[2:]:
        name, _, command = spec.partition("=")
        variants.append((name, shlex.split(command)))
    for _, argv in variants:
        run(argv)
    walls = {name: [] for name, _ in variants}
    rss = {name: [] for name, _ in variants}
    for _ in range(reps):
        for name, argv in variants:
            w, m = run(argv)
            walls[name].append(w)
            rss[name].append(m)
    for name, _ in variants:
        print(f"{name} {statistics.median(walls[name]):.4f} {statistics.median(rss[name]):.0f}")


if __name__ == "__main__":
    main()
