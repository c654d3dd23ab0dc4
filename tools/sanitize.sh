#!/usr/bin/env bash
# The test suite under the sanitizers (docs/fuzzing-and-sanitizers.md). Each sanitizer builds in
# its own scratch directory, so the builds do not evict each other or the normal .build/.
#
#   tools/sanitize.sh address     swift test under AddressSanitizer (the whole suite)
#   tools/sanitize.sh undefined   swift test with the C code under UndefinedBehaviorSanitizer (swiftc has
#                                 no -sanitize=undefined; Swift code checks overflow and bounds itself)
#   tools/sanitize.sh thread      NNOptimizedTests (the threaded kernels) under ThreadSanitizer
#   tools/sanitize.sh all         the three in turn
#
# Extra arguments go to `swift test` (e.g. --filter ConformanceKitTests).
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
  local sanitizer=$1 scratch=$2; shift 2
  swift test --sanitize="$sanitizer" --scratch-path "$scratch" "$@"
}

ubsan() {
  swift test --scratch-path .build-ubsan -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined \
    -Xswiftc -Xclang-linker -Xswiftc -fsanitize=undefined "$@"
}

case "${1:-}" in
  address) shift; ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" run address .build-asan "$@" ;;
  undefined) shift; UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" ubsan "$@" ;;
  thread)
    shift
    [ $# -gt 0 ] || set -- --filter NNOptimizedTests
    TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1}" run thread .build-tsan "$@" ;;
  all) "$0" address && "$0" undefined && "$0" thread ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
