-- One row per reply sent back to a network, keyed by the reply's
-- idempotency key. first_at is fixed at the first attempt, so every retry
-- builds the same message (Bluesky's record key and createdAt derive from
-- it); attempts > 1 tells connectors without idempotency keys to look for
-- an earlier attempt before sending again (Facebook); external_id, once
-- set, answers a retry without calling the network at all.
CREATE TABLE reply_sends (
    key         TEXT PRIMARY KEY,
    channel     TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 1,
    external_id TEXT NOT NULL DEFAULT '',
    first_at    {{timestamp}} NOT NULL,
    sent_at     {{timestamp}}
);
