-- The residents' inbox: messages from every channel, threaded into one
-- conversation per resident per channel, with triage, replies, internal
-- notes, saved replies and the pollers' resume points. Message text is
-- personal data: redaction blanks it, retention deletes or anonymises it.

-- One conversation per (channel, author). A message arriving on a closed
-- conversation reopens it. awaiting_since is when the oldest unanswered
-- message arrived (NULL once answered): the queue's order after urgency.
-- assignee is "user:<e-mail>", "team:<name>" or ''.
CREATE TABLE inbox_conversations (
    id              {{id}},
    channel         TEXT NOT NULL,
    author          TEXT NOT NULL,
    author_name     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'open',
    urgent          BOOLEAN NOT NULL DEFAULT FALSE,
    category        TEXT NOT NULL DEFAULT '',
    assignee        TEXT NOT NULL DEFAULT '',
    opened_at       {{timestamp}} NOT NULL,
    awaiting_since  {{timestamp}},
    last_message_at {{timestamp}} NOT NULL,
    closed_at       {{timestamp}},
    created_at      {{timestamp}} NOT NULL,
    updated_at      {{timestamp}} NOT NULL,
    UNIQUE (channel, author)
);
CREATE INDEX inbox_conversations_queue ON inbox_conversations (status, urgent, awaiting_since);

-- (channel, external_id) is unique, so ingesting the same message twice,
-- from a retried poll or from two servers at once, stores it once.
-- Triage fills category, places (JSON), notices (JSON ids) and flags
-- (';'-separated screening categories) once, claimed by one server at a
-- time through triage_claimed_at; escalated_at records that the duty
-- officer was told about a safeguarding concern.
CREATE TABLE inbox_messages (
    id                {{id}},
    conversation_id   BIGINT NOT NULL REFERENCES inbox_conversations (id),
    channel           TEXT NOT NULL,
    kind              TEXT NOT NULL,
    external_id       TEXT NOT NULL,
    thread_ref        TEXT NOT NULL DEFAULT '',
    author            TEXT NOT NULL,
    author_name       TEXT NOT NULL DEFAULT '',
    text              TEXT NOT NULL,
    received_at       {{timestamp}} NOT NULL,
    created_at        {{timestamp}} NOT NULL,
    category          TEXT NOT NULL DEFAULT '',
    places            TEXT NOT NULL DEFAULT '[]',
    notices           TEXT NOT NULL DEFAULT '[]',
    flags             TEXT NOT NULL DEFAULT '',
    triage_claimed_at {{timestamp}},
    triaged_at        {{timestamp}},
    escalated_at      {{timestamp}},
    redacted_at       {{timestamp}},
    anonymised_at     {{timestamp}},
    UNIQUE (channel, external_id)
);
CREATE INDEX inbox_messages_conversation ON inbox_messages (conversation_id, received_at);
CREATE INDEX inbox_messages_author ON inbox_messages (author);
CREATE INDEX inbox_messages_triage ON inbox_messages (triaged_at);
CREATE INDEX inbox_messages_received ON inbox_messages (received_at);

-- A reply is stored before it is sent; key is its idempotency key, passed
-- to the network so a retried send after a crash posts once. state is
-- 'approval' (risky: another person must approve), 'queued', 'sent',
-- 'failed' or 'rejected'. flags are the screener's categories.
CREATE TABLE inbox_replies (
    id              {{id}},
    conversation_id BIGINT NOT NULL REFERENCES inbox_conversations (id),
    message_id      BIGINT NOT NULL REFERENCES inbox_messages (id),
    idem_key        TEXT NOT NULL UNIQUE,
    text            TEXT NOT NULL,
    author          TEXT NOT NULL,
    state           TEXT NOT NULL,
    flags           TEXT NOT NULL DEFAULT '',
    notice_id       BIGINT,
    approved_by     TEXT NOT NULL DEFAULT '',
    external_id     TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      {{timestamp}} NOT NULL,
    sent_at         {{timestamp}}
);
CREATE INDEX inbox_replies_conversation ON inbox_replies (conversation_id);
CREATE INDEX inbox_replies_state ON inbox_replies (state);

-- Internal notes are for staff only and are never sent.
CREATE TABLE inbox_notes (
    id              {{id}},
    conversation_id BIGINT NOT NULL REFERENCES inbox_conversations (id),
    author          TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_at      {{timestamp}} NOT NULL
);
CREATE INDEX inbox_notes_conversation ON inbox_notes (conversation_id);

CREATE TABLE inbox_saved_replies (
    id         {{id}},
    title      TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    created_at {{timestamp}} NOT NULL,
    updated_at {{timestamp}} NOT NULL
);

-- One row per answered enquiry (the first reply sent after a resident
-- wrote), for response-time statistics; its insert also counts the
-- digital contact, so each is counted exactly once.
CREATE TABLE inbox_responses (
    reply_id        BIGINT PRIMARY KEY,
    conversation_id BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    category        TEXT NOT NULL,
    asked_at        {{timestamp}} NOT NULL,
    answered_at     {{timestamp}} NOT NULL
);
CREATE INDEX inbox_responses_answered ON inbox_responses (answered_at);

-- One row per closing of a conversation, for resolution-time statistics
-- (a reopened conversation closed again adds another).
CREATE TABLE inbox_closures (
    conversation_id BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    category        TEXT NOT NULL,
    opened_at       {{timestamp}} NOT NULL,
    closed_at       {{timestamp}} NOT NULL
);
CREATE INDEX inbox_closures_closed ON inbox_closures (closed_at);

-- Where each message source (e.g. "mastodon:northdale") got to, so a
-- restarted poller resumes rather than starting over.
CREATE TABLE inbox_source_cursors (
    source     TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL,
    updated_at {{timestamp}} NOT NULL
);
