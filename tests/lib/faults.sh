# tests/lib/faults.sh: faults under load and the exact accounting after
# them. Sourced after tests/lib.sh by tests/integration/test_fault_*.sh and
# test_drain_faults.sh.
#
#   ar_kill_redis       SIGKILL the private Redis (no shutdown, no last
#                       fsync) and wait until it is gone; ar_launch_redis
#                       then starts it again on the same redis.conf (and AOF)
#   ar_fault_request OUT METHOD PATH BODY [TOKEN]
#                       one request, saved like ar_fcgi_to: through cgi-fcgi,
#                       or through curl to the base URL held in the file
#                       $AR_FAULT_URL_FILE when that is set (a web server
#                       in front). TOKEN goes in Idempotency-Key.
#   ar_order_client DIR ID MAX
#                       a client: up to MAX orders (until DIR/stop exists),
#                       each a fresh token (POST /tokens) and one two-line
#                       order (FA, FB), every 503/502/504/no answer retried
#                       with the same token up to $AR_FAULT_RETRIES times,
#                       0.1 s apart. Writes DIR/ID.log (one line per answer)
#                       and DIR/ID.final (one line per order: its final answer)
#   ar_fault_stock FA0 FB0  the starting stock of FA and FB, the SKUs that
#                       ar_order_client orders
#   ar_orders_beyond N  the order stream holds more than N orders (false
#                       while Redis is down): a state to ar_wait_until
#   ar_stream_ids       the order ids of the stream, one a line, in order
#   ar_stream_qty SKU   the sum of SKU's quantities over the stream's orders
#   ar_fault_account DIR FA0 FB0 DESC
#                       the exact accounting over the client logs of DIR and
#                       Redis (starting stock FA0 and FB0); TAP lines, and
#                       "# accounting:" lines with the numbers
#   ar_write_fcgi_raw   writes $AR_TMP/fcgi_raw.pl, a FastCGI client spoken
#                       by hand that misbehaves on purpose (see its header)

AR_FAULT_RETRIES=${AR_FAULT_RETRIES:-100}

ar_kill_redis() {
	ar_stop_pid "$AR_REDIS_PID" KILL
}

ar_fault_stock() {
	ar_redis SET ar:stock:FA "$1" >/dev/null
	ar_redis SET ar:stock:FB "$2" >/dev/null
}

ar_orders_beyond() {
	[ "$(ar_xlen 2>/dev/null)" -gt "$1" ] 2>/dev/null
}

ar_fault_request() {
	if [ -n "${AR_FAULT_URL_FILE:-}" ]; then
		_url=$(cat "$AR_FAULT_URL_FILE")
		"$CURL" -s -i -m 10 -X "$2" -H 'Content-Type: application/json' \
			${5:+-H "Idempotency-Key: $5"} --data-binary "$4" "$_url$3" 2>/dev/null |
			sed '1s/^HTTP\/[0-9.]* \([0-9][0-9]*\).*/Status: \1/' >"$1"
	else
		ar_fcgi_to "$1" "$2" "$3" "$4" ${5:+"HTTP_IDEMPOTENCY_KEY=$5"}
	fi
	return 0
}

ar_order_client() {
	_d=$1 _id=$2 _max=$3
	_k=0
	: >"$_d/$_id.log"
	: >"$_d/$_id.final"
	while [ $_k -lt "$_max" ] && [ ! -e "$_d/stop" ]; do
		_k=$((_k + 1))
		_tok="" _a=0
		while [ $_a -lt "$AR_FAULT_RETRIES" ]; do
			_a=$((_a + 1))
			ar_fault_request "$_d/$_id.out" POST "${AR_BASE:-}/tokens" ""
			ar_parse "$_d/$_id.out"
			echo "token $_id.$_k $_a $AR_STATUS" >>"$_d/$_id.log"
			case $AR_STATUS in
			201) _tok=$(ar_json_get token); break ;;
			000 | 502 | 503 | 504) sleep 0.1 ;;
			*) break ;;
			esac
		done
		if [ -z "$_tok" ]; then
			echo "notoken $_id.$_k $AR_STATUS" >>"$_d/$_id.final"
			continue
		fi
		_qa=$(((_id + _k) % 3 + 1))
		_qb=$(((_id * _k) % 2 + 1))
		_body="{\"items\":[{\"sku\":\"FA\",\"qty\":$_qa},{\"sku\":\"FB\",\"qty\":$_qb}]}"
		_a=0 _fin=none _oid=-
		while [ $_a -lt "$AR_FAULT_RETRIES" ]; do
			_a=$((_a + 1))
			ar_fault_request "$_d/$_id.out" POST "${AR_BASE:-}/orders" "$_body" "$_tok"
			ar_parse "$_d/$_id.out"
			_oid=-
			[ "$AR_STATUS" != 201 ] || _oid=$(ar_json_get order_id)
			_rep=$(ar_header Idempotent-Replayed)
			echo "order $_tok $_a $AR_STATUS ${_rep:-no} ${_oid:--} $_qa $_qb" >>"$_d/$_id.log"
			case $AR_STATUS in
			000 | 502 | 503 | 504) sleep 0.1 ;;
			*) _fin=$AR_STATUS; break ;;
			esac
		done
		echo "final $_tok $_fin ${_oid:--} $_qa $_qb $_a" >>"$_d/$_id.final"
	done
}

# The order ids of the stream <prefix>orders, one a line, in stream order.
ar_stream_ids() {
	ar_redis XRANGE ar:orders - + | awk 'prev == "order_id" { print } { prev = $0 }'
}

# ar_stream_qty SKU: the sum of SKU's quantities over the stream's orders.
ar_stream_qty() {
	ar_redis XRANGE ar:orders - + | awk -v sku="$1" '
		prev == "order" {
			s = $0
			pat = "\"sku\":\"" sku "\",\"qty\":[0-9]+"
			while (match(s, pat)) {
				m = substr(s, RSTART, RLENGTH); sub(/.*:/, "", m); n += m
				s = substr(s, RSTART + RLENGTH)
			}
		}
		{ prev = $0 }
		END { print n + 0 }'
}

ar_fault_account() {
	_d=$1 _fa0=$2 _fb0=$3 _desc=$4
	cat "$_d"/*.log >"$_d/all.answers"
	cat "$_d"/*.final >"$_d/all.finals"
	_orders=$(grep -c '^final ' "$_d/all.finals")
	_notok=$(grep -c '^notoken ' "$_d/all.finals")
	_bad=$(awk '$1 == "final" && $3 != 201' "$_d/all.finals" | wc -l)
	_tokreq=$(grep -c '^token ' "$_d/all.answers")
	_tokretry=$(awk '$1 == "token" && $4 != 201' "$_d/all.answers" | wc -l)
	_ordreq=$(grep -c '^order ' "$_d/all.answers")
	_ordretry=$(awk '$1 == "order" && $3 > 1' "$_d/all.answers" | wc -l)
	_s503=$(awk '$4 == 503' "$_d/all.answers" | wc -l)
	_s000=$(awk '$4 == "000"' "$_d/all.answers" | wc -l)
	_s502=$(awk '$4 == 502 || $4 == 504' "$_d/all.answers" | wc -l)
	_replays=$(awk '$1 == "order" && $4 == 201 && $5 == "true"' "$_d/all.answers" | wc -l)
	_maxtries=$(awk '$1 == "final" && $7 > m { m = $7 } END { print m + 0 }' "$_d/all.finals")
	# (token, order id) of every 201 a client saw, created or replayed.
	awk '$1 == "order" && $4 == 201 { print $2, $6 }' "$_d/all.answers" | sort -u >"$_d/seen.pairs"
	awk '{ print $2 }' "$_d/seen.pairs" | sort -u >"$_d/seen.ids"
	_seen=$(wc -l <"$_d/seen.ids")
	_twice=$(awk '{ print $1 }' "$_d/seen.pairs" | uniq -d | wc -l)
	ar_stream_ids >"$_d/stream.ids"
	_xlen=$(ar_xlen)
	_sdup=$(sort "$_d/stream.ids" | uniq -d | wc -l)
	sort -u "$_d/stream.ids" >"$_d/stream.uids"
	_missing_stream=$(comm -23 "$_d/seen.ids" "$_d/stream.uids" | wc -l)
	_unseen=$(comm -13 "$_d/seen.ids" "$_d/stream.uids" | wc -l)
	_nohash=0
	if [ "$_seen" -gt 0 ]; then
		_nohash=$(sed 's/^/HEXISTS ar:order:/; s/$/ order/' "$_d/seen.ids" | ar_redis | grep -vcx 1)
	fi
	_fa=$(ar_stock FA)
	_fb=$(ar_stock FB)
	_qfa=$(ar_stream_qty FA)
	_qfb=$(ar_stream_qty FB)
	_cfa=$(awk '$1 == "final" && $3 == 201 { n += $5 } END { print n + 0 }' "$_d/all.finals")
	_cfb=$(awk '$1 == "final" && $3 == 201 { n += $6 } END { print n + 0 }' "$_d/all.finals")
	_created=$(ar_redis HGET ar:metrics created)
	echo "# accounting ($_desc): $_orders orders by the clients, $_seen order ids seen" \
		"(201 or replay), stream length $_xlen, $_replays replayed answers"
	echo "# accounting ($_desc): requests: $_tokreq POST /tokens ($_tokretry retried)," \
		"$_ordreq POST /orders ($_ordretry retries); 503: $_s503, 502/504: $_s502," \
		"no answer: $_s000; most attempts for one order: $_maxtries"
	echo "# accounting ($_desc): FA $_fa + $_qfa ordered = $((_fa + _qfa)) (start $_fa0);" \
		"FB $_fb + $_qfb ordered = $((_fb + _qfb)) (start $_fb0); metrics created $_created"
	[ "$_orders" -gt 0 ] && ok "$_desc: the clients placed $_orders orders" ||
		not_ok "$_desc: the clients placed no order"
	check "$_desc: every client got a token each time (bounded retries)" 0 "$_notok"
	check "$_desc: every order got a final 201 (bounded retries)" 0 "$_bad"
	check "$_desc: no token produced two order ids" 0 "$_twice"
	check "$_desc: one order id per order placed" "$_orders" "$_seen"
	check "$_desc: every order seen exists in Redis (order hash)" 0 "$_nohash"
	check "$_desc: every order seen is in the stream" 0 "$_missing_stream"
	check "$_desc: no stream entry that no client saw" 0 "$_unseen"
	check "$_desc: no order twice in the stream" 0 "$_sdup"
	check "$_desc: stream length = orders seen" "$_seen" "$_xlen"
	check "$_desc: FA stock + ordered = starting stock" "$_fa0" "$((_fa + _qfa))"
	check "$_desc: FB stock + ordered = starting stock" "$_fb0" "$((_fb + _qfb))"
	check "$_desc: what the clients were told they ordered = the stream's quantities" \
		"$_qfa $_qfb" "$_cfa $_cfb"
	check "$_desc: metrics created = stream length" "$_xlen" "${_created:-0}"
}

ar_write_fcgi_raw() {
	cat >"$AR_TMP/fcgi_raw.pl" <<'FCGIRAW'
# fcgi_raw.pl SOCKET MODE HOLD BODY [NAME=VALUE...] (from ar_write_fcgi_raw
# in tests/lib/faults.sh): one FastCGI request
# spoken by hand, to misbehave on purpose. MODE:
#   half    all params, then only the first half of BODY (CONTENT_LENGTH
#           is BODY's full length), then nothing more
#   noread  the whole request, then never read the answer
#   params  BEGIN_REQUEST and half of a PARAMS record, then nothing more
#   full    the whole request, read the answer (a control)
# The connection is then held open HOLD seconds. Prints one line per
# event as it happens: "sent", "status NNN", "end", "eof".
use strict;
use warnings;
use IO::Socket::UNIX;
use IO::Select;

my ($path, $mode, $hold, $body, @params) = @ARGV;
$| = 1;
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path)
	or die "connect $path: $!\n";

sub rec { my ($type, $content) = @_;
	return pack('CCnnCC', 1, $type, 1, length($content), 0, 0) . $content; }
sub nvlen { my $n = shift; return $n < 128 ? pack('C', $n) : pack('N', $n | 0x80000000); }
sub nv { my ($n, $v) = @_; return nvlen(length $n) . nvlen(length $v) . $n . $v; }

my %p = (REQUEST_METHOD => 'POST', REQUEST_URI => '/orders', SCRIPT_NAME => '/orders',
	QUERY_STRING => '', SERVER_PROTOCOL => 'HTTP/1.1', GATEWAY_INTERFACE => 'CGI/1.1',
	REMOTE_ADDR => '127.0.0.1', CONTENT_TYPE => 'application/json',
	CONTENT_LENGTH => length($body));
for (@params) { my ($n, $v) = split /=/, $_, 2; $p{$n} = $v; }
my $pblock = join '', map { nv($_, $p{$_}) } sort keys %p;

my $out = rec(1, pack('nCx5', 1, 0));
if ($mode eq 'params') {
	$out .= substr(rec(4, $pblock), 0, 8 + int(length($pblock) / 2));
} else {
	$out .= rec(4, $pblock) . rec(4, '');
	if ($mode eq 'half') {
		$out .= rec(5, substr($body, 0, int(length($body) / 2)));
	} else {
		$out .= rec(5, $body) if length $body;
		$out .= rec(5, '');
	}
}
print {$s} $out;
$s->flush;
print "sent\n";
if ($mode eq 'noread') {
	sleep $hold;
	exit 0;
}
my $sel = IO::Select->new($s);
my ($buf, $stdout, $eof, $status) = ('', '', 0, 0);
my $ticks = $hold * 20;
while ($ticks-- > 0 && !$eof) {
	next unless $sel->can_read(0.05);
	my $n = sysread($s, $buf, 65536, length $buf);
	if (!$n) { $eof = 1; print "eof\n"; last; }
	while (length($buf) >= 8) {
		my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
		last if length($buf) < 8 + $len + $pad;
		my $content = substr($buf, 8, $len);
		substr($buf, 0, 8 + $len + $pad) = '';
		if ($type == 6) {
			$stdout .= $content;
			if (!$status && $stdout =~ /^Status: (\d+)/m) { $status = $1; print "status $status\n"; }
			elsif (!$status && $stdout =~ /\r?\n\r?\n/) { $status = 200; print "status 200\n"; }
		} elsif ($type == 3) {
			print "end\n";
		}
	}
}
if ($stdout =~ /\r?\n\r?\n(.*)\z/s) { print "body $1\n"; }
# Stay connected for the rest of HOLD, even after the answer.
select(undef, undef, undef, $ticks * 0.05) if $ticks > 0;
close $s;
FCGIRAW
}
