#!/bin/sh
# test_cli: the command line. --help, --version, --check-config on a good
# file and on bad ones ("FILE:LINE" and the key named, exit 1), a missing
# file, and a bad file without --check-config (exit 1 before serving).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"

ar_require "$ANTIREPLAY_BIN"
ar_setup_tmp
# A bound for a hung run only, far above a run's time on any machine (most
# of a second for an ASan build on a busy core), so it never decides a pass.
TIMEOUT=${AR_TIMEOUT:+$AR_TIMEOUT 60}

# run ARGS...: the binary's exit status in RC, stdout+stderr in OUT.
run() {
	OUT=$($TIMEOUT "$ANTIREPLAY_BIN" "$@" </dev/null 2>&1)
	RC=$?
}

run --help
check "--help exits 0" 0 "$RC"
check_contains "--help mentions -c" "-c" "$OUT"
check_contains "--help mentions --check-config" "--check-config" "$OUT"

run --version
check "--version exits 0" 0 "$RC"
version=""
for h in "$top_builddir/config.h" "$top_builddir/ac_config.h"; do
	[ -f "$h" ] && [ -z "$version" ] &&
		version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$h")
done
if [ -n "$version" ]; then
	check_contains "--version prints the version" "$version" "$OUT"
else
	check_match "--version prints a version" '[0-9]+\.[0-9]+\.[0-9]+' "$OUT"
fi
# One version: configure.ac's, which debian/changelog and NEWS must name.
check "debian/changelog's newest entry is this version" "antireplay-fcgi $(sed -n \
	'1s/^antireplay (\([^)]*\)).*/\1/p' "$top_srcdir/debian/changelog")" "$OUT"
check "NEWS starts with this version" "antireplay-fcgi $(sed -n \
	'1s/^antireplay \([0-9.]*\).*/\1/p' "$top_srcdir/NEWS")" "$OUT"

run --no-such-option
check "an unknown option exits non-zero" 1 "$([ "$RC" -ne 0 ] && echo 1 || echo 0)"

# A good file with every key, comments and blank lines.
GOOD=$AR_TMP/good.conf
cat >"$GOOD" <<EOF
# every key of the configuration
redis = unix:$AR_TMP/redis.sock

redis_password = secret
redis_user = app
redis_db = 3
redis_timeout_ms = 250
key_prefix = shop:
token_ttl = 300
result_ttl = 3600
duplicate_mode = reject
bind = header:X-User
token_rate = 0
max_body = 4096
base_path = /shop/api
admin_token = 0123456789abcdef0123456789abcdef
log = stderr
log_level = warn
EOF
run -c "$GOOD" --check-config
check "--check-config on a good file exits 0 ($OUT)" 0 "$RC"
run --check-config -c "$GOOD"
check "--check-config before -c also works" 0 "$RC"
printf 'redis = 127.0.0.1:6379\n' >"$AR_TMP/tcp.conf"
run -c "$AR_TMP/tcp.conf" --check-config
check "--check-config: host:port" 0 "$RC"
: >"$AR_TMP/empty.conf"
run -c "$AR_TMP/empty.conf" --check-config
check "--check-config: an empty file (all defaults)" 0 "$RC"
for kv in "bind = none" "bind = remote_user" "bind = cookie:sid" "duplicate_mode = replay" \
	"log = syslog" "log_level = debug" "log_level = error" "log_level = info" "base_path =" \
	"admin_token =" "max_body = 256" "max_body = 16777216" "redis_db = 65535" \
	"redis_timeout_ms = 60000" "token_rate = 1000000" "token_ttl = 1" "result_ttl = 1" \
	"redis = unix:/run/redis/redis.sock" "base_path = /a"; do
	printf '%s\n' "$kv" >"$AR_TMP/one.conf"
	run -c "$AR_TMP/one.conf" --check-config
	check "--check-config accepts '$kv' ($OUT)" 0 "$RC"
done

# check_bad DESC LINE KEY CONTENT: a file with CONTENT is refused with
# exit 1 and a message naming FILE:LINE and the key.
check_bad() {
	_f=$AR_TMP/bad.conf
	printf '%s' "$4" >"$_f"
	run -c "$_f" --check-config
	check "$1: exit 1" 1 "$RC"
	check_contains "$1: names $_f:$2" "$_f:$2" "$OUT"
	check_contains "$1: names the key '$3'" "$3" "$OUT"
}

check_bad "unknown key" 3 nosuchkey \
	'# comment
token_ttl = 60
nosuchkey = 1
'
check_bad "repeated key" 4 token_ttl \
	'token_ttl = 60

# again
token_ttl = 60
'
check_bad "bad number" 2 token_ttl \
	'log = stderr
token_ttl = abc
'
check_bad "ttl 0" 1 result_ttl 'result_ttl = 0
'
check_bad "# after a value is not a comment" 1 token_ttl 'token_ttl = 60 # seconds
'
check_bad "duplicate_mode" 1 duplicate_mode 'duplicate_mode = maybe
'
check_bad "bind" 1 bind 'bind = everyone
'
check_bad "bind header without a name" 1 bind 'bind = header:
'
check_bad "max_body too small" 1 max_body 'max_body = 255
'
check_bad "max_body too large" 1 max_body 'max_body = 16777217
'
check_bad "redis_db" 1 redis_db 'redis_db = 65536
'
check_bad "redis_timeout_ms" 1 redis_timeout_ms 'redis_timeout_ms = 0
'
check_bad "token_rate" 1 token_rate 'token_rate = -1
'
check_bad "log" 1 log 'log = file
'
check_bad "log_level" 1 log_level 'log_level = verbose
'
check_bad "admin_token too short" 1 admin_token 'admin_token = short
'
check_bad "base_path trailing slash" 1 base_path 'base_path = /shop/
'
check_bad "base_path without a leading slash" 1 base_path 'base_path = shop
'
check_bad "key_prefix with a space" 1 key_prefix 'key_prefix = a b
'
check_bad "key_prefix over 64" 1 key_prefix "key_prefix = $(printf '%065d' 0)
"

# A line that is not key = value.
printf 'token_ttl = 60\njust some words\n' >"$AR_TMP/bad.conf"
run -c "$AR_TMP/bad.conf" --check-config
check "a line without '=': exit 1" 1 "$RC"
check_contains "a line without '=': names the line" "$AR_TMP/bad.conf:2" "$OUT"

# A missing file.
run -c "$AR_TMP/nonexistent.conf" --check-config
check "a missing file: exit non-zero" 1 "$([ "$RC" -ne 0 ] && echo 1 || echo 0)"
check_contains "a missing file: names it" "$AR_TMP/nonexistent.conf" "$OUT"

# Without --check-config a bad file stops the program before it serves.
printf 'nosuchkey = 1\n' >"$AR_TMP/bad.conf"
run -c "$AR_TMP/bad.conf"
check "serving with a bad file: exit 1" 1 "$RC"
check_contains "serving with a bad file: names FILE:LINE" "$AR_TMP/bad.conf:1" "$OUT"

ar_done
