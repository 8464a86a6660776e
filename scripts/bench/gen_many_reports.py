#!/usr/bin/env python3
"""Writes a reportctl configuration with N reports (for scripts/bench/many_reports.sh).

    gen_many_reports.py N DIR

DIR/reports.toml: one sqlite source (DIR/events.db, made by many_reports.sh; validate
prepares each query on it), one directory destination, and N reports with plain SQL queries on varied
schedules (hourly, daily, weekly, monthly, quarterly, send_at) and zones. Every slot falls
on a whole minute, so run-due at an instant with seconds (many_reports.sh uses
2026-11-25T00:10:17Z) finds nothing due once the ledger has seen the reports then.
"""
import sys

n = int(sys.argv[1])
out = sys.argv[2]
zones = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]
schedules = [
    'frequency = "daily"\nat = "{h:02d}:{m:02d}"',
    'frequency = "weekly"\nrun_on = {wd}\nat = "{h:02d}:00"',
    'frequency = "monthly"\nrun_on = {md}\nat = "{h:02d}:30"',
    'frequency = "quarterly"\nrun_on = {md}',
    'frequency = "hourly"\nrun_on = {m}',
    'frequency = "daily"\nrun_on = {h}\ndelay = 2\nprevious_time = 24',
    'send_at = "{h:02d}:{hm}"',
]
with open(f"{out}/reports.toml", "w") as f:
    f.write(
        '[settings]\ntimezone = "UTC"\n\n'
        '[sources.db]\nkind = "sqlite"\npath = "events.db"\n\n'
        '[destinations.out]\nkind = "directory"\npath = "out"\n\n'
    )
    for i in range(n):
        s = schedules[i % len(schedules)].format(
            h=i % 24, m=(i * 7) % 60, wd=i % 7 + 1, md=i % 28 + 1, hm="30" if i % 2 else "00"
        )
        zone = zones[i % len(zones)] if not s.startswith("send_at") else "UTC"
        f.write(
            f'[[reports]]\nname = "Report {i:06d}"\ntype = "T{i % 10}"\nsource = "db"\n'
            f'destinations = ["out"]\ntimezone = "{zone}"\n'
            f'query = "SELECT count(*) AS n FROM events WHERE t >= :from AND t < :to"\n'
            f"[reports.schedule]\n{s}\n\n"
        )
