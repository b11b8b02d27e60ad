#!/usr/bin/env bash
# Builds examples/downstream, a separate project, against coring in the three
# ways a user would: as a meson subproject, and installed (DESTDIR), through
# pkg-config and through CMake's find_package; and checks that the install
# holds the tools (which answer --version) and their man pages.
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

# 3. Installed, found by CMake.
prefix_dir=$work/root$prefix
cmake -S "$source_root/examples/downstream" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix_dir" \
  -DCMAKE_CXX_COMPILER=g++ >/dev/null
cmake --build "$work/cmake" >/dev/null
out=$("$work/cmake/hello_coring")
[[ $out == "hello from coring: 42" ]] || { echo "CMake build printed: $out"; exit 1; }

# 4. The tools and their man pages.
version=$(sed -n "s/^#define CORING_VERSION \"\(.*\)\"/\1/p" "$build_root/include/coring/version.hpp")
for tool in coring-fetch coring-bench; do
  out=$("$prefix_dir/bin/$tool" --version)
  [[ $out == "$tool $version" ]] || { echo "$tool --version printed: $out"; exit 1; }
  if command -v help2man >/dev/null; then
    man_page=$(find "$prefix_dir" -path "*/man1/$tool.1" | head -n 1)
    # help2man's page of the tool's own --help: its title and the -c flag both tools have.
    [[ -n $man_page ]] && grep -q "^\.TH ${tool^^} \"1\".*\"$tool $version\"" "$man_page" &&
      grep -q '\\-\\-connections' "$man_page" || { echo "no man page with the tool's flags for $tool"; exit 1; }
  fi
done
# 5. coring's llhttp stays inside: no llhttp symbol is exported, and a program
# that links an llhttp of its own beside coring links.
library=$(find "$prefix_dir" -name libcoring.a | head -n 1)
if nm -g --defined-only "$library" | grep -q " llhttp"; then
  echo "libcoring.a exports llhttp symbols:"; nm -g --defined-only "$library" | grep " llhttp" | head -n 3; exit 1
fi
for part in api http llhttp; do
  gcc -c -w -I/usr/share/include/llhttp "/usr/share/llhttp/$part.c" -o "$work/$part.o"
done
g++ -std=c++20 -O1 "$source_root/examples/downstream/main.cpp" "$work"/{api,http,llhttp}.o -o "$work/hello_llhttp" $flags
[[ $("$work/hello_llhttp") == "hello from coring: 42" ]] || { echo "the build with a second llhttp failed"; exit 1; }
echo "downstream builds: subproject, pkg-config and CMake OK; tools $version installed; llhttp kept inside"
