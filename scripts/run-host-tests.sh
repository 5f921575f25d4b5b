#!/usr/bin/env bash
# Run each host unit test binary, plain and sanitized; print a summary line.
build=$1; shift
pass=0; fail=0
for t in "$@"; do
	for v in host host-san; do
		if out=$("$build/$v/$t" 2>&1); then
			pass=$((pass + 1)); echo "PASS $v/$t"
		else
			fail=$((fail + 1)); echo "FAIL $v/$t"; echo "$out" | tail -40
		fi
	done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
