/* orderdb: batches of orders into MariaDB with Connector/C's text protocol:
 * two multi-row INSERT IGNOREs and a COMMIT a batch, whatever its size. */
#include "orderdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>
#include <mysqld_error.h>

#include "log.h"
#include "scripts.h"
#include "strbuf.h"
#include "util.h"

/* While MariaDB keeps failing, a line at warn this often. */
#define REMINDER_MS 60000.0
/* MySQL 8's "Check constraint ... is violated" (MariaDB's is 4025). */
#define MYSQL_ER_CHECK_CONSTRAINT_VIOLATED 3819

extern const struct ar_script ar_sql_table[];
extern const unsigned ar_sql_count;

/* Every session: UTC (created_at and drained_at are UTC), strict mode (a
 * value that does not fit fails the batch instead of being cut), and every
 * warning of a statement kept (a batch's lines: up to 1000 x 50). */
#define SESSION_SETUP                                                           \
	"SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE," \
	"NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', "  \
	"max_error_count = 65535"

struct orderdb {
	const struct ar_config *cfg;
	MYSQL *conn; /* NULL when not connected */
	char where[160];
	double down_since_ms;              /* when the current outage began; 0 when none */
	double reminded_ms;                /* when it was last logged */
	unsigned long failures;            /* attempts failed in this outage */
	int writing;                       /* in orderdb_write (which the caller retries) */
	int probing;                       /* in orderdb_probe: a refusal is an outage */
	int refused;                       /* the last failure was a refusal of the data */
	char refusal[ORDERDB_REFUSAL_MAX]; /* why, for orderdb_refusal */
	unsigned long max_packet;          /* the server's max_allowed_packet */
	struct drain_order probe;          /* see orderdb_probe */
	int has_probe;
	struct strbuf sql; /* the statement being built, reused */
};

struct orderdb *orderdb_new(const struct ar_config *cfg)
{
	struct orderdb *db = xcalloc(1, sizeof *db);

	db->cfg = cfg;
	if (cfg->db_unix_path)
		snprintf(db->where, sizeof db->where, "unix:%s", cfg->db_unix_path);
	else
		snprintf(db->where, sizeof db->where, "%s:%d", cfg->db_host, cfg->db_port);
	return db;
}

static void disconnect(struct orderdb *db)
{
	if (db->conn) {
		mysql_close(db->conn);
		db->conn = NULL;
	}
}

void orderdb_free(struct orderdb *db)
{
	if (!db)
		return;
	disconnect(db);
	drain_order_free(&db->probe);
	strbuf_free(&db->sql);
	free(db);
}

const char *orderdb_where(const struct orderdb *db)
{
	return db->where;
}

/* Errors about the values of the rows, which the same batch meets again:
 * the server is fine, the data is not (for it). sqlstate: of a statement's
 * error; NULL for a warning. */
static int is_refusal(unsigned err, const char *sqlstate)
{
	/* Data exception, integrity constraint, a SIGNAL of the shop's
	 * (whatever MYSQL_ERRNO it sets). */
	if (sqlstate && (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0 ||
	                 strncmp(sqlstate, "45", 2) == 0))
		return 1;
	switch (err) {
	case ER_BAD_NULL_ERROR:                  /* 1048 */
	case ER_DUP_ENTRY:                       /* 1062: not of the primary key */
	case ER_NET_PACKET_TOO_LARGE:            /* 1153: over max_allowed_packet */
	case ER_NO_REFERENCED_ROW:               /* 1216 */
	case ER_WARN_NULL_TO_NOTNULL:            /* 1263 */
	case ER_WARN_DATA_OUT_OF_RANGE:          /* 1264 */
	case WARN_DATA_TRUNCATED:                /* 1265 */
	case ER_TRUNCATED_WRONG_VALUE:           /* 1292 */
	case ER_INVALID_CHARACTER_STRING:        /* 1300 */
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: /* 1366 */
	case ER_DATA_TOO_LONG:                   /* 1406 */
	case ER_NO_REFERENCED_ROW_2:             /* 1452: a foreign key of the shop's */
	case ER_SIGNAL_EXCEPTION:                /* 1644: a trigger's SIGNAL */
	case MYSQL_ER_CHECK_CONSTRAINT_VIOLATED: /* 3819 */
	case ER_CONSTRAINT_FAILED:               /* 4025: a CHECK, JSON_VALID included */
	case ER_JSON_PATH_EMPTY:                 /* 4051 */
		return 1;
	default:
		return err >= ER_JSON_BAD_CHR && err <= ER_JSON_ONE_OR_ALL; /* 4035-4046 */
	}
}

/* Logs the failure of `during` the first time in an outage, then a reminder
 * at warn once a minute while it lasts (the rest at debug: the drain
 * retries with a backoff), and drops the connection: after an error, even
 * a deadlock, the next attempt starts on a fresh session, and a
 * transaction left open is rolled back with it. */
static int failed(struct orderdb *db, const char *during, unsigned err, const char *sqlstate,
                  const char *msg)
{
	double now = util_now_ms();
	int refusal = is_refusal(err, sqlstate);

	if (refusal && !db->probing) {
		/* Not an outage: the caller finds the order it is about. */
		db->refused = 1;
		snprintf(db->refusal, sizeof db->refusal, "%s: error %u: %s", during, err, msg);
		log_debug("mariadb %s: %s refused: %s (error %u)", db->where, during, msg, err);
		disconnect(db);
		return -1;
	}
	db->failures++;
	if (db->down_since_ms == 0) {
		db->down_since_ms = now;
		db->reminded_ms = now;
		log_error("mariadb %s (database %s, user %s): %s%s failed: %s (error %u)%s",
		          db->where, db->cfg->db_name, db->cfg->db_user,
		          db->probing ? "an order known to be good (the probe), " : "", during, msg,
		          err,
		          db->probing && refusal
		              ? "; the tables refuse every order (were they changed?), retrying "
		                "until they take one again"
		          : db->writing ? "; retrying the same batch until it commits, nothing is "
		                          "acknowledged before"
		                        : "");
	} else if (now - db->reminded_ms >= REMINDER_MS) {
		db->reminded_ms = now;
		log_warn("mariadb %s: still failing after %.0f s and %lu attempts: %s failed: %s "
		         "(error %u)",
		         db->where, (now - db->down_since_ms) / 1000.0, db->failures, during, msg,
		         err);
	} else {
		log_debug("mariadb %s: %s failed again: %s (error %u)", db->where, during, msg,
		          err);
	}
	disconnect(db);
	return -1;
}

static int failed_conn(struct orderdb *db, const char *during)
{
	return failed(db, during, mysql_errno(db->conn), mysql_sqlstate(db->conn),
	              mysql_error(db->conn));
}

static void succeeded(struct orderdb *db)
{
	if (db->down_since_ms == 0)
		return;
	log_warn("mariadb %s: working again after %.1f s and %lu failed attempts", db->where,
	         (util_now_ms() - db->down_since_ms) / 1000.0, db->failures);
	db->down_since_ms = 0;
	db->failures = 0;
}

/* A statement longer than max_allowed_packet makes the server close the
 * connection, and the client may only see "lost connection" (an outage,
 * retried for ever): orderdb refuses such a batch itself. */
static int read_max_packet(struct orderdb *db)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (mysql_real_query(db->conn, "SELECT @@max_allowed_packet", 27) != 0 ||
	    !(res = mysql_store_result(db->conn)))
		return failed_conn(db, "SELECT @@max_allowed_packet");
	row = mysql_fetch_row(res);
	db->max_packet = row && row[0] ? strtoul(row[0], NULL, 10) : 0;
	mysql_free_result(res);
	return 0;
}

static int connect_db(struct orderdb *db, unsigned long flags)
{
	const struct ar_config *cfg = db->cfg;
	unsigned timeout = (unsigned)cfg->db_timeout;
	my_bool off = 0;

	if (db->conn)
		return 0;
	db->conn = mysql_init(NULL);
	if (!db->conn) {
		log_error("mariadb: out of memory in mysql_init");
		abort();
	}
	mysql_options(db->conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(db->conn, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_options(db->conn, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	/* A reconnect inside a transaction would lose it unseen. */
	mysql_options(db->conn, MYSQL_OPT_RECONNECT, &off);
	mysql_options(db->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(db->conn, MYSQL_INIT_COMMAND, SESSION_SETUP);
	if (!mysql_real_connect(db->conn, cfg->db_host, cfg->db_user, cfg->db_password,
	                        cfg->db_name, (unsigned)cfg->db_port, cfg->db_unix_path, flags))
		return failed_conn(db, "connect");
	if (read_max_packet(db) < 0)
		return -1;
	log_debug("mariadb %s: connected (max_allowed_packet %lu)", db->where, db->max_packet);
	return 0;
}

static int query(struct orderdb *db, const char *during, const char *sql, size_t len)
{
	if (mysql_real_query(db->conn, sql, len) != 0)
		return failed_conn(db, during);
	return 0;
}

/* Appends s[0..len) as a quoted SQL string. */
static void put_quoted(struct orderdb *db, const char *s, size_t len)
{
	char *p = strbuf_reserve(&db->sql, 2 * len + 3);
	size_t n;

	p[0] = '\'';
	n = mysql_real_escape_string(db->conn, p + 1, s, (unsigned long)len);
	p[1 + n] = '\'';
	strbuf_commit(&db->sql, n + 2);
}

static void build_orders_insert(struct orderdb *db, const struct drain_order *o, size_t n)
{
	struct strbuf *sql = &db->sql;

	strbuf_reset(sql);
	strbuf_puts(sql, "INSERT IGNORE INTO orders (order_id, customer, created_at, body, "
	                 "stream_id) VALUES ");
	for (size_t i = 0; i < n; i++) {
		strbuf_puts(sql, i ? ",('" : "('");
		strbuf_puts(sql, o[i].order_id); /* a UUID: nothing to escape */
		strbuf_puts(sql, "',");
		if (o[i].customer)
			put_quoted(db, o[i].customer, o[i].customer_len);
		else
			strbuf_puts(sql, "NULL");
		strbuf_puts(sql, ",'");
		strbuf_puts(sql, o[i].created_at); /* checked digits */
		strbuf_puts(sql, "',");
		put_quoted(db, o[i].body, o[i].body_len);
		strbuf_puts(sql, ",'");
		strbuf_puts(sql, o[i].stream_id); /* checked digits and '-' */
		strbuf_puts(sql, "')");
	}
}

static void build_lines_insert(struct orderdb *db, const struct drain_order *o, size_t n)
{
	struct strbuf *sql = &db->sql;
	int first = 1;

	strbuf_reset(sql);
	strbuf_puts(sql, "INSERT IGNORE INTO order_lines (order_id, line, sku, qty) VALUES ");
	for (size_t i = 0; i < n; i++) {
		for (size_t l = 0; l < o[i].n_lines; l++) {
			strbuf_puts(sql, first ? "('" : ",('");
			first = 0;
			strbuf_puts(sql, o[i].order_id);
			strbuf_puts(sql, "',");
			strbuf_put_int(sql, (long long)l + 1);
			strbuf_puts(sql, ",'");
			strbuf_puts(sql, o[i].lines[l].sku); /* [A-Za-z0-9._-] */
			strbuf_puts(sql, "',");
			strbuf_put_int(sql, o[i].lines[l].qty);
			strbuf_putc(sql, ')');
		}
	}
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && memcmp(s + n - t, tail, t) == 0;
}

/* A warning of INSERT IGNORE that only says the row was there: a
 * duplicate of its primary key. A duplicate of another unique key (an
 * index of the shop's) skips a new row: a refusal. MariaDB says "for key
 * 'PRIMARY'", MySQL 8 "for key 'orders.PRIMARY'". */
static int is_redelivery(unsigned code, const char *msg)
{
	/* The key's name ends the message; the duplicated value (a customer's
	 * name, say) comes before it and may hold anything. */
	return code == ER_DUP_ENTRY && msg &&
	       (ends_with(msg, " for key 'PRIMARY'") || ends_with(msg, ".PRIMARY'"));
}

/* The last statement skipped `skipped` rows with warnings: each must be a
 * redelivery (SHOW WARNINGS lists max_error_count of them, which the
 * session raises above any batch's rows), since IGNORE also skips a row a
 * CHECK, a foreign key or a unique index refuses, with a warning of its
 * own. Else fails the batch with the first other warning, always through
 * failed(): the connection, and with it the open transaction, goes; a
 * retry must never START TRANSACTION on top of it (that would commit the
 * half-done batch). */
static int check_warnings(struct orderdb *db, const char *during, size_t skipped)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned code = 0;
	size_t redeliveries = 0;
	char msg[256] = "warnings other than one per row skipped as redelivered";

	if (mysql_real_query(db->conn, "SHOW WARNINGS", 13) != 0 ||
	    !(res = mysql_store_result(db->conn)))
		return failed_conn(db, during);
	while ((row = mysql_fetch_row(res))) {
		unsigned c = row[1] ? (unsigned)strtoul(row[1], NULL, 10) : 0;
		if (!is_redelivery(c, row[2])) {
			code = c;
			snprintf(msg, sizeof msg, "%s", row[2] ? row[2] : "?");
			break;
		}
		redeliveries++;
	}
	mysql_free_result(res);
	if (code == 0 && redeliveries == skipped)
		return 0;
	return failed(db, during, code, NULL, msg);
}

/* Runs the INSERT IGNORE built in db->sql for rows rows: a row whose key
 * is there already is skipped with warning 1062, and needs the INSERT
 * privilege only (ON DUPLICATE KEY UPDATE needs UPDATE too). IGNORE turns
 * other errors into warnings as well (a value that does not fit, a CHECK),
 * never accepted silently: check_warnings. *added: the rows inserted. */
static int insert_ignore(struct orderdb *db, const char *during, size_t rows, size_t *added)
{
	my_ulonglong affected;
	char msg[128];

	if (db->max_packet && db->sql.len >= db->max_packet) {
		snprintf(msg, sizeof msg, "a statement of %zu bytes, max_allowed_packet is %lu",
		         db->sql.len, db->max_packet);
		return failed(db, during, ER_NET_PACKET_TOO_LARGE, NULL, msg);
	}
	if (query(db, during, db->sql.data, db->sql.len) < 0)
		return -1;
	affected = mysql_affected_rows(db->conn);
	if (affected > rows || mysql_warning_count(db->conn) != rows - affected)
		return check_warnings(db, during, (size_t)-1); /* fails: counts differ */
	if (affected < rows && check_warnings(db, during, rows - (size_t)affected) < 0)
		return -1;
	*added = (size_t)affected;
	return 0;
}

static int write_batch(struct orderdb *db, const struct drain_order *orders, size_t n,
                       size_t *inserted, const char *end)
{
	size_t lines = 0, lines_added;

	for (size_t i = 0; i < n; i++)
		lines += orders[i].n_lines;
	if (connect_db(db, 0) < 0)
		return -1;
	if (query(db, "START TRANSACTION", "START TRANSACTION", 17) < 0)
		return -1;
	build_orders_insert(db, orders, n);
	if (insert_ignore(db, "INSERT INTO orders", n, inserted) < 0)
		return -1;
	build_lines_insert(db, orders, n);
	if (lines > 0 && insert_ignore(db, "INSERT INTO order_lines", lines, &lines_added) < 0)
		return -1;
	if (query(db, end, end, strlen(end)) < 0)
		return -1;
	return 0;
}

/* o, as the probe: under the nil UUID, with no customer and a stream id
 * no entry has, so that no unique index of the shop's finds the real
 * order's row. */
static void set_probe(struct orderdb *db, const struct drain_order *o)
{
	drain_order_free(&db->probe);
	drain_order_copy(&db->probe, o);
	memcpy(db->probe.order_id, DRAIN_NIL_UUID, sizeof db->probe.order_id);
	free(db->probe.customer);
	db->probe.customer = NULL;
	db->probe.customer_len = 0;
	strcpy(db->probe.stream_id, "0-0");
	db->has_probe = 1;
}

enum orderdb_result orderdb_write(struct orderdb *db, const struct drain_order *orders, size_t n,
                                  size_t *inserted)
{
	*inserted = 0;
	if (n == 0)
		return ORDERDB_COMMITTED;
	db->writing = 1;
	db->refused = 0;
	int rc = write_batch(db, orders, n, inserted, "COMMIT");
	db->writing = 0;
	if (rc < 0)
		return db->refused ? ORDERDB_REFUSED : ORDERDB_FAILED;
	succeeded(db);
	set_probe(db, &orders[n - 1]);
	return ORDERDB_COMMITTED;
}

const char *orderdb_refusal(const struct orderdb *db)
{
	return db->refusal;
}

/* Before this process committed anything: an order like the API's. */
static void make_up_probe(struct orderdb *db)
{
	static const char body[] = "{\"order_id\":\"" DRAIN_NIL_UUID "\",\"status\":\"created\","
	                           "\"items\":[{\"sku\":\"antireplay-probe\",\"qty\":1}]}";
	struct drain_order o = {0};
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(o.created_at, sizeof o.created_at, "%Y-%m-%d %H:%M:%S.000", &tm);
	o.body = (char *)body;
	o.body_len = sizeof body - 1;
	strcpy(o.lines[0].sku, "antireplay-probe");
	o.lines[0].qty = 1;
	o.n_lines = 1;
	set_probe(db, &o); /* copies body */
}

/* Reads the lines of order_id into o; 0, or -1 (logged). */
static int read_probe_lines(struct orderdb *db, struct drain_order *o)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned long *len;
	char sql[128];

	snprintf(sql, sizeof sql,
	         "SELECT sku, qty FROM order_lines WHERE order_id = '%s' "
	         "ORDER BY line LIMIT %d",
	         o->order_id, ORDER_MAX_ITEMS);
	if (query(db, "reading the newest order", sql, strlen(sql)) < 0 ||
	    !(res = mysql_store_result(db->conn)))
		return db->conn ? failed_conn(db, "reading the newest order") : -1;
	while ((row = mysql_fetch_row(res)) && (len = mysql_fetch_lengths(res))) {
		if (!row[0] || !row[1] || len[0] > ORDER_SKU_MAX)
			continue;
		memcpy(o->lines[o->n_lines].sku, row[0], len[0]);
		o->lines[o->n_lines].sku[len[0]] = '\0';
		o->lines[o->n_lines++].qty = atoi(row[1]);
	}
	mysql_free_result(res);
	return 0;
}

/* The newest order in the database, as the probe (its SKUs are ones the
 * shop's foreign keys took). 1 when there is one, 0 when there is none
 * (with lines), -1 when MariaDB failed (logged). */
static int load_probe(struct orderdb *db)
{
	static const char sql[] =
	    "SELECT order_id, created_at, body FROM orders ORDER BY created_at DESC LIMIT 1";
	struct drain_order o = {0};
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned long *len;
	int found = 0;

	if (connect_db(db, 0) < 0 || query(db, "reading the newest order", sql, sizeof sql - 1) < 0)
		return -1;
	if (!(res = mysql_store_result(db->conn)))
		return failed_conn(db, "reading the newest order");
	row = mysql_fetch_row(res);
	len = row ? mysql_fetch_lengths(res) : NULL;
	if (len && row[0] && row[1] && row[2] && len[0] == TOKEN_LEN &&
	    len[1] == DRAIN_DATETIME_LEN) {
		memcpy(o.order_id, row[0], TOKEN_LEN);
		memcpy(o.created_at, row[1], DRAIN_DATETIME_LEN);
		o.body = xstrndup(row[2], len[2]);
		o.body_len = strlen(o.body);
		found = 1;
	}
	mysql_free_result(res);
	if (!found)
		return 0;
	if (read_probe_lines(db, &o) < 0) {
		drain_order_free(&o);
		return -1;
	}
	if (o.n_lines > 0)
		set_probe(db, &o);
	drain_order_free(&o);
	return db->has_probe;
}

enum orderdb_result orderdb_probe(struct orderdb *db)
{
	size_t inserted;
	int rc = 0;

	db->probing = 1;
	if (!db->has_probe) {
		rc = load_probe(db);
		if (rc == 0)
			make_up_probe(db);
	}
	if (rc >= 0)
		rc = write_batch(db, &db->probe, 1, &inserted, "ROLLBACK");
	db->probing = 0;
	if (rc < 0)
		return ORDERDB_FAILED;
	succeeded(db);
	return ORDERDB_COMMITTED;
}

int orderdb_init_schema(struct orderdb *db)
{
	const char *sql = NULL;
	int status;

	for (unsigned i = 0; i < ar_sql_count; i++)
		if (strcmp(ar_sql_table[i].name, "schema") == 0)
			sql = ar_sql_table[i].source;
	if (!sql) {
		log_error("schema.sql missing from the build");
		return -1;
	}
	disconnect(db);
	if (connect_db(db, CLIENT_MULTI_STATEMENTS) < 0)
		return -1;
	if (query(db, "the schema", sql, strlen(sql)) < 0)
		return -1;
	/* Every statement's result, to find the first that failed. */
	do {
		status = mysql_next_result(db->conn);
		if (status > 0)
			return failed_conn(db, "the schema");
	} while (status == 0);
	disconnect(db); /* the next session without multi-statements */
	succeeded(db);
	return 0;
}
