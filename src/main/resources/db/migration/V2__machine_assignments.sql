-- Operator assignments (`pivot assign MAC PROFILE [--once]`); a machine may be assigned before it is first seen.
CREATE TABLE machine_assignment (
    mac         VARCHAR(17)  NOT NULL PRIMARY KEY,
    profile     VARCHAR(100) NOT NULL,
    once        SMALLINT     NOT NULL,
    assigned_at BIGINT       NOT NULL
);
