-- Several servers on one store: DHCP leases every server honours (`--dhcp-leases store`) and the servers alive.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL (only PostgreSQL is shared; on SQLite they stay empty).
-- Times are milliseconds since the epoch (UTC), each server's own clock: the servers' clocks must agree (NTP).

-- One row per address: the primary key is what makes the choice of an address atomic across servers (a claim is
-- an insert that, on conflict, updates only a row that expired or already belongs to the same machine).
CREATE TABLE dhcp_lease (
    address    VARCHAR(15)  NOT NULL PRIMARY KEY,
    mac        VARCHAR(17)  NOT NULL,
    state      VARCHAR(8)   NOT NULL,
    expires_at BIGINT       NOT NULL,
    server     VARCHAR(200) NOT NULL,
    updated_at BIGINT       NOT NULL
);
CREATE INDEX dhcp_lease_mac ON dhcp_lease (mac);
CREATE INDEX dhcp_lease_updated ON dhcp_lease (updated_at);

-- Each server's heartbeat: a row not renewed for a few seconds is a server that is gone. Its slot numbers its boot
-- sessions apart from the other servers' (session ids equal to the slot modulo 64); a row keeps its slot across
-- restarts and frees it when the server stops cleanly.
CREATE TABLE server_heartbeat (
    name       VARCHAR(200)  NOT NULL PRIMARY KEY,
    url        VARCHAR(1000) NOT NULL,
    started_at BIGINT        NOT NULL,
    seen_at    BIGINT        NOT NULL,
    slot       INTEGER       NOT NULL
);
CREATE UNIQUE INDEX server_heartbeat_slot ON server_heartbeat (slot);

-- Which server recorded each boot session (NULL: recorded before servers shared a store).
ALTER TABLE boot_session ADD COLUMN server VARCHAR(200);
