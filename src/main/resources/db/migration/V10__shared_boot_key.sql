-- Servers sharing a database share the boot key (the HMAC key of the tokens their scripts hand out), so that a token
-- one server issued counts at the others. One row: the first server to start on the database writes its key (the one
-- in its state directory) and every server uses the row's. Portable SQL, as V9; on SQLite it is written and unused.
CREATE TABLE boot_key (
    id         INTEGER     NOT NULL PRIMARY KEY,
    key_hex    VARCHAR(64) NOT NULL,
    created_at BIGINT      NOT NULL
);
