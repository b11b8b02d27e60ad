#!/usr/bin/env python3
"""coring-fetch against the project's test server: bodies, exit codes, flags."""
import os
import subprocess
import sys
import tempfile

fetch, server_bin = sys.argv[1], sys.argv[2]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def pattern(n):
    return bytes(ord("a") + i % 26 for i in range(n))


server = subprocess.Popen([server_bin], stdout=subprocess.PIPE, text=True)
try:
    line = server.stdout.readline()
    base = line.split()[-1]

    def run(*args, timeout=60):
        return subprocess.run([fetch, *args], capture_output=True, timeout=timeout)

    r = run(base + "/small")
    check(r.returncode == 0 and r.stdout == b"Hello, world!", f"one URL: body to stdout ({r.returncode}, {r.stdout[:40]!r})")

    r = run(base + "/chunked/200000?chunk=999")
    check(r.returncode == 0 and r.stdout == pattern(200000), "a chunked body arrives byte for byte")

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "body")
        r = run("-o", out, base + "/bytes/1048576")
        check(r.returncode == 0 and open(out, "rb").read() == pattern(1 << 20), "-o writes the body to a file")

    with tempfile.TemporaryDirectory() as d:
        upload = os.path.join(d, "notes.txt")
        with open(upload, "wb") as f:
            f.write(b"hello\r\nfile")
        r = run("-F", "name=coring", "-F", "upload=@" + upload + ";type=text/plain", base + "/echo")
        check(r.returncode == 0 and r.stdout.startswith(b"POST /echo\n")
              and b"Content-Type: multipart/form-data; boundary=" in r.stdout
              and b'Content-Disposition: form-data; name="name"\r\n\r\ncoring\r\n' in r.stdout
              and b'name="upload"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\nfile\r\n' in r.stdout,
              f"-F: fields and a file as multipart/form-data ({r.returncode}, {r.stdout[:300]!r})")
        r = run("-F", "upload=@" + os.path.join(d, "missing"), base + "/echo")
        check(r.returncode == 26 and b"missing" in r.stderr, "-F with an unreadable file: exit 26 naming it")
        r = run("-F", "upload=@" + d, base + "/echo")
        check(r.returncode == 26, f"-F with a directory: exit 26, not a crash ({r.returncode})")
    r = run("-F", "a=b;type=x\r\nY: z", base + "/echo")
    check(r.returncode == 2 and b"CR" in r.stderr, f"-F with CR LF in its type: exit 2, not a crash ({r.returncode})")
    r = run("-F", "no-equals-sign", base + "/echo")
    check(r.returncode == 2 and b"-F" in r.stderr, "a malformed -F: exit 2 naming the flag")
    r = run("-F", "a=1", "-d", "b=2", base + "/echo")
    check(r.returncode != 0 and r.returncode not in (26, 7), "-F and -d together are refused")

    r = run("-v", base + "/status/404")
    check(r.returncode == 0, "without -f a 404 is a complete response: exit 0")
    check(b"< HTTP/1.1 404" in r.stderr and b"< Content-Length:" in r.stderr, "-v shows status line and headers")
    r = run("-f", base + "/status/404")
    check(r.returncode == 22 and b"404" in r.stderr, "-f turns a 404 into exit 22 with a message")

    r = run("-X", "PUT", "-H", "X-One: 1", "-H", "X-Two: 2", "-d", "a=b", base + "/echo")
    check(r.returncode == 0 and r.stdout.startswith(b"PUT /echo"), "-X sets the method")
    check(b"X-One: 1\n" in r.stdout and b"X-Two: 2\n" in r.stdout, "-H is repeatable")
    check(r.stdout.endswith(b"\na=b"), "-d sends the body")
    r = run("-d", "x", base + "/echo")
    check(r.stdout.startswith(b"POST"), "-d alone means POST")

    urls = [base + "/small", base + "/bytes/1000", base + "/status/500", base + "/delay/50"]
    r = run("-c", "2", *urls)
    lines = r.stdout.decode().splitlines()
    check(r.returncode == 0 and len(lines) == 4, f"several URLs: one line each ({lines})")
    check(lines[0].startswith("200 13 bytes") and lines[1].startswith("200 1000 bytes") and lines[2].startswith("500"),
          "the lines follow the order of the URLs")

    r = run("--timeout", "0.1", base + "/delay/3000")
    check(r.returncode == 28 and b"total" in r.stderr, "--timeout: exit 28 naming the timeout")

    r = run(base + "/close-mid-body")
    check(r.returncode == 18 and b"close-mid-body" in r.stderr, "a truncated body: exit 18 naming the URL")

    r = run("http://127.0.0.1:1/x")
    check(r.returncode == 7 and b"127.0.0.1:1" in r.stderr, "a refused connection: exit 7 naming the address")

    r = run("ftp://x/")
    check(r.returncode == 3 and b"scheme" in r.stderr, "a bad URL: exit 3 naming the cause")

    r = run("-H", "Bad header", base + "/small")
    check(r.returncode != 0 and b"Bad header" in r.stderr, "a malformed -H is refused with a message")

    r = run("--connections", "-5", base + "/small")
    check(r.returncode != 0 and b"connections" in r.stderr, "a bad flag value is refused, naming the flag")

    r = run()
    check(r.returncode != 0 and b"urls" in r.stderr.lower(), "no URL: usage error")

    r = run("-x", "http://127.0.0.1:1", "-U", "me:secret", base + "/small")
    check(r.returncode == 7 and b"proxy http://127.0.0.1:1" in r.stderr and b"secret" not in r.stderr,
          "an unreachable proxy: exit 7 naming the proxy, never its password")

    r = run("-x", "https://127.0.0.1:1", base + "/small")
    check(r.returncode == 3 and b"only http:// proxies" in r.stderr, "an https:// proxy: exit 3 naming the cause")

    r = run(base + "/small", "http://127.0.0.1:1/", base + "/bytes/5")
    check(r.returncode == 7, "several URLs: any failure makes the exit status non-zero")
    check(b"error" in r.stdout and b"200 5 bytes" in r.stdout, "several URLs: failures and successes each get a line")
    err = r.stderr.decode().splitlines()
    check(len(err) == 1 and err[0].startswith("coring-fetch: (7) http://127.0.0.1:1/: "),
          f"several URLs: the failure gets one line on stderr naming the URL and the cause ({err})")

    # Credentials are never printed, in either form of output, nor with -f.
    port_base = base.replace("http://", "")
    r = run("http://user:s3cr%2Fet@" + port_base + "/status/404", "-f")
    check(r.returncode == 22 and b"s3cr" not in r.stderr + r.stdout and b"404" in r.stderr,
          f"-f: the URL in the message without its password ({r.stderr!r})")
    r = run("http://user:s3cret@" + port_base + "/small", "http://user:s3cret@127.0.0.1:1/x")
    check(r.returncode == 7 and b"s3cret" not in r.stderr + r.stdout and b"***@127.0.0.1:1" in r.stdout,
          f"several URLs: no password in the lines ({r.stdout!r}, {r.stderr!r})")
    r = run("http://user:pa/ss@" + port_base + "x/small")
    check(r.returncode == 3 and b"pa/ss" not in r.stderr and b"ss@" not in r.stderr,
          f"a bad URL with a '/' in its password: not shown ({r.stderr!r})")

    # A slow drip: --read-timeout ends it long before --timeout.
    r = run("--read-timeout", "0.3", "--timeout", "30", base + "/drip/50/1000")
    check(r.returncode == 28 and b"sock_read" in r.stderr, f"--read-timeout: exit 28 naming sock_read ({r.stderr!r})")
finally:
    server.kill()
    server.wait()

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
