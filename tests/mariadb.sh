# tests/mariadb.sh: a private MariaDB server, for the tests of the MariaDB
# store. Sourced after tests/lib.sh and ar_setup (or ar_setup_tmp). The
# server listens only on a unix socket in $AR_TMP/mariadb (--skip-networking,
# no TCP) and is stopped by PID at exit like everything else. Nothing is
# cached across tests: each ar_start_mariadb installs a fresh datadir (about
# 3-6 s, the slow part); ar_restart_mariadb reuses it.
#
# A test calls  ar_require "$MARIADBD" "$MARIADB_INSTALL_DB" "$MARIADB"
# itself before ar_start_mariadb, so a machine without MariaDB skips (77).
# Only programs of mariadb-server-core and mariadb-client-core are used
# (no mariadb-admin: it is in mariadb-client).
#
#   ar_start_mariadb [OPTION...]  mariadb-install-db into $AR_MARIADB_DIR/data,
#                       then ar_launch_mariadb. OPTIONs (none may contain a
#                       space) go to mariadbd, at every restart too
#   ar_launch_mariadb   mariadbd on $AR_MARIADB_SOCK (pid-file and err.log in
#                       $AR_MARIADB_DIR); returns once it answers (at most
#                       60 s, else shows err.log and ends the test);
#                       AR_MARIADB_PID is mariadbd itself
#   ar_mariadb_answers  the server answers SELECT 1 (at most 10 s)
#   ar_mariadb [ARGS...]  the mariadb client as MariaDB root on the socket,
#                       batch output (tab-separated, no column names), at
#                       most 60 s; e.g. ar_mariadb shop -e 'SELECT ...'
#   ar_stop_mariadb     SIGTERM (clean shutdown) and wait (at most 60 s)
#                       until it is gone
#   ar_kill_mariadb     SIGKILL (no shutdown: InnoDB recovers at the next
#                       start) and wait (at most 30 s) until it is gone
#   ar_restart_mariadb  mariadbd again on the same datadir, after a stop or a
#                       kill (a server still running is stopped cleanly
#                       first); returns once it answers
#   ar_mariadb_lock_start  a client session runs FLUSH TABLES WITH READ LOCK
#                       and holds the lock; returns once the lock is held.
#                       Writers then block inside their statement (INSERT,
#                       UPDATE, DDL, and COMMIT of a transaction that wrote
#                       before the lock). The session reads its statements
#                       from a FIFO that the test shell holds open on fd 8
#                       until ar_mariadb_lock_end: a test must leave fd 8
#                       alone in between. AR_MARIADB_LOCK_PID is the client,
#                       AR_MARIADB_LOCK_ID its connection id
#   ar_mariadb_lock_end  UNLOCK TABLES, end the session and wait (at most
#                       60 s) for the client to exit. Returns 1 when the
#                       session did not unlock (the server died meanwhile:
#                       the lock went with it)
#   ar_mariadb_waiting_for_lock [N]  at least N (default 1) sessions other
#                       than the lock holder wait for the lock (a predicate
#                       for ar_wait_until)
#
# Binaries: MARIADBD, MARIADB_INSTALL_DB, MARIADB (found on PATH; mariadbd in
# /usr/sbin too). AR_MARIADB_USER: the system user mariadbd runs as; as root
# it defaults to root (Debian's mysql user exists only with the full
# mariadb-server package, and root needs no folder of $AR_TMP's path to be
# traversable by someone else). Set it (as root) to run the server as
# another user: $AR_MARIADB_DIR is then chowned to that user, and every
# folder above it must be traversable by it (ar_setup_tmp makes $AR_TMP
# 0755). Not root: empty, the server runs as the caller (mariadb-install-db
# fails with --user when not root).

: "${MARIADBD:=$(command -v mariadbd || command -v /usr/sbin/mariadbd || true)}"
: "${MARIADB_INSTALL_DB:=$(command -v mariadb-install-db || true)}"
: "${MARIADB:=$(command -v mariadb || true)}"
# mariadbd refuses to run as root unless told so with --user=root.
: "${AR_MARIADB_USER=$([ "$(id -u)" -ne 0 ] || echo root)}"

# Small and quick, for both the install's bootstrap server and mariadbd: a
# 16 MiB buffer pool and an 8 MiB redo log (instead of 128 and 96 MiB), no
# buffer pool dump or load at stop and start. The redo log size is given at
# every start too, so that InnoDB never resizes it.
AR_MARIADB_SMALL="--innodb-buffer-pool-size=16M --innodb-log-file-size=8M
	--innodb-buffer-pool-dump-at-shutdown=0 --innodb-buffer-pool-load-at-startup=0"

ar_start_mariadb() {
	AR_MARIADB_DIR=$AR_TMP/mariadb
	AR_MARIADB_SOCK=$AR_MARIADB_DIR/sock
	AR_MARIADB_EXTRA="$*"
	mkdir "$AR_MARIADB_DIR" "$AR_MARIADB_DIR/tmp" || exit 1
	if [ -n "$AR_MARIADB_USER" ] && [ "$(id -u)" -eq 0 ]; then
		# The server writes its socket, pid-file, log and temp files here.
		chown -R "$AR_MARIADB_USER" "$AR_MARIADB_DIR" || exit 1
	fi
	# Up to 300 s (3-6 s here): it runs a bootstrap server that creates the
	# system tables, fsync by fsync. --skip-name-resolve: no host name
	# lookup (which fails without DNS). The root account gets no password
	# (normal authentication), whoever the caller is.
	# shellcheck disable=SC2086 # AR_MARIADB_SMALL is a list of options
	if ! ${AR_TIMEOUT:+"$AR_TIMEOUT" 300} "$MARIADB_INSTALL_DB" --no-defaults \
		${AR_MARIADB_USER:+"--user=$AR_MARIADB_USER"} --datadir="$AR_MARIADB_DIR/data" \
		--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
		$AR_MARIADB_SMALL >"$AR_MARIADB_DIR/install.log" 2>&1; then
		echo "# mariadb-install-db failed:"
		sed 's/^/#   /' "$AR_MARIADB_DIR/install.log"
		exit 1
	fi
	ar_launch_mariadb
}

ar_launch_mariadb() {
	# innodb_flush_log_at_trx_commit=1 is the default, stated because the
	# tests count on it: a commit the server acknowledged survives a
	# SIGKILL. --tmpdir keeps even its temp files private.
	# shellcheck disable=SC2086 # option lists
	"$MARIADBD" --no-defaults ${AR_MARIADB_USER:+"--user=$AR_MARIADB_USER"} \
		--datadir="$AR_MARIADB_DIR/data" --tmpdir="$AR_MARIADB_DIR/tmp" \
		--socket="$AR_MARIADB_SOCK" --skip-networking --skip-name-resolve \
		--pid-file="$AR_MARIADB_DIR/pid" --log-error="$AR_MARIADB_DIR/err.log" \
		--innodb-flush-log-at-trx-commit=1 $AR_MARIADB_SMALL $AR_MARIADB_EXTRA \
		>>"$AR_MARIADB_DIR/err.log" 2>&1 &
	AR_MARIADB_PID=$!
	ar_track "$AR_MARIADB_PID"
	# Up to 60 s (under a second here, crash recovery included), less when
	# it dies. A socket left by a killed server refuses connections until
	# the new one replaces it, so only an answer counts.
	_md_end=$(($(date +%s) + 60))
	until ar_mariadb_answers; do
		if ! ar_alive "$AR_MARIADB_PID" || [ "$(date +%s)" -ge $_md_end ]; then
			echo "# mariadbd (pid $AR_MARIADB_PID) does not answer:"
			sed 's/^/#   /' "$AR_MARIADB_DIR/err.log"
			exit 1
		fi
		sleep 0.1
	done
}

ar_mariadb_answers() {
	[ "$(${AR_TIMEOUT:+"$AR_TIMEOUT" 10} "$MARIADB" --no-defaults --protocol=socket \
		--socket="$AR_MARIADB_SOCK" --user=root --batch --skip-column-names \
		-e 'SELECT 1' 2>/dev/null)" = 1 ]
}

# 60 s: a statement that waits for a lock the test holds would otherwise
# hang the suite.
ar_mariadb() {
	${AR_TIMEOUT:+"$AR_TIMEOUT" 60} "$MARIADB" --no-defaults --protocol=socket \
		--socket="$AR_MARIADB_SOCK" --user=root --batch --skip-column-names "$@"
}

ar_stop_mariadb() {
	# Up to 60 s: a clean shutdown flushes the buffer pool.
	ar_stop_pid "$AR_MARIADB_PID" TERM 600 ||
		{ echo "# mariadbd (pid $AR_MARIADB_PID) did not stop after 60 s"; return 1; }
}

ar_kill_mariadb() {
	ar_stop_pid "$AR_MARIADB_PID" KILL ||
		{ echo "# mariadbd (pid $AR_MARIADB_PID) still there 30 s after SIGKILL"; return 1; }
}

ar_restart_mariadb() {
	if ar_alive "$AR_MARIADB_PID"; then
		ar_stop_mariadb || exit 1
	fi
	ar_launch_mariadb
}

ar_mariadb_lock_start() {
	_md_fifo=$AR_MARIADB_DIR/lock.fifo
	rm -f "$_md_fifo" "$AR_MARIADB_DIR/lock.out"
	mkfifo "$_md_fifo" || exit 1
	# Batch mode reads the FIFO line by line and runs each statement as it
	# comes; --unbuffered flushes each result at once. No timeout: the
	# session lives as long as the test holds the lock (at exit ar_cleanup
	# stops it by PID).
	"$MARIADB" --no-defaults --protocol=socket --socket="$AR_MARIADB_SOCK" --user=root \
		--batch --skip-column-names --unbuffered \
		<"$_md_fifo" >"$AR_MARIADB_DIR/lock.out" 2>&1 &
	AR_MARIADB_LOCK_PID=$!
	ar_track "$AR_MARIADB_LOCK_PID"
	# Read-write: the open does not wait for the reader (which would hang
	# for ever if the client failed to start), and as the shell also holds
	# a read end, writing after the client is gone raises no SIGPIPE.
	exec 8<>"$_md_fifo"
	# FLUSH TABLES WITH READ LOCK returns once the lock is held, so the
	# line "locked ID" that the next statement of the same session prints
	# proves it is; the lock lasts until UNLOCK TABLES or the session's end.
	echo "FLUSH TABLES WITH READ LOCK; SELECT 'locked', CONNECTION_ID();" >&8
	# Up to 60 s: FTWRL first waits for the statements running, and a
	# client that fails (error, server gone) exits at once.
	ar_wait_until 600 ar_mariadb_lock_settled
	AR_MARIADB_LOCK_ID=$(awk -F '\t' '$1 == "locked" { print $2 }' "$AR_MARIADB_DIR/lock.out")
	if [ -z "$AR_MARIADB_LOCK_ID" ]; then
		echo "# the lock session did not get FLUSH TABLES WITH READ LOCK (60 s at most):"
		sed 's/^/#   /' "$AR_MARIADB_DIR/lock.out"
		exit 1
	fi
}

# The lock client printed its "locked" line, or is gone.
ar_mariadb_lock_settled() {
	grep -q '^locked' "$AR_MARIADB_DIR/lock.out" || ! ar_alive "$AR_MARIADB_LOCK_PID"
}

ar_mariadb_lock_end() {
	# "quit" ends the client without waiting for EOF on the FIFO, which
	# would never come if a child the test started meanwhile inherited fd 8.
	printf "UNLOCK TABLES;\nSELECT 'unlocked';\nquit\n" >&8
	exec 8>&-
	if ! ar_stop_pid "$AR_MARIADB_LOCK_PID" 0 600; then
		# Its session, and so the lock, ends with its connection.
		echo "# the lock client did not end within 60 s: killed"
		ar_stop_pid "$AR_MARIADB_LOCK_PID" KILL
	fi
	rm -f "$AR_MARIADB_DIR/lock.fifo"
	AR_MARIADB_LOCK_ID=""
	grep -qx unlocked "$AR_MARIADB_DIR/lock.out"
}

# MariaDB 10.4+ implements the global read lock as the backup lock: every
# statement it blocks (a write, DDL, a COMMIT after writes) shows "Waiting
# for backup lock" (10.11, measured); older MariaDB and MySQL say "Waiting
# for global read lock" or "Waiting for commit lock".
ar_mariadb_waiting_for_lock() {
	_md_n=$(ar_mariadb -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST
		WHERE ID <> ${AR_MARIADB_LOCK_ID:-0} AND STATE IN ('Waiting for backup lock',
		'Waiting for global read lock', 'Waiting for commit lock')" 2>/dev/null)
	case $_md_n in '' | *[!0-9]*) return 1 ;; esac
	[ "$_md_n" -ge "${1:-1}" ]
}
