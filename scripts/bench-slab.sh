#!/usr/bin/env bash
# Slab fast path against glibc, one table: instructions per alloc+free pair
# (callgrind, counting only inside the measured loop) and nanoseconds per
# pair (native, best of 3). Usage: scripts/bench-slab.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
cc=${HOSTCC:-gcc}
command -v valgrind >/dev/null || { echo "bench-slab: valgrind is not installed" >&2; exit 1; }

srcs=$(printf 'print:\n\t@echo $(HOST_SRCS)\n' |
	make -s --no-print-directory -f tests/host/sources.mk -f - print)
mkdir -p "$build/bench"
bin=$build/bench/bench_slab
$cc -std=gnu11 -O2 -g -DHV_HOST -Iinclude -Iarch/x86/include -Itests/host -pthread \
	-o "$bin" tests/bench/bench_slab.c $srcs tests/host/host_stubs.c

n_cg=200000
declare -A ir ns
for k in cache4k cache64 glibc4k glibc64; do
	out=$build/bench/callgrind.$k
	valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="loop_$k" \
		"$bin" cg "$k" "$n_cg" >/dev/null 2>&1
	total=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
	ir[$k]=$(awk -v t="$total" -v n="$n_cg" 'BEGIN { printf "%.1f", t / n }')
done
while read -r k v; do ns[$k]=$v; done < <("$bin" ns 10000000)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-28s %29s   %29s\n' "" "instructions / pair" "ns / pair"
printf '%-28s %9s %9s %9s   %9s %9s %9s\n' "alloc+free pair" ours glibc ours/glibc ours glibc ours/glibc
row() {
	printf '%-28s %9s %9s %9s   %9s %9s %9s\n' "$1" "${ir[$2]}" "${ir[$3]}" \
		"$(ratio "${ir[$2]}" "${ir[$3]}")" "${ns[$2]}" "${ns[$3]}" "$(ratio "${ns[$2]}" "${ns[$3]}")"
}
row "4096 B, align 4096" cache4k glibc4k
row "64 B" cache64 glibc64
echo "(ours: cache_alloc+cache_free fast path; glibc: aligned_alloc(4096,4096)/malloc(64) + free)"
