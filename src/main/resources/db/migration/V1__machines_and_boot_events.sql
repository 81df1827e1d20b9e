-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are microseconds since the epoch (UTC).
CREATE TABLE machine (
    mac        VARCHAR(17) NOT NULL PRIMARY KEY,
    first_seen BIGINT      NOT NULL,
    last_seen  BIGINT      NOT NULL,
    firmware   VARCHAR(32)
);

CREATE TABLE machine_label (
    mac         VARCHAR(17)  NOT NULL REFERENCES machine (mac),
    name        VARCHAR(100) NOT NULL,
    label_value VARCHAR(500) NOT NULL,
    PRIMARY KEY (mac, name)
);

CREATE TABLE boot_session (
    id      BIGINT      NOT NULL PRIMARY KEY,
    mac     VARCHAR(17) NOT NULL REFERENCES machine (mac),
    started BIGINT      NOT NULL
);

CREATE INDEX boot_session_by_mac ON boot_session (mac, id);

CREATE TABLE boot_event (
    session_id BIGINT      NOT NULL REFERENCES boot_session (id),
    seq        INTEGER     NOT NULL,
    at_us      BIGINT      NOT NULL,
    step       VARCHAR(20) NOT NULL,
    failed     SMALLINT    NOT NULL,
    detail     TEXT        NOT NULL,
    bytes      BIGINT      NOT NULL,
    PRIMARY KEY (session_id, seq)
);
