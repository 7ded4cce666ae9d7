# tests/lib/valgrind.sh: workers under valgrind's memcheck. Sourced after
# tests/lib.sh by tests/valgrind/test_lifecycle.sh and test_e2e.sh (make
# check-valgrind, not make check).
#
#   ar_valgrind_require         VALGRIND (default: valgrind on PATH) must run;
#                               a missing valgrind fails the test (not ok 1,
#                               the plan 1..1, exit 1), never skips it: it is
#                               what the test is about
#   ar_valgrind_wrapper DIR     prints an AR_APP_WRAPPER value: memcheck with
#                               --leak-check=full, definite leaks counted as
#                               errors, --error-exitcode=99, one log per
#                               process in DIR/vg.PID.log (DIR: no spaces)
#   ar_valgrind_reports DIR MIN three checks over DIR/vg.*.log: at least MIN
#                               logs, each complete (the process reached its
#                               end: an ERROR SUMMARY line, no death by
#                               signal); zero errors; zero bytes definitely
#                               lost. Prints each log's leak summary; on a
#                               problem, the reports with their stacks.

: "${VALGRIND:=$(command -v valgrind || true)}"

ar_valgrind_require() {
	if [ -z "$VALGRIND" ] || ! "$VALGRIND" --version >/dev/null 2>&1; then
		echo "not ok 1 - valgrind not found (VALGRIND='$VALGRIND'); Debian: apt-get install valgrind"
		echo "1..1"
		exit 1
	fi
}

ar_valgrind_wrapper() {
	echo "$VALGRIND --tool=memcheck --leak-check=full --show-leak-kinds=definite" \
		"--errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=30" \
		"--log-file=$1/vg.%p.log"
}

ar_valgrind_reports() {
	_vg_logs=$(ls "$1"/vg.*.log 2>/dev/null)
	_vg_n=0 _vg_errors=0 _vg_definite=0 _vg_incomplete="" _vg_bad=""
	for _f in $_vg_logs; do
		_vg_n=$((_vg_n + 1))
		_e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) error.*/\1/p' "$_f" | tr -d , | tail -n 1)
		_d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$_f" | tr -d , | tail -n 1)
		_i=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$_f" | tr -d , | tail -n 1)
		_p=$(sed -n 's/.*possibly lost: \([0-9,]*\) bytes.*/\1/p' "$_f" | tr -d , | tail -n 1)
		_r=$(sed -n 's/.*still reachable: \([0-9,]*\) bytes.*/\1/p' "$_f" | tr -d , | tail -n 1)
		# "All heap blocks were freed" replaces the leak summary.
		grep -q 'All heap blocks were freed' "$_f" && _d=0 _i=0 _p=0 _r=0
		if [ -z "$_e" ] || grep -q 'Process terminating with default action' "$_f"; then
			_vg_incomplete="$_vg_incomplete ${_f##*/}"
			_vg_bad="$_vg_bad $_f"
			echo "# ${_f##*/}: incomplete (killed, or died of a signal)"
			continue
		fi
		echo "# ${_f##*/}: $_e errors; definitely lost ${_d:-?}, indirectly ${_i:-?}," \
			"possibly ${_p:-?}, still reachable ${_r:-?} bytes"
		_vg_errors=$((_vg_errors + _e))
		_vg_definite=$((_vg_definite + ${_d:-0}))
		[ "$_e" -eq 0 ] && [ "${_d:-0}" -eq 0 ] || _vg_bad="$_vg_bad $_f"
	done
	if [ "$_vg_n" -ge "$2" ] && [ -z "$_vg_incomplete" ]; then
		ok "valgrind: $_vg_n process logs (at least $2), each complete"
	else
		not_ok "valgrind: $_vg_n process logs (expected at least $2); incomplete:${_vg_incomplete:- none}"
	fi
	check "valgrind: errors over all processes" 0 "$_vg_errors"
	check "valgrind: bytes definitely lost over all processes" 0 "$_vg_definite"
	for _f in $_vg_bad; do
		echo "# --- $_f"
		sed -n '/^==[0-9]*== Memcheck/,/^==[0-9]*== Command:/d; s/^/# /p' "$_f" | head -n 120
	done
}
