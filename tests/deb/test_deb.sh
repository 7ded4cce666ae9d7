#!/bin/sh
# test_deb: the package built by scripts/test-deb ($AR_DEB), installed on
# this machine (as root; run by scripts/test-deb, never by make check):
#   - apt-get install --no-install-recommends: the programs, the manual
#     pages, the units (enabled by nobody), the examples, the scripts; the
#     system user; /etc/antireplay/antireplay.conf a conffile, 0640
#     root:antireplay, valid as shipped;
#   - the pool run with the ExecStart of the installed
#     antireplay-spawn-fcgi.service (spawn-fcgi dropping to the antireplay
#     user, multiwatch, the installed binary and config; only the socket
#     path and the Redis address are the test's), behind a private nginx
#     with the installed nginx example: a token, stock, an order, the order;
#   - apt-get purge: nothing left but the system user (Debian policy keeps
#     it: files it owned may remain elsewhere).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${REDIS_SERVER:=$(command -v redis-server)}" "${REDIS_CLI:=$(command -v redis-cli)}"
: "${NGINX:=$(PATH=$PATH:/usr/sbin command -v nginx)}" "${CURL:=$(command -v curl)}"
: "${JQ:=$(command -v jq)}" "${SPAWN_FCGI:=$(command -v spawn-fcgi)}"
export REDIS_SERVER REDIS_CLI NGINX CURL JQ SPAWN_FCGI
ANTIREPLAY_BIN=/usr/sbin/antireplay-fcgi
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib/front.sh"
. "$top_srcdir/tests/e2e/nginx.sh"
. "$top_srcdir/tests/e2e/http.sh"

# scripts/test-deb, no TAP harness, passes on exit status 0 alone: a skip
# here keeps status 77 so that it fails there.
AR_SKIP_STATUS=77
[ "$(id -u)" -eq 0 ] && [ -f "${AR_DEB:-}" ] ||
	ar_skip "needs root and AR_DEB (run scripts/test-deb)"
ar_require "$REDIS_SERVER" "$REDIS_CLI" "$NGINX" "$CURL" "$JQ" "$SPAWN_FCGI" \
	"$(command -v multiwatch)" "$(command -v pgrep)"
ar_setup_tmp
CONF=/etc/antireplay/antireplay.conf
UNITS=/lib/systemd/system

# --- install ------------------------------------------------------------------
# Whatever happens below, the machine is left without the package (and the
# config the test edits, which holds its admin token).
purge_on_exit() {
	if dpkg-query -W -f='${Status}' antireplay 2>/dev/null | grep -q 'ok installed'; then
		echo "# purging antireplay on the way out"
		apt-get purge -y -q antireplay >/dev/null 2>&1
	fi
	ar_cleanup
}
trap purge_on_exit EXIT
cp "$AR_DEB" "$AR_TMP/"
if apt-get install -y -q --no-install-recommends "$AR_TMP/$(basename "$AR_DEB")" \
	>"$AR_TMP/install.log" 2>&1; then
	ok "apt-get install ./$(basename "$AR_DEB")"
else
	not_ok "apt-get install failed: $(tail -n 5 "$AR_TMP/install.log")"
	ar_done
fi
missing=""
for f in /usr/sbin/antireplay-fcgi /usr/sbin/antireplay-drain; do
	[ -x "$f" ] || missing="$missing $f"
done
for f in $CONF $UNITS/antireplay.socket $UNITS/antireplay.service \
	$UNITS/antireplay-spawn-fcgi.service $UNITS/antireplay-drain.service \
	/usr/share/antireplay/lua/submit_order.lua /usr/share/antireplay/mariadb/schema.sql \
	/usr/share/antireplay/antireplay.js /usr/share/antireplay/storefront/order-form.html \
	/usr/share/doc/antireplay/copyright /usr/share/doc/antireplay/README.md \
	/usr/share/doc/antireplay/examples/nginx/antireplay.conf \
	/usr/share/doc/antireplay/examples/apache/antireplay-fcgid.conf \
	/usr/share/doc/antireplay/examples/lighttpd/antireplay-socket.conf \
	/usr/share/doc/antireplay/examples/redis/antireplay-redis.conf; do
	[ -f "$f" ] || missing="$missing $f"
done
for page in antireplay-fcgi.8 antireplay-drain.8 antireplay.conf.5; do
	[ -f "/usr/share/man/man${page##*.}/$page.gz" ] || missing="$missing $page"
done
check "every file in place" "" "$missing"
check "antireplay-fcgi --version" "antireplay-fcgi $(dpkg-query -W -f='${Version}' antireplay)" \
	"$(/usr/sbin/antireplay-fcgi --version)"
check_match "a system user antireplay, no login" '^antireplay:x:[0-9]+:[0-9]+:.*:/nonexistent:/usr/sbin/nologin$' \
	"$(getent passwd antireplay)"
uid=$(id -u antireplay)
check "its uid is a system one" 1 "$([ "$uid" -lt 1000 ] && echo 1)"
check_contains "$CONF is a conffile" " $CONF " "$(dpkg-query -W -f='${Conffiles}\n' antireplay) "
check "$CONF is 0640 root:antireplay" "640 root antireplay" "$(stat -c '%a %U %G' $CONF)"
check "the service user may read it and it is valid as shipped" 0 \
	"$(runuser -u antireplay -- /usr/sbin/antireplay-fcgi -c $CONF --check-config >/dev/null 2>&1; echo $?)"
check "the drain finds it valid too" 0 \
	"$(runuser -u antireplay -- /usr/sbin/antireplay-drain -c $CONF --check-config >/dev/null 2>&1; echo $?)"
check "no unit enabled" "" "$(find /etc/systemd/system -name 'antireplay*' 2>/dev/null)"

# --- the pool as its unit runs it ---------------------------------------------
ar_start_redis
ADMIN=deb-admin-token-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
sed -i -e "s|^redis = .*|redis = unix:$AR_TMP/redis.sock|" -e 's|^base_path =.*|base_path = /api|' \
	-e "s|^admin_token =.*|admin_token = $ADMIN|" -e 's|^token_rate = .*|token_rate = 0|' $CONF
exec_start=$(sed -n 's/^ExecStart=//p' $UNITS/antireplay-spawn-fcgi.service)
check_contains "the unit runs the installed binary with the installed config" \
	"/usr/sbin/antireplay-fcgi -c $CONF" "$exec_start"
AR_APP_SOCK=$AR_TMP/app.sock
# The unit's command, its socket moved into the test's folder; -n keeps
# spawn-fcgi in the foreground (it execs multiwatch), as under systemd.
# shellcheck disable=SC2086 # the unit's words
set -- $(printf '%s\n' "$exec_start" | sed "s|/run/antireplay/antireplay.sock|$AR_APP_SOCK|")
"$@" >"$AR_TMP/pool.log" 2>&1 &
POOL=$!
ar_track "$POOL"
ar_wait_socket "$AR_APP_SOCK" || { echo "# the pool made no socket: $(cat "$AR_TMP/pool.log")"; }
# Owned by www-data, 0660, as the unit says; the test's nginx runs as nobody.
check "the socket as the unit makes it" "660 www-data" "$(stat -c '%a %U' "$AR_APP_SOCK")"
chmod 0666 "$AR_APP_SOCK"
workers() {
	pgrep -f -- "^/usr/sbin/antireplay-fcgi -c $CONF" | tr '\n' ' '
}
four_workers() {
	[ "$(workers | wc -w)" -eq 4 ]
}
ar_wait_until 600 four_workers
users=$(for p in $(workers); do ps -o user= -p "$p"; done | sort -u | tr '\n' ' ')
check "the workers run as antireplay" "antireplay " "$users"
check "multiwatch runs four" 4 "$(workers | wc -w)"
AR_NGINX_SNIPPET_SRC=/usr/share/doc/antireplay/examples/nginx/antireplay.conf
ar_start_nginx /api
ar_http PUT /api/stock/DEB -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
	--data-binary '{"available":3}'
check "PUT /api/stock/DEB" 200 "$H_STATUS"
ar_http POST /api/tokens
check "POST /api/tokens" 201 "$H_STATUS"
tok=$(h_json .token)
ar_http POST /api/orders -H "Idempotency-Key: $tok" -H 'Content-Type: application/json' \
	--data-binary '{"items":[{"sku":"DEB","qty":2}]}'
check "POST /api/orders" 201 "$H_STATUS"
id=$(h_json .order_id)
ar_http GET "/api/orders/$id"
check "GET /api/orders/{id}" "200 created" "$H_STATUS $(h_json .status)"
ar_http GET /api/stock/DEB
check "stock 3 - 2" 1 "$(h_json .available)"
ar_stop_nginx
ar_stop_pid "$POOL"
check "the pool stopped: no worker left" "" "$(workers)"

# --- purge ------------------------------------------------------------------------
if apt-get purge -y -q antireplay >"$AR_TMP/purge.log" 2>&1; then
	ok "apt-get purge antireplay"
else
	not_ok "apt-get purge failed: $(tail -n 5 "$AR_TMP/purge.log")"
fi
check "dpkg knows it no more" "" "$(dpkg-query -W -f='${Status}' antireplay 2>/dev/null |
	grep -v 'not-installed')"
left=$(ls -d /etc/antireplay /usr/sbin/antireplay-* $UNITS/antireplay* /usr/share/antireplay \
	/usr/share/doc/antireplay /usr/share/man/man*/antireplay* 2>/dev/null)
check "nothing left of its files" "" "$left"
check "the system user stays (policy: its files may remain elsewhere)" antireplay \
	"$(getent passwd antireplay | cut -d: -f1)"
ar_done
