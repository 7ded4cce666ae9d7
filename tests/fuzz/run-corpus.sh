#!/bin/sh
# make check: replay every seed and regression input of tests/fuzz/corpus
# through its target, built without libFuzzer (any compiler, with the
# sanitizers when configured with --enable-sanitizers). A crash fails.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
failed=0
n=0
for target in form order token identity router config drain_entry; do
	n=$((n + 1))
	bin=$top_builddir/tests/fuzz/replay_$target
	if "$bin" "$top_srcdir/tests/fuzz/corpus/$target"; then
		echo "ok $n - corpus of $target"
	else
		echo "not ok $n - corpus of $target"
		failed=1
	fi
done
echo "1..$n"
exit $failed
