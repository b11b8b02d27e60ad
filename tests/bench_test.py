#!/usr/bin/env python3
"""coring-bench end to end: the embedded server, JSON and SVG output, flags,
--rate pacing, threads, and the failures (bad flags, unreachable URL, a
server that stops answering) that must end with a message and a non-zero exit."""
import json
import os
import pty
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

bench, server_bin = sys.argv[1], sys.argv[2]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def run(*args, timeout=60):
    return subprocess.run([bench, *args], capture_output=True, text=True, timeout=timeout)


with tempfile.TemporaryDirectory() as d:
    out_json, out_svg = os.path.join(d, "r.json"), os.path.join(d, "r.svg")

    # The main job: no URL, the embedded server.
    r = run("-n", "3000", "-c", "8", "--json", out_json, "--plot", out_svg)
    check(r.returncode == 0, f"embedded run exits 0 ({r.returncode}: {r.stderr})")
    check("req/s" in r.stdout and "p99.9" in r.stdout and "200 x 3,000" in r.stdout, f"text summary ({r.stdout})")
    check("\r" not in r.stderr, "no progress line when stderr is not a terminal")
    j = json.load(open(out_json))
    check(j["requests"] == 3000 and j["status_codes"] == {"200": 3000}, f"JSON counts ({j['requests']}, {j['status_codes']})")
    check(j["requests_per_sec"] > 0 and j["connections"] == 8, "JSON requests_per_sec and connections")
    lat = j["latency_us"]
    check(0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"],
          f"latency percentiles in µs, in order ({lat})")
    check(lat["max"] < 10_000_000, "latency in microseconds, not nanoseconds")
    check(j["bytes"] > 3000 * 13 and sum(j["errors"].values()) == 0 and j["aborted"] is None, "bytes, no errors")
    svg = ET.parse(out_svg).getroot()
    check(svg.tag.endswith("svg") and any(e.tag.endswith("polyline") for e in svg.iter()), "--plot writes an SVG with a curve")

    # --rate: 400 requests at 2,000/s take about 0.2 s, not as fast as possible.
    r = run("-n", "400", "-c", "4", "--rate", "2000", "--json", out_json)
    j = json.load(open(out_json))
    check(r.returncode == 0 and j["requests"] == 400, f"--rate run ({r.returncode}, {r.stderr})")
    check(0.17 <= j["duration_sec"] <= 2.0, f"--rate paces the requests (took {j['duration_sec']} s)")
    check(j["rate"] == 2000, "JSON rate")

    # Threads share the connections and the request count exactly.
    r = run("-n", "1001", "-c", "5", "-t", "2", "--json", out_json)
    j = json.load(open(out_json))
    check(r.returncode == 0 and j["requests"] == 1001 and j["threads"] == 2, f"-t 2 -n 1001 ({j['requests']})")

    # The embedded server on two loops sharing its port (SO_REUSEPORT).
    r = run("-n", "2000", "-c", "8", "-t", "2", "--server-threads", "2", "--json", out_json)
    j = json.load(open(out_json))
    check(r.returncode == 0 and j["requests"] == 2000 and j["status_codes"] == {"200": 2000},
          f"--server-threads 2 ({r.returncode}, {r.stderr})")

    # --ring-setup: the loops' io_uring task running (EventLoopOptions::ring_setup).
    r = run("-n", "500", "-c", "2", "--ring-setup", "none", "--json", out_json)
    j = json.load(open(out_json))
    check(r.returncode == 0 and j["requests"] == 500, f"--ring-setup none ({r.returncode}, {r.stderr})")

    # -d: a duration.
    r = run("-d", "300ms", "-c", "2", "--json", out_json)
    j = json.load(open(out_json))
    check(r.returncode == 0 and 0.25 <= j["duration_sec"] <= 1.5 and j["requests"] > 0, f"-d 300ms ({j['duration_sec']})")

    server = subprocess.Popen([server_bin], stdout=subprocess.PIPE, text=True)
    try:
        base = server.stdout.readline().split()[-1]

        r = run("-n", "50", "-c", "2", "-m", "put", "-H", "X-Test: yes", "--body", "abc", base + "/echo")
        check(r.returncode == 0 and "200 x 50" in r.stdout, f"method, header and body ({r.stdout}{r.stderr})")
        body_file = os.path.join(d, "body")
        open(body_file, "wb").write(b"x" * 100_000)
        r = run("-n", "20", "-c", "2", "--body-file", body_file, "--json", out_json, base + "/echo")
        j = json.load(open(out_json))
        check(r.returncode == 0 and j["requests"] == 20 and j["bytes"] > 20 * 100_000, "--body-file sends the file")

        r = run("-n", "100", "-c", "2", "--json", out_json, base + "/status/503")
        j = json.load(open(out_json))
        check(j["status_codes"] == {"503": 100} and j["errors"]["status"] == 100, "bad statuses are counted by code")
        check("status >= 400" in r.stdout, "and reported as errors")

        r = run("-n", "100", "-c", "2", "--json", out_json, base + "/close")
        j = json.load(open(out_json))
        check(r.returncode == 0 and j["requests"] == 100 and j["connects"] == 100, "Connection: close reconnects")

        r = run("-n", "40", "-c", "2", "-m", "HEAD", base + "/bytes/5000")
        check(r.returncode == 0 and "200 x 40" in r.stdout, "HEAD responses have no body")

        r = run("-n", "20", "-c", "2", "--json", out_json, base + "/close-mid-body")
        j = json.load(open(out_json))
        check(j["errors"]["read"] == 20 and "closed" in j["error_messages"]["read"], "a cut body is a read error")
        check(r.returncode == 1, "no response at all: exit 1")

        # A server that stops answering: every request times out, the run
        # stops itself long before -d, says why, and still prints the numbers.
        start = time.monotonic()
        r = run("-d", "60s", "-c", "2", "--timeout", "0.3", "--json", out_json, base + "/delay/100000")
        took = time.monotonic() - start
        j = json.load(open(out_json))
        check(r.returncode == 1 and took < 20, f"a stalled server ends the run (exit {r.returncode}, {took:.1f} s)")
        check("stopped answering" in r.stdout and j["aborted"] and j["errors"]["timeout"] >= 2, "and says why")
        check("requests" in r.stdout, "the numbers gathered so far are printed")

        # A live progress line on a terminal.
        master, slave = pty.openpty()
        p = subprocess.Popen([bench, "-d", "2500ms", "-c", "2", base + "/small"], stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        p.communicate(timeout=60)
        progress = b""
        try:
            while True:
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                progress += chunk
        except OSError:
            pass
        os.close(master)
        check(b"\r\x1b[K" in progress and b"req/s" in progress and b"s left" in progress, f"progress on a TTY ({progress[:200]!r})")
        r = run("-d", "1500ms", "-c", "2", "--no-progress", base + "/small")
        check(r.returncode == 0 and r.stderr == "", "--no-progress")
    finally:
        server.kill()
        server.wait()

# Bad input: a clear message and a non-zero exit.
for args, needle in [
    (["http://127.0.0.1:1/"], "cannot connect"),
    (["ftp://example/"], "scheme"),
    (["-c", "0"], "connections"),
    (["-d", "soon"], "not a duration"),
    (["-H", "no colon"], "bad header"),
    (["-n", "5", "-d", "1s"], "excludes"),
    (["--body-file", "/nonexistent/x"], "body file"),
    (["--ring-setup", "fast"], "ring-setup"),
    (["--frobnicate"], "frobnicate"),
]:
    r = run(*args)
    check(r.returncode != 0 and needle in (r.stderr + r.stdout), f"{args}: exit {r.returncode}, {r.stderr.strip()!r}")

for f in failures:
    print("FAIL:", f)
print(f"{'ok' if not failures else 'FAILED'}: coring-bench ({len(failures)} failures)")
sys.exit(1 if failures else 0)
