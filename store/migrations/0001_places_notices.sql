-- Places a council serves and the notices it publishes about them.
-- One schema for SQLite and PostgreSQL: {{id}} and {{timestamp}} are the only
-- words that differ, and store.migrate replaces them per engine.

CREATE TABLE wards (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    lat  DOUBLE PRECISION NOT NULL,
    lon  DOUBLE PRECISION NOT NULL
);

CREATE TABLE postcodes (
    postcode  TEXT PRIMARY KEY,
    ward_code TEXT NOT NULL REFERENCES wards (code),
    lat       DOUBLE PRECISION NOT NULL,
    lon       DOUBLE PRECISION NOT NULL
);

CREATE TABLE schools (
    urn       TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    phase     TEXT NOT NULL,
    ward_code TEXT NOT NULL REFERENCES wards (code),
    postcode  TEXT NOT NULL,
    lat       DOUBLE PRECISION NOT NULL,
    lon       DOUBLE PRECISION NOT NULL,
    phone     TEXT NOT NULL DEFAULT ''
);

-- line is the LineString as JSON [[lon, lat], …]: routes are read whole.
CREATE TABLE routes (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    priority  INTEGER NOT NULL,
    length_km DOUBLE PRECISION NOT NULL,
    line      TEXT NOT NULL
);

CREATE TABLE route_wards (
    route_id  TEXT NOT NULL REFERENCES routes (id) ON DELETE CASCADE,
    ward_code TEXT NOT NULL REFERENCES wards (code),
    position  INTEGER NOT NULL,
    PRIMARY KEY (route_id, ward_code)
);

-- collection_day is 0 (Sunday) to 6 (Saturday); streams are ';'-separated.
CREATE TABLE rounds (
    id              TEXT PRIMARY KEY,
    ward_code       TEXT NOT NULL REFERENCES wards (code),
    collection_day  INTEGER NOT NULL CHECK (collection_day BETWEEN 0 AND 6),
    streams         TEXT NOT NULL,
    postcode_sector TEXT NOT NULL
);
CREATE INDEX rounds_sector ON rounds (postcode_sector);

-- notices holds the current revision of each notice; notice_revisions holds
-- every revision ever made, including the current one, and is never updated.
CREATE TABLE notices (
    id           {{id}},
    revision     INTEGER NOT NULL,
    category     TEXT NOT NULL,
    status       TEXT NOT NULL,
    headline     TEXT NOT NULL,
    body         TEXT NOT NULL,
    starts       {{timestamp}},
    ends         {{timestamp}},
    published_at {{timestamp}} NOT NULL,
    updated_at   {{timestamp}} NOT NULL,
    closed_at    {{timestamp}}
);
CREATE INDEX notices_updated ON notices (updated_at);

CREATE TABLE notice_revisions (
    notice_id  BIGINT NOT NULL REFERENCES notices (id),
    revision   INTEGER NOT NULL,
    category   TEXT NOT NULL,
    status     TEXT NOT NULL,
    places     TEXT NOT NULL,
    headline   TEXT NOT NULL,
    body       TEXT NOT NULL,
    starts     {{timestamp}},
    ends       {{timestamp}},
    updated_at {{timestamp}} NOT NULL,
    closed_at  {{timestamp}},
    PRIMARY KEY (notice_id, revision)
);

-- The places the current revision names, for "what affects this school?".
CREATE TABLE notice_places (
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    kind      TEXT NOT NULL,
    ref       TEXT NOT NULL,
    PRIMARY KEY (notice_id, kind, ref)
);
CREATE INDEX notice_places_ref ON notice_places (kind, ref);

-- One row whose version every writing transaction increments, so that
-- caches in every process sharing the database can tell they are stale.
CREATE TABLE change_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO change_version (id, version) VALUES (1, 1);
