-- Channels a notice can be published to: social accounts, e-mail lists and
-- partner webhooks. credentials holds the sealed secret (secret.Keyring:
-- AES-256-GCM with the key id in the prefix), never a plain token; config
-- holds the non-secret settings as JSON. last_error is the classified
-- error message, which never contains post text or personal data.

CREATE TABLE channels (
    id          {{id}},
    name        TEXT NOT NULL UNIQUE,
    type        TEXT NOT NULL,
    config      TEXT NOT NULL DEFAULT '{}',
    credentials TEXT NOT NULL DEFAULT '',
    healthy     BOOLEAN NOT NULL DEFAULT TRUE,
    last_error  TEXT NOT NULL DEFAULT '',
    checked_at  {{timestamp}},
    created_at  {{timestamp}} NOT NULL,
    updated_at  {{timestamp}} NOT NULL
);

-- The last revision of each notice delivered to each channel, and where
-- it went (channel.Receipt as JSON), so updates and deletions find the
-- original and a retried job sees that its work is already done.
CREATE TABLE deliveries (
    notice_id    BIGINT NOT NULL,
    channel      TEXT NOT NULL,
    revision     INTEGER NOT NULL,
    action       TEXT NOT NULL,
    receipt      TEXT NOT NULL DEFAULT '{}',
    delivered_at {{timestamp}} NOT NULL,
    PRIMARY KEY (notice_id, channel)
);
