# tests/integration/drain.sh: antireplay-drain between the private Redis and
# a private MariaDB (tests/mariadb.sh). Sourced after tests/lib.sh and
# tests/mariadb.sh, once ar_start_redis and ar_start_mariadb have run.
#
#   ar_drain_db_setup       database shop: the tables from
#                           antireplay-drain --init-schema (as MariaDB root),
#                           then the drain's account with the GRANT lines of
#                           docs/security.md (user antireplay, password
#                           $AR_DRAIN_PW)
#   ar_drain_config [key=value...]  ar_write_config with the drain's keys
#                           (db at the private server, that account,
#                           db_name shop) before the arguments
#   ar_start_drain NAME     antireplay-drain -c $AR_DRAIN_CONF (default
#                           $AR_TMP/antireplay.conf, the app's) in the
#                           background, stderr to $AR_TMP/drain-NAME.log;
#                           sets AR_DRAIN_PID (tracked); returns once it is
#                           a consumer of the group (it has read once)
#   ar_drain_consumer PID   that drain's consumer name (host:pid)
#   ar_sql SQL              one statement on shop as MariaDB root, batch output
#   ar_rows                 rows in orders
#   ar_group_field FIELD    a field of XINFO GROUPS for antireplay-drain
#                           (pending, lag, last-delivered-id, consumers)
#   ar_drained N            the drain group has nothing pending nor unread,
#                           and orders holds N rows
#   ar_drained_at_least N   nothing pending nor unread, at least N rows

: "${ANTIREPLAY_DRAIN:=$top_builddir/src/antireplay-drain}"
AR_DRAIN_PW=drain-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')

ar_sql() {
	ar_mariadb shop -e "$1"
}

ar_drain_db_setup() {
	ar_mariadb -e 'CREATE DATABASE shop' || { echo "# CREATE DATABASE failed"; exit 1; }
	printf 'db = unix:%s\ndb_user = root\ndb_name = shop\nlog = stderr\n' "$AR_MARIADB_SOCK" \
		>"$AR_TMP/schema.conf"
	"$ANTIREPLAY_DRAIN" -c "$AR_TMP/schema.conf" --init-schema 2>"$AR_TMP/schema.log" ||
		{ echo "# --init-schema failed"; cat "$AR_TMP/schema.log"; exit 1; }
	_grants=$(grep '^GRANT INSERT, SELECT ON shop\.' "$top_srcdir/docs/security.md")
	[ "$(printf '%s\n' "$_grants" | grep -c .)" = 2 ] ||
		{ echo "# docs/security.md: expected two GRANT lines for shop"; exit 1; }
	ar_mariadb -e "CREATE USER 'antireplay'@'localhost' IDENTIFIED BY '$AR_DRAIN_PW'; $_grants" ||
		{ echo "# the drain's account could not be made"; exit 1; }
}

ar_drain_config() {
	ar_write_config "db=unix:$AR_MARIADB_SOCK" db_user=antireplay "db_password=$AR_DRAIN_PW" \
		db_name=shop "$@"
}

ar_start_drain() {
	: >"$AR_TMP/drain-$1.log"
	"$ANTIREPLAY_DRAIN" -c "${AR_DRAIN_CONF:-$AR_TMP/antireplay.conf}" 2>>"$AR_TMP/drain-$1.log" &
	AR_DRAIN_PID=$!
	ar_track "$AR_DRAIN_PID"
	ar_wait_until 600 ar_drain_is_consumer "$AR_DRAIN_PID" ||
		{ echo "# drain $1 did not read from Redis in 60 s"; cat "$AR_TMP/drain-$1.log"; }
}

ar_drain_consumer() {
	echo "$(uname -n):$1"
}

ar_drain_is_consumer() {
	ar_redis XINFO CONSUMERS ar:orders antireplay-drain 2>/dev/null |
		grep -qxF "$(ar_drain_consumer "$1")"
}

ar_rows() {
	ar_sql 'SELECT COUNT(*) FROM orders'
}

ar_group_field() {
	ar_redis XINFO GROUPS ar:orders 2>/dev/null | awk -v f="$1" '
		prev == "name" { g = $0 }
		prev == f && g == "antireplay-drain" { print; exit }
		{ prev = $0 }'
}

ar_drained_at_least() {
	[ "$(ar_group_field pending)" = 0 ] && [ "$(ar_group_field lag)" = 0 ] &&
		[ "$(ar_rows)" -ge "$1" ]
}

ar_drained() {
	ar_drained_at_least "$1" && [ "$(ar_rows)" = "$1" ]
}
