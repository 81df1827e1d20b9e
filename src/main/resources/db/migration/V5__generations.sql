-- Generations of each profile (a new build = its next generation), rollbacks, and what each machine runs.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are microseconds since the epoch (UTC).
CREATE TABLE profile_generation (
    profile     VARCHAR(100)  NOT NULL,
    number      INTEGER       NOT NULL,
    spec        TEXT          NOT NULL,
    version     VARCHAR(200)  NOT NULL,
    built_at    BIGINT        NOT NULL,
    imported_at BIGINT        NOT NULL,
    source      VARCHAR(4096) NOT NULL,
    PRIMARY KEY (profile, number)
);

-- The default a rollback chose; no row: the newest generation is the default.
CREATE TABLE profile_default (
    profile    VARCHAR(100) NOT NULL PRIMARY KEY,
    generation INTEGER      NOT NULL
);

-- The generation each machine's last successful boot (stage 2 reached) ran.
CREATE TABLE machine_generation (
    mac        VARCHAR(17)  NOT NULL PRIMARY KEY,
    profile    VARCHAR(100) NOT NULL,
    generation INTEGER      NOT NULL,
    booted_at  BIGINT       NOT NULL
);

-- `pivot assign MAC PROFILE@N`: a generation of the profile; NULL: the profile's default.
ALTER TABLE machine_assignment ADD COLUMN generation INTEGER;
