-- The archive of published notices reads notice_revisions (every published
-- change), the audit log (who made it) and the delivery log below (where it
-- went). This migration adds what those tables lack.

-- Archive searches run newest first over every revision.
CREATE INDEX notice_revisions_updated ON notice_revisions (updated_at);

-- Every attempt to deliver a revision of a notice to a channel, appended
-- and never updated: deliveries keeps only the last state per channel, an
-- FOI answer needs each one. outcome is 'delivered' or 'failed'; detail is
-- the receipt (JSON) for a delivery or the classified error for a failure,
-- never post text or personal data.
CREATE TABLE delivery_log (
    id        {{id}},
    notice_id BIGINT NOT NULL,
    revision  INTEGER NOT NULL,
    channel   TEXT NOT NULL,
    action    TEXT NOT NULL,
    outcome   TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed')),
    detail    TEXT NOT NULL DEFAULT '',
    at        {{timestamp}} NOT NULL
);
CREATE INDEX delivery_log_notice ON delivery_log (notice_id, revision);

-- How long the archive keeps a finished (closed or retracted) notice after
-- its last change: keep_days 0 keeps everything. One row.
CREATE TABLE archive_retention (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    keep_days  INTEGER NOT NULL CHECK (keep_days >= 0),
    updated_at {{timestamp}},
    updated_by TEXT NOT NULL DEFAULT ''
);
INSERT INTO archive_retention (id, keep_days, updated_by) VALUES (1, 0, '');
