#!/usr/bin/env bash
# Turn `nm -n` output (stdin, or /dev/null for an empty table) into the
# assembly of the symbol table: sorted text addresses and their names.
set -e
in=${1:--}
awk '
	# n must start as the number 0: an unset awk variable used as an array
	# index is the empty string, which put the first symbol under "" and
	# emitted an empty ".quad 0x" (the assembler warned, zero assumed).
	BEGIN { n = 0 }
	$2 ~ /^[tT]$/ && $3 !~ /^\./ { addr[n] = $1; name[n] = $3; n++ }
	END {
		print "\t.section .ksyms, \"a\""
		print "\t.balign 8"
		print "\t.global ksyms_count, ksyms_addrs, ksyms_name_offs, ksyms_names"
		printf "ksyms_count:\n\t.quad %d\n", n
		print "ksyms_addrs:"
		for (i = 0; i < n; i++) printf "\t.quad 0x%s\n", addr[i]
		print "ksyms_name_offs:"
		off = 0
		for (i = 0; i < n; i++) { printf "\t.long %d\n", off; off += length(name[i]) + 1 }
		print "ksyms_names:"
		for (i = 0; i < n; i++) printf "\t.asciz \"%s\"\n", name[i]
	}' "$in"
