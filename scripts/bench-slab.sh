#!/usr/bin/env bash
# Slab fast path on the host against real allocators, one table:
# instructions per alloc+free pair (callgrind, counting only inside the
# measured loop) and nanoseconds per pair (native, best of 3 runs of 10^7
# pairs, this machine, single thread). Baselines: glibc's malloc, and
# mimalloc and jemalloc (Debian's libmimalloc2.0, libjemalloc2) through
# LD_PRELOAD, each called as aligned_alloc(4096, 4096) / malloc(64) + free.
# "ours (host)" is the host build: local_irq_save/restore are empty there
# (user mode cannot CLI), so it leaves out the interrupt masking the
# hypervisor pays; tests/bench/run.py measures that inside the hypervisor.
# Usage: scripts/bench-slab.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
cc=${HOSTCC:-gcc}
command -v valgrind >/dev/null || { echo "bench-slab: valgrind is not installed" >&2; exit 1; }

libdir=/usr/lib/x86_64-linux-gnu
declare -A preload=([glibc]="" [mimalloc]="$libdir/libmimalloc.so.2" [jemalloc]="$libdir/libjemalloc.so.2")
peers="glibc"
for p in mimalloc jemalloc; do
	if [ -e "${preload[$p]}" ]; then
		peers="$peers $p"
	else
		echo "bench-slab: ${preload[$p]} missing (scripts/deps.sh bench); no $p column" >&2
	fi
done

# HOST_SRCS as the Makefile has it: every tests/host/*.mk adds to it.
mks=$(for f in tests/host/*.mk; do printf -- '-f %s ' "$f"; done)
srcs=$(printf 'print:\n\t@echo $(HOST_SRCS)\n' | make -s --no-print-directory $mks -f - print)
mkdir -p "$build/bench"
bin=$build/bench/bench_slab
$cc -std=gnu11 -O2 -g -DHV_HOST -Iinclude -Iarch/x86/include -Iarch/x86 -Itests/host -pthread \
	-o "$bin" tests/bench/bench_slab.c $srcs tests/host/host_stubs.c

n_cg=200000
declare -A ir ns
# cg KIND: instructions per pair of KIND (a loop of the bench binary) under
# the allocator named by $2 (LD_PRELOAD for the peers).
cg() {
	local kind=$1 who=$2 out=$build/bench/callgrind.$1.$2
	env ${preload[$who]:+LD_PRELOAD=${preload[$who]}} \
		valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="loop_$kind" \
		"$bin" cg "$kind" "$n_cg" >/dev/null 2>&1
	awk -v n="$n_cg" '/^(summary|totals):/ { printf "%.1f", $2 / n; exit }' "$out"
}
for sz in 4k 64; do
	ir[ours$sz]=$(cg cache$sz ours)
	for p in $peers; do
		ir[$p$sz]=$(cg glibc$sz "$p")
	done
done
while read -r k v; do ns[ours${k#cache}]=$v; done < <("$bin" ns 10000000 cache4k cache64)
for p in $peers; do
	while read -r k v; do ns[$p${k#glibc}]=$v; done < \
		<(env ${preload[$p]:+LD_PRELOAD=${preload[$p]}} "$bin" ns 10000000 glibc4k glibc64)
done

cols="ours $peers"
hdr() { printf '%-22s' "$1"; for c in $cols; do printf ' %10s' "$c"; done; echo; }
row() {
	local label=$1 sz=$2
	local -n arr=$3
	printf '%-22s' "$label"
	for c in $cols; do printf ' %10s' "${arr[$c$sz]}"; done
	echo
}
echo "instructions per alloc+free pair (callgrind; ours = host build, no interrupt masking)"
hdr "object"
row "4096 B, align 4096" 4k ir
row "64 B" 64 ir
echo "nanoseconds per alloc+free pair (native, best of 3 x 10^7 pairs, one thread)"
hdr "object"
row "4096 B, align 4096" 4k ns
row "64 B" 64 ns
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
for p in $peers; do
	echo "ours/$p: 4096 B $(ratio "${ns[ours4k]}" "${ns[${p}4k]}") x the time, 64 B $(ratio "${ns[ours64]}" "${ns[${p}64]}") x"
done
