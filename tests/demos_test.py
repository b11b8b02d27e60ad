#!/usr/bin/env python3
"""Runs the teaching demos at a small scale and checks what they teach."""
import re
import subprocess
import sys

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def run(*argv):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


sleep_demo, gather_demo, fetch_demo, timeout_demo = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

# sleep_demo: sequential takes the sum of the sleeps, concurrent about one.
scale = 0.1  # 0.3 s a sleep: room for a loaded CI machine's pauses
code, out, _ = run(sleep_demo, "--scale", str(scale))
check(code == 0, f"sleep_demo exited with {code}")
seq = float(re.search(r"sequential .*: ([\d.]+) s", out).group(1))
conc = float(re.search(r"concurrent .*: ([\d.]+) s", out).group(1))
one = 3 * scale
check(seq >= 3 * one - 0.002, f"sequential {seq} s should be at least three sleeps ({3 * one} s)")
check(one - 0.002 <= conc < 2 * one, f"concurrent {conc} s should be about one sleep ({one} s)")
check("ratio:" in out, "sleep_demo prints the ratio")

code, _, err = run(sleep_demo, "--scale", "-1")
check(code != 0 and "--scale" in err, "a bad --scale is refused with a message naming the flag")

# gather_demo: the order of events is the lesson.
code, out, _ = run(gather_demo, "--scale", "0.05")
check(code == 0, f"gather_demo exited with {code}")
lines = [l.strip() for l in out.splitlines()]


def before(a, b):
    return a in lines and b in lines and lines.index(a) < lines.index(b)


check("results in argument order: slow, fast, medium" in lines, "gather keeps argument order")
check(before("fast finished", "slow finished"), "gather's children finish in their own order")
check(before("sibling was cancelled", "gather raised: culprit failed"),
      "gather cancels the sibling before the exception reaches the awaiter")
check("first: value good" in lines and 'second: exception "bad failed"' in lines,
      "return_exceptions gives a value and an exception")
check(before("download A was cancelled", "task group raised: download C failed")
      and before("download B was cancelled", "task group raised: download C failed"),
      "TaskGroup cancels both siblings before raising")

# fetch_demo: every request of both runs answered through one session.
code, out, err = run(fetch_demo, "--count", "200", "--delay-ms", "1")
check(code == 0, f"fetch_demo exited with {code}: {err}")
check(re.search(r"sequential .*: [\d.]+ s, 200 responses with status 200", out) is not None,
      "fetch_demo: 200 sequential responses")
check(re.search(r"concurrent .*: [\d.]+ s, 200 responses with status 200", out) is not None,
      "fetch_demo: 200 concurrent responses")
code, _, err = run(fetch_demo, "--url", "ftp://nowhere/")
check(code != 0 and "ftp" in err, "fetch_demo: a bad --url is reported")

# timeout_demo: which timeout fires, and which requests get through.
code, out, err = run(timeout_demo, "--scale", "0.1")
check(code == 0, f"timeout_demo exited with {code}: {err}")
expected = [
    r"a 0\.5 s answer: 200",
    r"a 2 s answer: total timeout after 1\.\d\d s",
    r"a 2 s answer, total 3 s: 200",
    r"20 bytes at 0\.1 s each, total 1 s: total timeout",
    r"20 bytes at 0\.1 s each, sock_read 0\.5 s: 200, 20 bytes",
    r"a 2 s silence, sock_read 0\.5 s: sock_read timeout",
    r"a request queued behind it, pool 0\.5 s: pool timeout",
    r"a 1\.5 s answer holding the connection: 200",
    r"wait_for 0\.5 s: TimeoutError",
]
for pattern in expected:
    check(re.search(pattern, out) is not None, f"timeout_demo: {pattern}")

for f in failures:
    print("FAIL:", f)
print(out)
sys.exit(1 if failures else 0)
