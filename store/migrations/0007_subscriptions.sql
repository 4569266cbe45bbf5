-- Residents' e-mail subscriptions. Nothing is kept beyond the address, what
-- it asked for and when it asked and confirmed (the consent record): no
-- names, no IP addresses, no opens or clicks. Unsubscribing deletes the
-- subscriber and, by cascade, its topics and send records.

-- request counts the address's subscribe requests; a confirmation link
-- names the request it confirms, so confirming one request never confirms
-- topics someone else asked for in another.
CREATE TABLE subscribers (
    id           {{id}},
    email        TEXT NOT NULL UNIQUE,
    request      INTEGER NOT NULL,
    requested_at {{timestamp}} NOT NULL,
    confirmed_at {{timestamp}}
);

-- topic is "ward:<code>", "school:<urn>", "round:<id>" or
-- "category:<name>". A topic with no confirmed_at is an unconfirmed
-- request: nothing is sent for it, and it is deleted when it expires.
CREATE TABLE subscription_topics (
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    topic         TEXT NOT NULL,
    request       INTEGER NOT NULL,
    requested_at  {{timestamp}} NOT NULL,
    confirmed_at  {{timestamp}},
    PRIMARY KEY (subscriber_id, topic)
);
CREATE INDEX subscription_topics_topic ON subscription_topics (topic, confirmed_at);

-- The notice revisions already turned into sends: one row per revision,
-- written in the same transaction as its sends and jobs, so a revision is
-- fanned out exactly once however many processes look.
CREATE TABLE subscription_fanouts (
    notice_id  BIGINT NOT NULL,
    revision   INTEGER NOT NULL,
    recipients INTEGER NOT NULL,
    fanned_at  {{timestamp}} NOT NULL,
    PRIMARY KEY (notice_id, revision)
);

-- One row per (revision, subscriber) to be sent; sent_at is set once the
-- SMTP server accepted the message, so a retried job skips it.
CREATE TABLE subscription_sends (
    notice_id     BIGINT NOT NULL,
    revision      INTEGER NOT NULL,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    sent_at       {{timestamp}},
    PRIMARY KEY (notice_id, revision, subscriber_id)
);
CREATE INDEX subscription_sends_subscriber ON subscription_sends (subscriber_id);
