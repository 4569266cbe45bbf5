-- Staff accounts, their sessions, sign-in throttling and the audit log.

-- email is stored normalised (trimmed, lower case) so UNIQUE means one
-- account per address. password_hash is a PHC string, or '' for an account
-- that signs in only through single sign-on. oidc_issuer/oidc_subject link
-- the account to an identity provider's stable subject, never to the e-mail
-- address the provider reports, which a tenant may let people change.
CREATE TABLE users (
    id             {{id}},
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash  TEXT NOT NULL DEFAULT '',
    oidc_issuer    TEXT,
    oidc_subject   TEXT,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    last_failed_at {{timestamp}},
    locked_until   {{timestamp}},
    last_sign_in   {{timestamp}},
    created_at     {{timestamp}} NOT NULL,
    updated_at     {{timestamp}} NOT NULL
);
CREATE UNIQUE INDEX users_oidc ON users (oidc_issuer, oidc_subject);

-- A session row is keyed by the SHA-256 of the token in the cookie, so a
-- copy of the database does not let anyone sign in as staff.
CREATE TABLE sessions (
    id           {{id}},
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   {{timestamp}} NOT NULL,
    last_seen_at {{timestamp}} NOT NULL,
    expires_at   {{timestamp}} NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-ins counted per client and per unknown address. key is a
-- SHA-256, so no address or e-mail is stored here.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start {{timestamp}} NOT NULL,
    locked_until {{timestamp}}
);

-- The audit log is append-only and hash-chained: hash is the SHA-256 of the
-- entry's canonical encoding, which includes prev_hash. seq runs 1, 2, 3…
-- with no gaps, so a deleted entry shows; audit_head holds the newest seq
-- and hash, so deleting the newest entries shows too, and its row is the lock
-- that makes concurrent appends take turns.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          {{timestamp}} NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    before_json TEXT NOT NULL,
    after_json  TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
