-- A boot session no longer needs a machine record: a machine gets one once it gets past DHCP (fetches its script or
-- a file), so a flood of DISCOVERs from made-up MACs leaves sessions (pruned like any) but no machines.
-- Portable SQL: SQLite cannot drop a constraint, so both tables are rebuilt without it (SQLite ≥ 3.26 and
-- PostgreSQL both carry boot_event's reference along when boot_session_v7 is renamed).
CREATE TABLE boot_session_v7 (
    id      BIGINT      NOT NULL PRIMARY KEY,
    mac     VARCHAR(17) NOT NULL,
    started BIGINT      NOT NULL
);
INSERT INTO boot_session_v7 (id, mac, started) SELECT id, mac, started FROM boot_session;

CREATE TABLE boot_event_v7 (
    session_id BIGINT      NOT NULL REFERENCES boot_session_v7 (id),
    seq        INTEGER     NOT NULL,
    at_us      BIGINT      NOT NULL,
    step       VARCHAR(20) NOT NULL,
    failed     SMALLINT    NOT NULL,
    detail     TEXT        NOT NULL,
    bytes      BIGINT      NOT NULL,
    firmware   VARCHAR(32),
    address    VARCHAR(45),
    file_name  VARCHAR(255),
    dhcp       VARCHAR(20),
    PRIMARY KEY (session_id, seq)
);
INSERT INTO boot_event_v7 (session_id, seq, at_us, step, failed, detail, bytes, firmware, address, file_name, dhcp)
SELECT session_id, seq, at_us, step, failed, detail, bytes, firmware, address, file_name, dhcp FROM boot_event;

DROP TABLE boot_event;
DROP TABLE boot_session;
ALTER TABLE boot_session_v7 RENAME TO boot_session;
ALTER TABLE boot_event_v7 RENAME TO boot_event;
CREATE INDEX boot_session_by_mac ON boot_session (mac, id);
