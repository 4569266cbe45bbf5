-- Channel delivery bookkeeping. notice_revisions is the outbox: every
-- published change is one revision, and the dispatcher queues that
-- revision's deliveries (River jobs) in the same transaction that records
-- it here, so a revision is queued exactly once whatever crashes.
CREATE TABLE delivery_dispatch (
    notice_id     BIGINT NOT NULL,
    revision      INTEGER NOT NULL,
    dispatched_at {{timestamp}} NOT NULL,
    PRIMARY KEY (notice_id, revision)
);

-- Revisions published before delivery existed were never meant for
-- channels: mark them done so an upgrade does not post history.
INSERT INTO delivery_dispatch (notice_id, revision, dispatched_at)
    SELECT notice_id, revision, updated_at FROM notice_revisions;

-- One row per queued delivery of a revision to a channel, and how it is
-- going, for the staff console. state is queued, retrying, delivered,
-- skipped (superseded by a later revision) or failed (a permanent error);
-- last_error is the classified message, never post text.
CREATE TABLE delivery_jobs (
    notice_id  BIGINT NOT NULL,
    revision   INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    action     TEXT NOT NULL,
    state      TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    queued_at  {{timestamp}} NOT NULL,
    updated_at {{timestamp}} NOT NULL,
    PRIMARY KEY (notice_id, revision, channel, action)
);
CREATE INDEX delivery_jobs_updated ON delivery_jobs (updated_at);
CREATE INDEX delivery_jobs_channel ON delivery_jobs (channel, state);
