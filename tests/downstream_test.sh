#!/usr/bin/env bash
# Builds examples/downstream, a separate meson project, against coring in two
# ways a user would: as a subproject, and installed with its coring.pc.
set -euo pipefail
source_root=$1 build_root=$2
work=$(mktemp -d /tmp/coring-downstream.XXXXXX)
trap 'rm -rf "$work"' EXIT

# 1. As a meson subproject.
cp -r "$source_root/examples/downstream" "$work/project"
mkdir -p "$work/project/subprojects"
ln -s "$source_root" "$work/project/subprojects/coring"
meson setup "$work/build" "$work/project" --wrap-mode=forcefallback >/dev/null
ninja -C "$work/build" >/dev/null
out=$("$work/build/hello_coring")
[[ $out == "hello from coring: 42" ]] || { echo "subproject build printed: $out"; exit 1; }

# 2. Installed, found through pkg-config.
meson install -C "$build_root" --destdir "$work/root" >/dev/null
pc_dir=$(dirname "$(find "$work/root" -name coring.pc | head -n 1)")
export PKG_CONFIG_PATH=$pc_dir
prefix=$(pkg-config --variable=prefix coring)
flags=$(pkg-config --define-variable=prefix="$work/root$prefix" --cflags --libs --static coring)
g++ -std=c++20 -O1 "$source_root/examples/downstream/main.cpp" -o "$work/hello_pc" $flags
out=$("$work/hello_pc")
[[ $out == "hello from coring: 42" ]] || { echo "pkg-config build printed: $out"; exit 1; }
echo "downstream builds: subproject and pkg-config OK"
