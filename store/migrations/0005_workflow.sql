-- Retraction, the channels a notice goes to, and the writing-and-approving
-- workflow. A notice reaches notices/notice_revisions only when published;
-- drafts, submissions, approvals and schedules live in workflow_items.

-- A retracted notice is withdrawn from residents' pages, feeds and the API
-- (its page answers 410 Gone); the retraction is a revision like any other.
ALTER TABLE notices ADD COLUMN retracted_at {{timestamp}};
ALTER TABLE notice_revisions ADD COLUMN retracted_at {{timestamp}};

-- The channels each revision went to, space-separated like places, so the
-- history says where every version was published.
ALTER TABLE notice_revisions ADD COLUMN channels TEXT NOT NULL DEFAULT '';

-- The channels (channels.name) the current revision of a notice goes to,
-- for "which notices go to this channel?".
CREATE TABLE notice_channels (
    notice_id BIGINT NOT NULL,
    channel   TEXT NOT NULL,
    PRIMARY KEY (notice_id, channel)
);

-- One piece of staff work: a new notice, or an update, close or retraction
-- of a published one (notice_id, written against base_revision). state is
-- draft, submitted, approved, returned, scheduled, published or withdrawn.
-- The content columns mirror notice_revisions; places and channels are
-- space-separated. risk_level and political are the screener's verdict at
-- the last check, and needs_approval/required_role the rules' verdict then.
-- version increases on every change, so a form posted over a newer edit is
-- refused rather than silently overwriting it. An urgent item was published
-- before anyone approved it; review is 'pending' until an approver has
-- looked at it afterwards, then 'done'.
CREATE TABLE workflow_items (
    id                 {{id}},
    notice_id          BIGINT,
    base_revision      INTEGER NOT NULL DEFAULT 0,
    action             TEXT NOT NULL,
    state              TEXT NOT NULL,
    category           TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL DEFAULT '',
    places             TEXT NOT NULL DEFAULT '',
    headline           TEXT NOT NULL DEFAULT '',
    body               TEXT NOT NULL DEFAULT '',
    starts             {{timestamp}},
    ends               {{timestamp}},
    channels           TEXT NOT NULL DEFAULT '',
    risk_level         TEXT NOT NULL DEFAULT 'none',
    political          BOOLEAN NOT NULL DEFAULT FALSE,
    needs_approval     BOOLEAN NOT NULL DEFAULT FALSE,
    required_role      TEXT NOT NULL DEFAULT '',
    author_id          BIGINT NOT NULL REFERENCES users (id),
    submitted_at       {{timestamp}},
    approver_id        BIGINT REFERENCES users (id),
    approved_at        {{timestamp}},
    return_comment     TEXT NOT NULL DEFAULT '',
    urgent             BOOLEAN NOT NULL DEFAULT FALSE,
    review             TEXT NOT NULL DEFAULT '',
    reviewer_id        BIGINT REFERENCES users (id),
    reviewed_at        {{timestamp}},
    publish_at         {{timestamp}},
    published_at       {{timestamp}},
    published_revision INTEGER,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         {{timestamp}} NOT NULL,
    updated_at         {{timestamp}} NOT NULL
);
CREATE INDEX workflow_items_state ON workflow_items (state, publish_at);
CREATE INDEX workflow_items_author ON workflow_items (author_id, state);
CREATE INDEX workflow_items_notice ON workflow_items (notice_id);

-- Admin-set workflow rules and the pre-election period, one row per
-- setting; a missing row means the safe default.
CREATE TABLE workflow_settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at {{timestamp}} NOT NULL
);
