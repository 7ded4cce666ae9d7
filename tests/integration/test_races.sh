#!/bin/sh
# test_races: many processes at once against 8 workers.
#  - 60 submissions of ONE token at once: exactly one order, every other
#    answer a replay of it, stock moved once.
#  - stock 10, 30 buyers with a token each: exactly 10 orders, 20
#    out_of_stock, stock 0.
#  - two-line orders (A stock 10, B stock 20), 30 buyers: 10 orders, all or
#    nothing per order (A 0, B 10).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

ar_require "$CGI_FCGI"
ar_setup
ar_start_redis
ar_write_config token_rate=0 log_level=info
ar_start_app 8


# storm DIR N BODY-TEMPLATE: N requests POST /orders, started together, body
# i is BODY-TEMPLATE with @TOKEN@ replaced by line i of DIR/tokens (or the
# one token in $STORM_TOKEN). Waits for all of them. Each request waits to
# read a line from DIR/gate, a FIFO this shell holds open until all are done
# (for reading and writing: on Linux that open does not block); once all N
# are started, N lines let them go at once. One started late finds its line
# waiting: nothing depends on how fast they start, and none spins meanwhile.
storm() {
	_dir=$1 _n=$2 _tpl=$3
	mkdir -p "$_dir"
	mkfifo "$_dir/gate"
	exec 3<>"$_dir/gate"
	_pids=""
	_i=1
	while [ $_i -le "$_n" ]; do
		if [ -n "${STORM_TOKEN:-}" ]; then
			_tok=$STORM_TOKEN
		else
			_tok=$(sed -n "${_i}p" "$_dir/tokens")
		fi
		_b=$(printf '%s' "$_tpl" | sed "s/@TOKEN@/$_tok/")
		(
			read -r _go <&3
			exec 3>&-
			ar_fcgi_to "$_dir/$_i.out" POST /orders "$_b"
		) &
		_pids="$_pids $!"
		_i=$((_i + 1))
	done
	_i=0
	while [ $_i -lt "$_n" ]; do
		echo
		_i=$((_i + 1))
	done >&3
	wait $_pids
	exec 3>&-
}

# tally DIR N: counts of the answers, as "created=.. replayed=.. oos=.. other=..",
# and DIR/ids: the order_id of each 201.
tally() {
	_c=0 _r=0 _o=0 _x=0
	: >"$1/ids"
	_i=1
	while [ $_i -le "$2" ]; do
		ar_parse "$1/$_i.out"
		case "$AR_STATUS $(ar_header Idempotent-Replayed)" in
		"201 ") _c=$((_c + 1)) ;;
		"201 true") _r=$((_r + 1)) ;;
		"409 ") case "$AR_BODY" in *'"error":"out_of_stock"'*) _o=$((_o + 1)) ;; *) _x=$((_x + 1)) ;; esac ;;
		*) _x=$((_x + 1)); echo "# unexpected answer $_i: $AR_STATUS $AR_BODY" ;;
		esac
		[ "$AR_STATUS" != 201 ] || echo "$(ar_json_get order_id)" >>"$1/ids"
		_i=$((_i + 1))
	done
	echo "created=$_c replayed=$_r oos=$_o other=$_x"
}

# tokens_into DIR N: N tokens, one a line, into DIR/tokens.
tokens_into() {
	mkdir -p "$1"
	_i=0
	while [ $_i -lt "$2" ]; do
		ar_token
		echo "$AR_TOKEN" >>"$1/tokens"
		_i=$((_i + 1))
	done
}

# --- one token, 60 submissions at once ---
ar_redis SET ar:stock:A 1000 >/dev/null
ar_fcgi GET /metrics
created0=$(ar_metric 'antireplay_submissions_total{outcome="created"}')
replayed0=$(ar_metric 'antireplay_submissions_total{outcome="replayed"}')
ar_token
STORM_TOKEN=$AR_TOKEN
N=60
t0=$(ar_now_ms)
storm "$AR_TMP/same" $N '{"items":[{"sku":"A","qty":3}],"token":"@TOKEN@"}'
echo "# $N submissions of one token in $(($(ar_now_ms) - t0)) ms"
# How many workers took part (from the access log; a diagnostic only).
echo "# served by $(sed -n 's/.*\[\([0-9][0-9]*\)\].*POST orders.*/\1/p' "$AR_TMP/app.log" | sort -u | wc -l | tr -d ' ') worker(s)"
check "one token x$N: one created, the rest replayed" \
	"created=1 replayed=$((N - 1)) oos=0 other=0" "$(tally "$AR_TMP/same" $N)"
check "one token x$N: every answer names the same order" 1 "$(sort -u "$AR_TMP/same/ids" | wc -l | tr -d ' ')"
check "one token x$N: $N order ids, one UUID" "$N 1" \
	"$(grep -Ec "$AR_UUID5_RE" "$AR_TMP/same/ids") $(sort -u "$AR_TMP/same/ids" | wc -l | tr -d ' ')"
nbodies=$(i=1; while [ $i -le $N ]; do cat "$AR_TMP/same/$i.out.body"; echo; i=$((i + 1)); done | sort -u | wc -l | tr -d ' ')
check "one token x$N: every body identical" 1 "$nbodies"
check "one token x$N: one stream entry" 1 "$(ar_xlen)"
check "one token x$N: stock decremented once" 997 "$(ar_stock A)"
ar_fcgi GET /metrics
check "one token x$N: metrics created +1" $((created0 + 1)) "$(ar_metric 'antireplay_submissions_total{outcome="created"}')"
check "one token x$N: metrics replayed +$((N - 1))" $((replayed0 + N - 1)) "$(ar_metric 'antireplay_submissions_total{outcome="replayed"}')"
unset STORM_TOKEN

# --- stock 10, 30 buyers ---
ar_redis SET ar:stock:B 10 >/dev/null
M=30
tokens_into "$AR_TMP/buyers" $M
check "$M tokens issued" $M "$(grep -c . "$AR_TMP/buyers/tokens")"
n0=$(ar_xlen)
storm "$AR_TMP/buyers" $M '{"items":[{"sku":"B","qty":1}],"token":"@TOKEN@"}'
check "stock 10, $M buyers: 10 created, 20 out of stock" \
	"created=10 replayed=0 oos=20 other=0" "$(tally "$AR_TMP/buyers" $M)"
check "stock 10, $M buyers: 10 distinct orders" 10 "$(sort -u "$AR_TMP/buyers/ids" | wc -l | tr -d ' ')"
check "stock 10, $M buyers: stock 0" 0 "$(ar_stock B)"
check "stock 10, $M buyers: 10 stream entries" $((n0 + 10)) "$(ar_xlen)"

# --- two-line orders: all or nothing under concurrency ---
ar_redis SET ar:stock:C 10 >/dev/null
ar_redis SET ar:stock:D 20 >/dev/null
tokens_into "$AR_TMP/pairs" $M
n0=$(ar_xlen)
storm "$AR_TMP/pairs" $M '{"items":[{"sku":"D","qty":1},{"sku":"C","qty":1}],"token":"@TOKEN@"}'
check "two-line orders: 10 created, 20 out of stock" \
	"created=10 replayed=0 oos=20 other=0" "$(tally "$AR_TMP/pairs" $M)"
check "two-line orders: stock C 0" 0 "$(ar_stock C)"
check "two-line orders: stock D 10 (nothing taken by a failed order)" 10 "$(ar_stock D)"
check "two-line orders: 10 stream entries" $((n0 + 10)) "$(ar_xlen)"

check "the 8 workers are all alive" 8 "$(ar_count_alive $AR_APP_PIDS)"

ar_done
