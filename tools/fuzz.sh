#!/usr/bin/env bash
# The fixture fuzzer: libFuzzer + AddressSanitizer over fixture loading and running
# (Sources/FixtureFuzzer, Sources/ConformanceKit/FuzzHarness.swift; docs/fuzzing-and-sanitizers.md).
#
#   tools/fuzz.sh build              build .build-fuzz/release/FixtureFuzzer with -sanitize=fuzzer,address
#   tools/fuzz.sh seeds              split Fixtures/ into single-case seeds + a dictionary (.build-fuzz/)
#   tools/fuzz.sh run [OPTIONS...]   build, make the seeds, fuzz; OPTIONS go to libFuzzer
#                                    (default -max_total_time=600; e.g. -runs=1000000 -jobs=2)
#   tools/fuzz.sh repro FILE...      run inputs once in a plain debug build (the crash reproducer)
#
# Crashers are written to .build-fuzz/crashes/; keep each one as a regression test in
# Tests/ConformanceKitTests/FuzzCrashers/ (FuzzCrashersTests runs every file there).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-fuzz

build() {
  swift build -c release --scratch-path "$scratch" --product FixtureFuzzer \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING
}

seeds() {
  rm -rf "$scratch/seeds"
  python3 tools/fuzz_seeds.py Fixtures "$scratch/seeds" "$scratch/fixture.dict"
}

run() {
  [ $# -gt 0 ] || set -- -max_total_time=600
  mkdir -p "$scratch/corpus" "$scratch/crashes"
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
  "$scratch/release/FixtureFuzzer" "$scratch/corpus" "$scratch/seeds" \
    -dict="$scratch/fixture.dict" -max_len=8192 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$scratch/crashes/" -print_final_stats=1 "$@"
}

case "${1:-run}" in
  build) build ;;
  seeds) seeds ;;
  run) shift || true; build; seeds; run "$@" ;;
  repro) shift; swift build --product FixtureFuzzer && .build/debug/FixtureFuzzer "$@" ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
