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


sleep_demo, gather_demo, fetch_demo, timeout_demo, as_completed_demo, wait_demo = sys.argv[1:7]

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

# gather_demo: the order of events is the lesson; each line says when it happened.
code, out, _ = run(gather_demo, "--scale", "1")  # 0.6 s in all; 0.1 s between events
check(code == 0, f"gather_demo exited with {code}")
events = {}  # event -> unscaled time since its part began
lines = []
for line in out.splitlines():
    m = re.match(r"\s*t=([\d.]+) s  (.*)$", line)
    if m:
        events[m.group(2)] = float(m.group(1))
    lines.append(m.group(2) if m else line.strip())
check(len(events) == 15, f"gather_demo prints the time of each of its 15 events, got {len(events)}")


def before(a, b):
    """a is printed before b, and not later in time."""
    return (a in lines and b in lines and lines.index(a) < lines.index(b)
            and a in events and b in events and events[a] <= events[b])


check("results in argument order: slow, fast, medium" in lines, "gather keeps argument order")
check(before("fast finished", "medium finished") and before("medium finished", "slow finished"),
      "gather's children finish in their own order")
check("fast finished" in events and "slow finished" in events and events["fast finished"] < events["slow finished"],
      "gather_demo: the fast child finishes earlier in time than the slow one")
check(before("slow finished", "results in argument order: slow, fast, medium"),
      "gather gives its results only once the slowest child has finished")
check(before("culprit raises", "sibling was cancelled") and before("sibling was cancelled", "gather raised: culprit failed"),
      "gather cancels the sibling before the exception reaches the awaiter")
check(events.get("gather raised: culprit failed", 99) < 0.9,
      "gather raises when the culprit fails, without waiting out the 1 s sibling")
check("first: value good" in lines and 'second: exception "bad failed"' in lines,
      "return_exceptions gives a value and an exception")
check(before("bad raises", "good finished") and before("good finished", "first: value good"),
      "return_exceptions waits for every child, the failed one included")
check(before("download C raises", "download A was cancelled") and before("download C raises", "download B was cancelled")
      and before("download A was cancelled", "task group raised: download C failed")
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


def timed(out, text):
    """The unscaled time printed on the line `  t=X s  <text>`, or None."""
    m = re.search(r"^\s*t=([\d.]+) s  " + re.escape(text) + "$", out, re.MULTILINE)
    return float(m.group(1)) if m else None


def in_order(out, *texts):
    """True if every text is printed, each on a later line than the one before."""
    positions = [out.find(t) for t in texts]
    return all(p >= 0 for p in positions) and positions == sorted(positions)


# as_completed_demo: finishing order vs argument order, then a deadline.
code, out, err = run(as_completed_demo, "--scale", "0.1")
check(code == 0, f"as_completed_demo exited with {code}: {err}")
part1b = out[out.find("1b. as_completed"):out.find("2. as_completed with")]
check(in_order(out, "gather gave slow (3 s)", "gather gave fast (1 s)", "gather gave medium (2 s)", "1b. as_completed"),
      "as_completed_demo: gather gives argument order")
gather_times = [timed(out, f"gather gave {n}") for n in ("slow (3 s)", "fast (1 s)", "medium (2 s)")]
check(None not in gather_times and min(gather_times) >= 2.9,
      f"as_completed_demo: gather gives nothing before the slowest has finished: {gather_times}")
check(in_order(part1b, "as_completed gave fast (1 s)", "as_completed gave medium (2 s)", "as_completed gave slow (3 s)"),
      "as_completed_demo: as_completed gives finishing order")
fast, medium, slow = (timed(part1b, f"as_completed gave {n}") for n in ("fast (1 s)", "medium (2 s)", "slow (3 s)"))
check(None not in (fast, medium, slow) and 0.9 <= fast < medium < slow and fast < 2.5,
      f"as_completed_demo: each result as it finishes, the fast one well before the slow one: {fast}, {medium}, {slow}")
part2 = out[out.find("2. as_completed with"):]
check(part2.count("as_completed gave") == 2 and "gave first 1 s fetch" in part2 and "gave second 1 s fetch" in part2,
      "as_completed_demo: both 1 s fetches arrive before the deadline")
timeout_at = timed(part2, "TimeoutError, still running: 1")
check(timeout_at is not None and 1.9 <= timeout_at < 9,
      f"as_completed_demo: TimeoutError for the 10 s fetch at the 2 s deadline, not later (t={timeout_at})")
check(in_order(part2, "TimeoutError", "10 s fetch was cancelled", "still running besides this one: 0"),
      "as_completed_demo: dropping the AsCompleted cancels the late fetch")
check(out.count("was cancelled") == 1, "as_completed_demo: only the late fetch is cancelled")
code, _, err = run(as_completed_demo, "--scale", "0")
check(code != 0 and "--scale" in err, "as_completed_demo: a bad --scale is refused")

# wait_demo: which tasks are done, which pending, and that the pending end cancelled.
code, out, err = run(wait_demo, "--scale", "0.1")
check(code == 0, f"wait_demo exited with {code}: {err}")
part1 = out[out.find("1. first_completed"):out.find("2. first_exception")]
part2 = out[out.find("2. first_exception"):out.find("3. all_completed")]
part3 = out[out.find("3. all_completed"):]
check(re.search(r"t=[\d.]+ s  1 done, 2 pending", part1) is not None, "wait_demo: first_completed: 1 done, 2 pending")
check("done: mirror us (1 s)" in part1, "wait_demo: first_completed: the fastest mirror wins")
check(in_order(part1, "done: mirror us", "was cancelled", "pending: 2 cancelled and awaited, 0 still running")
      and "mirror eu (3 s) was cancelled" in part1 and "mirror asia (2 s) was cancelled" in part1,
      "wait_demo: first_completed: the other mirrors are cancelled, and awaited")
check(re.search(r"t=[\d.]+ s  2 done, 1 pending", part2) is not None, "wait_demo: first_exception: 2 done, 1 pending")
check(in_order(part2, "done: quick request (1 s)", 'done: raised "failing request (2 s): connection reset"'),
      "wait_demo: first_exception: the failed task is in done, its exception read through result()")
check(in_order(part2, "slow request (5 s) was cancelled", "pending: 1 cancelled and awaited"),
      "wait_demo: first_exception: the slow request is cancelled")
check(re.search(r"t=[\d.]+ s  2 done, 2 pending", part3) is not None, "wait_demo: the timeout leaves 2 done, 2 pending")
check("done: job A (1 s)" in part3 and "done: job B (2 s)" in part3, "wait_demo: jobs A and B are done by the timeout")
check("the 2 pending are still running" in part3, "wait_demo: wait's timeout cancels nothing")
check(in_order(part3, "still running: wait cancels nothing", "job C (5 s) was cancelled", "job D (10 s) was cancelled",
               "pending: 2 cancelled and awaited, 0 still running"),
      "wait_demo: the pending jobs are cancelled and awaited")
timed_out_at = timed(part3, "2 done, 2 pending")
check(timed_out_at is not None and timed_out_at >= 2.9, f"wait_demo: wait returns no sooner than its timeout (t={timed_out_at})")
check(out.count("was cancelled") == 5, "wait_demo: exactly the five pending tasks are cancelled")
code, _, err = run(wait_demo, "--scale", "abc")
check(code != 0 and "--scale" in err, "wait_demo: a bad --scale is refused")

for f in failures:
    print("FAIL:", f)
print(out)
sys.exit(1 if failures else 0)
