#!/bin/sh
# Links the objects of ARCHIVE (parser.cpp and llhttp's C) into one object,
# OUT, in which llhttp's symbols are local: coring carries its own llhttp, and
# a program that links another llhttp too must not meet it twice.
# Usage: localize_llhttp.sh OUT ARCHIVE
set -eu
out=$1 archive=$2
ld -r --whole-archive "$archive" -o "$out.tmp"
objcopy --wildcard --localize-symbol='llhttp*' "$out.tmp" "$out"
rm -f "$out.tmp"
