#!/bin/sh
# test_man: the manual pages are clean under mandoc -Tlint (warnings
# included), each names itself in its .Dt and its NAME, and each program's
# --help points to its pages.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

ar_require "$MANDOC" "$ANTIREPLAY_BIN" "$ANTIREPLAY_DRAIN"
for page in antireplay-fcgi.8 antireplay.conf.5 antireplay-drain.8; do
	file=$top_srcdir/man/$page
	name=${page%.*}
	section=${page##*.}
	check "$page: mandoc -Tlint -W warning is clean" "" \
		"$("$MANDOC" -Tlint -W warning "$file" 2>&1)"
	check "$page: .Dt names it" \
		"$(printf '%s %s' "$name" "$section" | tr '[:lower:]' '[:upper:]')" \
		"$(sed -n 's/^\.Dt //p' "$file")"
	check "$page: .Nm names it" "$name" "$(sed -n 's/^\.Nm //p' "$file" | head -n 1)"
	out=$("$MANDOC" -Tascii "$file" | sed 's/.\x08//g')
	found=""
	for sec in NAME DESCRIPTION FILES "SEE ALSO"; do
		printf '%s\n' "$out" | grep -qx "$sec" && found="$found${found:+, }$sec"
	done
	check "$page: renders its sections" "NAME, DESCRIPTION, FILES, SEE ALSO" "$found"
done
check_contains "antireplay-fcgi --help points to its pages" \
	"antireplay.conf(5), antireplay-fcgi(8)" "$("$ANTIREPLAY_BIN" --help)"
check_contains "antireplay-drain --help points to its pages" \
	"antireplay-drain(8), antireplay.conf(5)" "$("$ANTIREPLAY_DRAIN" --help)"
ar_done
