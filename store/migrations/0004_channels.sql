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
