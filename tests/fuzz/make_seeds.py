#!/usr/bin/env python3
"""Writes the seed corpora of response_fuzz (tests/fuzz/corpus/) and
parser_fuzz (tests/fuzz/parser_corpus/), in the input formats described at
the top of each target: for response_fuzz a mode byte, then the server's
answers separated by "~~~\n"; for parser_fuzz a mode byte, then the bytes on
the connection (each response seed's answers back to back, and requests).
The outputs are committed; rerun only to change them:
  python3 tests/fuzz/make_seeds.py tests/fuzz/corpus tests/fuzz/parser_corpus
"""
import ctypes
import gzip
import os
import sys
import zlib

out, parser_out = sys.argv[1], sys.argv[2]
SEP = b"~~~\n"
WHOLE, KEEP, CHUNKS, HEAD = 0x07, 0x08, 0x10, 0x20  # mode bits
PARSE_REQUESTS, PARSE_AFTER_HEAD = 0x80, 0x40  # parser_fuzz's mode bits


def h(status_line, headers, body=b""):
    return status_line.encode() + b"\r\n" + b"".join(k.encode() + b": " + v.encode() + b"\r\n" for k, v in headers) + b"\r\n" + body


def parser_seed(name, mode, wire):
    with open(os.path.join(parser_out, name), "wb") as f:
        f.write(bytes([mode]) + wire)


def seed(name, mode, *answers):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([mode]) + SEP.join(answers))
    # The same bytes for the parsers alone, cut as response_fuzz cuts them.
    parser_seed("response-" + name, (mode & 0x07) | (PARSE_AFTER_HEAD if mode & HEAD else 0), b"".join(answers))


text = b"Hello, world!"
big = bytes((ord('a') + i % 26) for i in range(600))
seed("plain-200", WHOLE, h("HTTP/1.1 200 OK", [("Content-Length", "13"), ("Content-Type", "text/plain")], text))
seed("plain-200-bytewise", 0x00, h("HTTP/1.1 200 OK", [("Content-Length", "13")], text))
seed("plain-200-keepalive-twice", KEEP | 0x03, h("HTTP/1.1 200 OK", [("Content-Length", "13"), ("Keep-Alive", "timeout=5")], text),
     h("HTTP/1.1 200 OK", [("Content-Length", "5")], b"again"))
chunked = b"5;name=value\r\nHello\r\n8;x\r\n, world!\r\n0\r\nX-Trailer: yes\r\nOther: 1\r\n\r\n"
seed("chunked-ext-trailers", 0x02 | CHUNKS, h("HTTP/1.1 200 OK", [("Transfer-Encoding", "chunked")], chunked))
seed("chunked-hex-upper", 0x04, h("HTTP/1.1 200 OK", [("Transfer-Encoding", "chunked")], b"1A\r\n" + big[:26] + b"\r\n0\r\n\r\n"))
gz = gzip.compress(big, mtime=0)
seed("gzip", 0x05, h("HTTP/1.1 200 OK", [("Content-Encoding", "gzip"), ("Content-Length", str(len(gz)))], gz))
seed("gzip-chunked", 0x03 | CHUNKS, h("HTTP/1.1 200 OK", [("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")],
     b"%x\r\n" % 20 + gz[:20] + b"\r\n" + b"%x\r\n" % (len(gz) - 20) + gz[20:] + b"\r\n0\r\n\r\n"))
dz = zlib.compress(big)
seed("deflate-zlib", WHOLE, h("HTTP/1.1 200 OK", [("Content-Encoding", "deflate"), ("Content-Length", str(len(dz)))], dz))
co = zlib.compressobj(wbits=-15)
raw = co.compress(big) + co.flush()
seed("deflate-raw", 0x01, h("HTTP/1.1 200 OK", [("Content-Encoding", "deflate"), ("Content-Length", str(len(raw)))], raw))
# Python has no brotli module on Debian 12 without pip: the C library's encoder it is.
brotli = ctypes.CDLL("libbrotlienc.so.1")


def br(data):
    out, size = ctypes.create_string_buffer(len(data) + 1024), ctypes.c_size_t(len(data) + 1024)
    assert brotli.BrotliEncoderCompress(11, 22, 0, ctypes.c_size_t(len(data)), data, ctypes.byref(size), out) == 1
    return out.raw[:size.value]


brd = br(big)
seed("brotli", 0x04, h("HTTP/1.1 200 OK", [("Content-Encoding", "br"), ("Content-Length", str(len(brd)))], brd))
seed("brotli-chunked-truncated", 0x02 | CHUNKS, h("HTTP/1.1 200 OK", [("Content-Encoding", "br"), ("Transfer-Encoding", "chunked")],
     b"%x\r\n" % (len(brd) - 3) + brd[:-3] + b"\r\n0\r\n\r\n"))
seed("gzip-truncated", WHOLE, h("HTTP/1.1 200 OK", [("Content-Encoding", "gzip"), ("Content-Length", str(len(gz) - 8))], gz[:-8]))
seed("redirect-cookies", WHOLE,
     h("HTTP/1.1 302 Found", [("Location", "/next?x=1"), ("Set-Cookie", "a=1; Path=/; HttpOnly"),
       ("Set-Cookie", "b=2; Domain=fuzz.test; Max-Age=60; Secure"), ("Content-Length", "0")]),
     h("HTTP/1.1 200 OK", [("Set-Cookie", "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"), ("Content-Length", "2")], b"ok"),
     h("HTTP/1.1 200 OK", [("Content-Length", "0")]))
seed("redirect-other-host-keepalive", KEEP | 0x06,
     h("HTTP/1.1 301 Moved Permanently", [("Location", "http://user:pw@other.example:8080/p"), ("Content-Length", "3")], b"bye"),
     h("HTTP/1.1 303 See Other", [("Location", "//third.example/q#frag"), ("Content-Length", "0")]),
     h("HTTP/1.1 200 OK", [("Content-Length", "4")], b"done"))
seed("redirect-loop", WHOLE, h("HTTP/1.1 307 Temporary Redirect", [("Location", "../a/./b"), ("Content-Length", "0")]))
seed("redirect-https", WHOLE,
     h("HTTP/1.1 308 Permanent Redirect", [("Location", "https://fuzz.test/secure"), ("Content-Length", "0")]),
     bytes.fromhex("160303002a020000260303") + b"\x00" * 32 + b"\x00\x13\x01\x00")
seed("redirect-bad-location", WHOLE, h("HTTP/1.1 302 Found", [("Location", "ftp://[::1/x y"), ("Content-Length", "0")]))
seed("interim-100-then-200", 0x02, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" +
     h("HTTP/1.1 200 OK", [("Content-Length", "2")], b"hi"))
# Regressions: llhttp 8 reads a body after these unless told not to.
seed("interim-with-length", 0x03, b"HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\n" + h("HTTP/1.1 200 OK", [("Content-Length", "2")], b"hi"))
seed("not-modified-with-length", KEEP | WHOLE, h("HTTP/1.1 304 Not Modified", [("Content-Length", "3"), ("ETag", '"v1"')]),
     h("HTTP/1.1 200 OK", [("Content-Length", "2")], b"hi"))
# Regressions: seconds from the wire overflowed the nanosecond clocks (UBSan).
seed("cookie-far-future", WHOLE, h("HTTP/1.1 302 Found", [("Location", "/b"), ("Set-Cookie", "a=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT"),
     ("Set-Cookie", "b=2; Max-Age=99999999999999999999"), ("Content-Length", "0")]), h("HTTP/1.1 200 OK", [("Content-Length", "0")]))
seed("keepalive-huge-timeout", KEEP | WHOLE, h("HTTP/1.1 200 OK", [("Keep-Alive", "timeout=99999999999"), ("Content-Length", "2")], b"ok"),
     h("HTTP/1.1 200 OK", [("Keep-Alive", "timeout=-9223372036854775808"), ("Content-Length", "0")]))
seed("head-with-length", HEAD | WHOLE, h("HTTP/1.1 200 OK", [("Content-Length", "1000")]), h("HTTP/1.1 200 OK", [("Content-Length", "1")], b"x"))
seed("no-content-204-keepalive", KEEP | WHOLE, h("HTTP/1.1 204 No Content", [("Content-Length", "5")]), h("HTTP/1.1 304 Not Modified", [("ETag", '"x"')]))
seed("close-delimited", 0x04, h("HTTP/1.1 200 OK", [("Connection", "close")], big[:100]))
seed("http10", WHOLE, h("HTTP/1.0 200 OK", [("Connection", "keep-alive"), ("Content-Length", "2")], b"ok"))
seed("content-length-short", WHOLE, h("HTTP/1.1 200 OK", [("Content-Length", "100")], b"short"))
seed("content-length-conflict", WHOLE, h("HTTP/1.1 200 OK", [("Content-Length", "3"), ("Content-Length", "4")], b"abcd"))
seed("cl-and-chunked", WHOLE, h("HTTP/1.1 200 OK", [("Content-Length", "3"), ("Transfer-Encoding", "chunked")], b"3\r\nabc\r\n0\r\n\r\n"))
seed("bad-chunk-size", 0x01, h("HTTP/1.1 200 OK", [("Transfer-Encoding", "chunked")], b"zz\r\nabc\r\n0\r\n\r\n"))
seed("chunk-size-overflow", WHOLE, h("HTTP/1.1 200 OK", [("Transfer-Encoding", "chunked")], b"ffffffffffffffffff\r\nabc\r\n"))
seed("bad-status-line", WHOLE, b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")
seed("header-obs-fold-and-bare-lf", 0x03, b"HTTP/1.1 200 OK\nX-A: 1\r\n  continued\r\nContent-Length: 1\n\nz")
# Bare LF throughout, body delimited by close (curl's test 1417), cut a byte or two at a time.
seed("bare-lf-close-delimited", 0x00, b"HTTP/1.0 200 OK\nFoo: abc\n\nBODY")
seed("extra-bytes-after", KEEP | WHOLE, h("HTTP/1.1 200 OK", [("Content-Length", "2")], b"okHTTP/1.1 200 OK\r\n\r\n"), h("HTTP/1.1 200 OK", [("Content-Length", "0")]))
seed("empty-answer", WHOLE, b"")
seed("status-404-json", CHUNKS | WHOLE, h("HTTP/1.1 404 Not Found", [("Content-Type", "application/json"), ("Content-Length", "16")], b'{"error":"nope"}'))


# Requests, as the server's parser reads them.
def req(line, headers, body=b""):
    return line.encode() + b"\r\n" + b"".join(k.encode() + b": " + v.encode() + b"\r\n" for k, v in headers) + b"\r\n" + body


parser_seed("request-get-pipelined", PARSE_REQUESTS | 0x02,
            req("GET /small HTTP/1.1", [("Host", "h"), ("Accept", "*/*")]) + req("GET /a?b=c HTTP/1.1", [("Host", "h")]) +
            req("HEAD / HTTP/1.0", [("Connection", "keep-alive")]))
parser_seed("request-post-length", PARSE_REQUESTS | 0x04,
            req("POST /echo HTTP/1.1", [("Host", "h"), ("Content-Length", "5"), ("Content-Type", "text/plain")], b"hello"))
parser_seed("request-post-chunked", PARSE_REQUESTS | 0x00,
            req("PUT /u HTTP/1.1", [("Host", "h"), ("Transfer-Encoding", "chunked")], b"3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n") +
            req("GET /next HTTP/1.1", [("Host", "h")]))
parser_seed("request-long-header", PARSE_REQUESTS | 0x07, req("GET / HTTP/1.1", [("X-Big", "x" * 8185), ("Host", "h")]))
parser_seed("request-many-headers", PARSE_REQUESTS | 0x05, req("GET / HTTP/1.1", [("X-%d" % i, "v") for i in range(129)]))
parser_seed("request-long-target", PARSE_REQUESTS | 0x06, req("GET /" + "p" * 8200 + " HTTP/1.1", [("Host", "h")]))
parser_seed("request-name-without-value", PARSE_REQUESTS | 0x01, b"GET / HTTP/1.1\r\nHost\r\n\r\n")
parser_seed("request-bad-method", PARSE_REQUESTS | 0x03, b"G T / HTTP/1.1\r\n\r\n")
# Regression: refused whole for the bad character, cut for being the 129th name.
parser_seed("request-129th-name-bad-token", PARSE_REQUESTS | 0x02,
            req("GET / HTTP/1.1", [("X-%d" % i, "v") for i in range(128)])[:-2] + b"X-129th\x01bad: v\r\n\r\n")
# Smuggling attempts the server's parser refuses (see http/parser.cpp).
parser_seed("request-bare-lf", PARSE_REQUESTS | 0x01, b"GET / HTTP/1.1\nHost: h\n\n")
parser_seed("request-bare-cr-te", PARSE_REQUESTS | 0x02,
            b"POST / HTTP/1.1\r\nHost: h\r\nX-Abc: \rxTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n")
parser_seed("request-obs-fold-content-length", PARSE_REQUESTS | 0x03,
            b"POST / HTTP/1.1\r\nHost: h\r\nX: a\r\n Content-Length: 5\r\n\r\nabcde")
parser_seed("request-chunk-without-crlf", PARSE_REQUESTS | 0x00,
            req("POST / HTTP/1.1", [("Host", "h"), ("Transfer-Encoding", "chunked")], b"3\r\nabcXX0\r\n\r\n"))
