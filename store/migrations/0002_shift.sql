-- Channel shift: the weather, the contact centre's daily counts, what a
-- contact costs, the campaigns to evaluate, and Signpost's own digital
-- contacts. Days are 'YYYY-MM-DD' text on both engines: they are calendar
-- dates in the council's timezone, not instants, and text sorts and
-- compares the same way everywhere.

CREATE TABLE weather (
    day        TEXT PRIMARY KEY,
    snow_cm    DOUBLE PRECISION NOT NULL,
    min_temp_c DOUBLE PRECISION NOT NULL,
    severity   INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 3)
);

-- A missing row is a gap in the export; a row with 0 is a real zero.
CREATE TABLE contacts (
    day      TEXT NOT NULL,
    channel  TEXT NOT NULL,
    category TEXT NOT NULL,
    contacts BIGINT NOT NULL CHECK (contacts >= 0),
    PRIMARY KEY (day, channel, category)
);
-- The report reads every count in a date range: a covering index answers
-- that from the index alone, without a lookup into the table per row.
CREATE INDEX contacts_day_cover ON contacts (day, channel, category, contacts);

-- effective_from is '0001-01-01' for a cost that has always applied.
-- marginal_gbp is NULL when the council has not given one.
CREATE TABLE channel_costs (
    channel          TEXT NOT NULL,
    effective_from   TEXT NOT NULL,
    fully_loaded_gbp DOUBLE PRECISION NOT NULL CHECK (fully_loaded_gbp >= 0),
    marginal_gbp     DOUBLE PRECISION CHECK (marginal_gbp >= 0),
    source           TEXT NOT NULL,
    PRIMARY KEY (channel, effective_from)
);

-- categories is ';'-separated, as in the import file.
CREATE TABLE campaigns (
    name        TEXT PRIMARY KEY,
    starts      TEXT NOT NULL,
    ends        TEXT NOT NULL,
    categories  TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT ''
);

-- Signpost's own digital contacts (page views, postcode checks, feed and
-- calendar fetches, API calls), counted per day without cookies or any
-- personal data. Kept apart from contacts so that an import never
-- overwrites them and they never double-count the council's web figures.
CREATE TABLE signpost_contacts (
    day      TEXT NOT NULL,
    channel  TEXT NOT NULL,
    category TEXT NOT NULL,
    contacts BIGINT NOT NULL CHECK (contacts >= 0),
    PRIMARY KEY (day, channel, category)
);
