-- antireplay: the tables antireplay-drain writes, in the shop's MariaDB
-- (10.5 or later; MySQL 8 works too). Safe to apply again: every statement
-- creates only what is missing.
--
--   mariadb shop < schema.sql      or      antireplay-drain --init-schema
--
-- One row per order, whatever the stream redelivers: order_id is the
-- primary key, and the drain inserts with INSERT IGNORE (a row that is
-- there stays as it is; only duplicate keys may be ignored, any other
-- warning fails the batch), one transaction per batch, before it
-- acknowledges the entries in Redis (docs/design.md, "The drain").

CREATE TABLE IF NOT EXISTS orders (
  order_id   CHAR(36) CHARACTER SET ascii NOT NULL,
  customer   VARCHAR(256) NULL,
  created_at DATETIME(3) NOT NULL COMMENT 'UTC',
  body       JSON NOT NULL COMMENT 'the order JSON exactly as the API returned it',
  stream_id  VARCHAR(41) CHARACTER SET ascii NOT NULL COMMENT 'its entry in <key_prefix>orders',
  drained_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3) COMMENT 'UTC, when the drain committed it',
  PRIMARY KEY (order_id),
  KEY orders_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS order_lines (
  order_id CHAR(36) CHARACTER SET ascii NOT NULL,
  line     SMALLINT UNSIGNED NOT NULL COMMENT 'from 1, in request order',
  sku      VARCHAR(64) CHARACTER SET ascii NOT NULL,
  qty      INT UNSIGNED NOT NULL,
  PRIMARY KEY (order_id, line),
  KEY order_lines_sku (sku),
  CONSTRAINT order_lines_order FOREIGN KEY (order_id) REFERENCES orders (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
