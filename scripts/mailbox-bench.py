#!/usr/bin/env python3
"""Cost of many mailboxes: creation rate, memory per mailbox, list times.

    cargo build --release
    python3 scripts/mailbox-bench.py target/release/mailcatch memory
    python3 scripts/mailbox-bench.py target/release/mailcatch sqlite

Starts the binary on free loopback ports (SQLite: a database in a temporary
directory), creates MAILBOXES mailboxes over the API from 8 threads, then
times 15 listings of them all and 15 listings of one mailbox's messages.
Prints medians. Loopback only; every loop is bounded by its count.
"""

import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

MAILBOXES = 10_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(next(l for l in status if l.startswith("VmRSS")).split()[1])


def timed(url, runs=15):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        body = urllib.request.urlopen(url, timeout=10).read()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), body


def main(binary, engine):
    smtp, http = free_port(), free_port()
    args = [binary, "--smtp", f"127.0.0.1:{smtp}", "--listen", f"127.0.0.1:{http}", "-q"]
    scratch = tempfile.TemporaryDirectory()
    if engine == "sqlite":
        args += ["--database", f"{scratch.name}/mail.db"]
    server = subprocess.Popen(args)
    base = f"http://127.0.0.1:{http}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        before = rss_kib(server.pid)

        def create(n):
            body = json.dumps({"Name": f"box-{n}"}).encode()
            request = urllib.request.Request(base + "/api/mailcatch/v1/mailboxes", data=body, method="POST")
            urllib.request.urlopen(request, timeout=10).read()

        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(MAILBOXES)))
        seconds = time.perf_counter() - started
        grown = rss_kib(server.pid) - before
        all_ms, body = timed(base + "/api/mailcatch/v1/mailboxes")
        one_ms, _ = timed(base + f"/mailbox/box-{MAILBOXES // 2}/api/v1/messages")
        print(
            f"{engine}: {MAILBOXES} mailboxes in {seconds:.1f} s ({MAILBOXES / seconds:.0f}/s); "
            f"RSS +{grown / 1024:.1f} MB ({grown * 1024 / MAILBOXES:.0f} B each); "
            f"list of {len(json.loads(body))}: {all_ms:.1f} ms; one mailbox's messages: {one_ms:.2f} ms (medians)"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        scratch.cleanup()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ("memory", "sqlite"):
        sys.exit(f"usage: {sys.argv[0]} BINARY memory|sqlite")
    main(sys.argv[1], sys.argv[2])
