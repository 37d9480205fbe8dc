#!/usr/bin/env bash
# Builds libvitscope_mklfix.so into the class path (see mklfix.c). Without gcc the build goes on without it:
# vitscope then runs on MKL's slower default path and says so.
set -u
out="$1"
src="$(dirname "$0")/mklfix.c"
java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
mkdir -p "$out"
if [ "$out/libvitscope_mklfix.so" -nt "$src" ]; then exit 0; fi
if ! command -v gcc >/dev/null 2>&1; then
  echo "[vitscope] gcc not found: building without the MKL fast-path fix (about 2x slower on AMD CPUs)" >&2
  exit 0
fi
gcc -O3 -shared -fPIC -I"$java_home/include" -I"$java_home/include/linux" -o "$out/libvitscope_mklfix.so" "$src" -ldl -lm \
  || echo "[vitscope] could not build the MKL fix; continuing without it" >&2
exit 0
