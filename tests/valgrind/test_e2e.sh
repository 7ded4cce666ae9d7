#!/bin/sh
# valgrind: the nginx end-to-end suite (tests/e2e/test_nginx.sh: the whole
# contract at two mount points, Redis stopped and restarted, the overload
# worker answering clients that left) with every worker under valgrind's
# memcheck. The suite must pass as it does without valgrind, and every
# worker's log (written when SIGTERM makes it leave through main) must show
# zero errors and zero bytes definitely lost. Run by make check-valgrind.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/valgrind.sh"

ar_valgrind_require
ar_setup_tmp
mkdir "$AR_TMP/vg"
AR_APP_WRAPPER=$(ar_valgrind_wrapper "$AR_TMP/vg")
export AR_APP_WRAPPER
echo "# AR_APP_WRAPPER=$AR_APP_WRAPPER"

t0=$(ar_now_ms)
/bin/sh "$top_srcdir/tests/e2e/test_nginx.sh" >"$AR_TMP/nginx.out" 2>&1
rc=$?
t1=$(ar_now_ms)
sed 's/^/# nginx: /' "$AR_TMP/nginx.out"
# A skip (nginx, curl or jq truly absent) is a skip here too.
skipped=$(sed -n 's/^1\.\.0 # SKIP //p' "$AR_TMP/nginx.out")
[ -z "$skipped" ] || ar_skip "test_nginx.sh: $skipped"
check "test_nginx.sh passes with its workers under valgrind ($((t1 - t0)) ms)" 0 "$rc"

# 4 workers at /api, 4 at /shop/api, 1 for the overload part.
ar_valgrind_reports "$AR_TMP/vg" 9
ar_done
