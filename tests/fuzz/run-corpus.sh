#!/bin/sh
# make check: replay every seed and regression input of tests/fuzz/corpus
# through its target, built without libFuzzer (any compiler, with the
# sanitizers when configured with --enable-sanitizers). A crash fails. The
# targets are those linked into tests/fuzz/replay (replay --list); each
# must have a corpus, and each corpus folder a target.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
bin=$top_builddir/tests/fuzz/replay
corpus=$top_srcdir/tests/fuzz/corpus
failed=0
n=0
targets=$("$bin" --list) || { echo "1..0 # cannot list the targets of $bin"; exit 1; }
for target in $targets; do
	n=$((n + 1))
	if "$bin" "$target" "$corpus/$target"; then
		echo "ok $n - corpus of $target"
	else
		echo "not ok $n - corpus of $target"
		failed=1
	fi
done
for dir in "$corpus"/*/; do
	name=$(basename "$dir")
	n=$((n + 1))
	case " $(echo $targets) " in
	*" $name "*) echo "ok $n - corpus $name has a target" ;;
	*) echo "not ok $n - corpus $name has no target in $bin"; failed=1 ;;
	esac
done
echo "1..$n"
exit $failed
