package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/inbox"
)

// The inbox writes through updateInbox: nothing in it changes what
// residents see, so it must not bump the change version that makes the
// residents' site rebuild its snapshot.
func (db *DB) updateInbox(ctx context.Context, fn func(tx *Tx) error) error {
	return db.transact(ctx, false, fn)
}

// errSeen rolls back an ingest whose message is already stored.
var errSeen = errors.New("message already stored")

// Ingest stores an incoming message in its conversation (one per channel
// and author, created or reopened as needed) and reports its id and
// whether it is new. Ingesting the same (channel, external id) again —
// a retried poll, or two servers polling at once — changes nothing and
// returns the first message's id.
func (db *DB) Ingest(ctx context.Context, in inbox.Incoming) (id int64, created bool, err error) {
	in, err = in.Normalise()
	if err != nil {
		return 0, false, err
	}
	if id, ok, err := db.messageIDByExternal(ctx, in.Channel, in.ExternalID); err != nil || ok {
		return id, false, err
	}
	err = db.updateInbox(ctx, func(tx *Tx) error {
		now := tx.Now()
		received := utc(in.ReceivedAt)
		if in.ReceivedAt.IsZero() {
			received = now
		}
		var convID int64
		// The upsert locks the conversation row, so concurrent ingests
		// into one conversation take turns on PostgreSQL; SQLite has one
		// writer anyway.
		err := tx.QueryRow(ctx, `INSERT INTO inbox_conversations (channel, author, author_name, status, opened_at, awaiting_since, last_message_at, created_at, updated_at)
			VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)
			ON CONFLICT (channel, author) DO UPDATE SET
				author_name = CASE WHEN excluded.author_name <> '' THEN excluded.author_name ELSE inbox_conversations.author_name END,
				opened_at = CASE WHEN inbox_conversations.status = 'closed' THEN excluded.opened_at ELSE inbox_conversations.opened_at END,
				awaiting_since = CASE WHEN inbox_conversations.awaiting_since IS NULL OR excluded.awaiting_since < inbox_conversations.awaiting_since
					THEN excluded.awaiting_since ELSE inbox_conversations.awaiting_since END,
				last_message_at = CASE WHEN excluded.last_message_at > inbox_conversations.last_message_at
					THEN excluded.last_message_at ELSE inbox_conversations.last_message_at END,
				status = 'open', closed_at = NULL, updated_at = excluded.updated_at
			RETURNING id`,
			in.Channel, in.Author, in.AuthorName, received, received, received, now, now).Scan(&convID)
		if err != nil {
			return fmt.Errorf("ingest: conversation: %w", err)
		}
		err = tx.QueryRow(ctx, `INSERT INTO inbox_messages (conversation_id, channel, kind, external_id, thread_ref, author, author_name, text, received_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (channel, external_id) DO NOTHING RETURNING id`,
			convID, in.Channel, in.Kind, in.ExternalID, in.ThreadRef, in.Author, in.AuthorName, in.Text, received, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			// Another server stored it first; undo the conversation change.
			return errSeen
		}
		if err != nil {
			return fmt.Errorf("ingest: message: %w", err)
		}
		return nil
	})
	if errors.Is(err, errSeen) {
		id, _, err = db.messageIDByExternal(ctx, in.Channel, in.ExternalID)
		return id, false, err
	}
	if err != nil {
		return 0, false, err
	}
	return id, true, nil
}

func (db *DB) messageIDByExternal(ctx context.Context, channel, externalID string) (int64, bool, error) {
	var id int64
	err := db.queryRow(ctx, `SELECT id FROM inbox_messages WHERE channel = ? AND external_id = ?`, channel, externalID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("ingest: look up message: %w", err)
	}
	return id, true, nil
}

// SourceCursor returns where a message source got to, or "" if it has
// not run yet.
func (db *DB) SourceCursor(ctx context.Context, source string) (string, error) {
	var cursor string
	err := db.queryRow(ctx, `SELECT cursor FROM inbox_source_cursors WHERE source = ?`, source).Scan(&cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read cursor of %s: %w", source, err)
	}
	return cursor, nil
}

// SaveSourceCursor records where a message source got to. Save it only
// after the messages before it are ingested: a crash in between then
// re-reads them, and Ingest ignores the repeats.
func (db *DB) SaveSourceCursor(ctx context.Context, source, cursor string) error {
	if strings.TrimSpace(source) == "" {
		return signpost.Errorf(signpost.EINVALID, "save cursor: source is required")
	}
	return db.updateInbox(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO inbox_source_cursors (source, cursor, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
			source, cursor, tx.Now())
		if err != nil {
			return fmt.Errorf("save cursor of %s: %w", source, err)
		}
		return nil
	})
}

const conversationColumns = `c.id, c.channel, c.author, c.author_name, c.status, c.urgent, c.category, c.assignee,
	c.opened_at, c.awaiting_since, c.last_message_at, c.closed_at, c.created_at, c.updated_at`

func scanConversation(row interface{ Scan(...any) error }, extra ...any) (inbox.Conversation, error) {
	var c inbox.Conversation
	var awaiting, closed sql.NullTime
	var status string
	dest := append([]any{&c.ID, &c.Channel, &c.Author, &c.AuthorName, &status, &c.Urgent, &c.Category, &c.Assignee,
		&c.OpenedAt, &awaiting, &c.LastMessageAt, &closed, &c.CreatedAt, &c.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return inbox.Conversation{}, err
	}
	c.Status = inbox.Status(status)
	c.AwaitingSince, c.ClosedAt = timePtr(awaiting), timePtr(closed)
	c.OpenedAt, c.LastMessageAt, c.CreatedAt, c.UpdatedAt = c.OpenedAt.UTC(), c.LastMessageAt.UTC(), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// Conversation returns one conversation with the flags of its messages,
// or ENOTFOUND.
func (db *DB) Conversation(ctx context.Context, id int64) (inbox.Conversation, error) {
	c, err := scanConversation(db.queryRow(ctx, `SELECT `+conversationColumns+` FROM inbox_conversations c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return inbox.Conversation{}, signpost.Errorf(signpost.ENOTFOUND, "no conversation %d", id)
	}
	if err != nil {
		return inbox.Conversation{}, fmt.Errorf("read conversation %d: %w", id, err)
	}
	flags, err := db.conversationFlags(ctx, []int64{id})
	c.Flags = flags[id]
	return c, err
}

// conversationFlags gathers the distinct screening flags of each
// conversation's messages.
func (db *DB) conversationFlags(ctx context.Context, ids []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := db.query(ctx, `SELECT conversation_id, flags FROM inbox_messages WHERE flags <> '' AND conversation_id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read flags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var flags string
		if err := rows.Scan(&id, &flags); err != nil {
			return nil, fmt.Errorf("read flags: %w", err)
		}
		for _, f := range splitList(flags) {
			if !contains(out[id], f) {
				out[id] = append(out[id], f)
			}
		}
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

const messageColumns = `id, conversation_id, channel, kind, external_id, thread_ref, author, author_name, text, received_at, created_at,
	category, places, notices, flags, triaged_at, escalated_at, redacted_at, anonymised_at`

func scanMessage(row interface{ Scan(...any) error }) (inbox.Message, error) {
	var m inbox.Message
	var places, notices, flags string
	var triaged, escalated, redacted, anonymised sql.NullTime
	err := row.Scan(&m.ID, &m.ConversationID, &m.Channel, &m.Kind, &m.ExternalID, &m.ThreadRef, &m.Author, &m.AuthorName, &m.Text,
		&m.ReceivedAt, &m.CreatedAt, &m.Category, &places, &notices, &flags, &triaged, &escalated, &redacted, &anonymised)
	if err != nil {
		return inbox.Message{}, err
	}
	if err := json.Unmarshal([]byte(places), &m.Places); err != nil {
		return inbox.Message{}, fmt.Errorf("message %d places: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(notices), &m.Notices); err != nil {
		return inbox.Message{}, fmt.Errorf("message %d notices: %w", m.ID, err)
	}
	m.Flags = splitList(flags)
	m.ReceivedAt, m.CreatedAt = m.ReceivedAt.UTC(), m.CreatedAt.UTC()
	m.TriagedAt, m.EscalatedAt, m.RedactedAt, m.AnonymisedAt = timePtr(triaged), timePtr(escalated), timePtr(redacted), timePtr(anonymised)
	return m, nil
}

// Message returns one message, or ENOTFOUND.
func (db *DB) Message(ctx context.Context, id int64) (inbox.Message, error) {
	m, err := scanMessage(db.queryRow(ctx, `SELECT `+messageColumns+` FROM inbox_messages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return inbox.Message{}, signpost.Errorf(signpost.ENOTFOUND, "no message %d", id)
	}
	if err != nil {
		return inbox.Message{}, fmt.Errorf("read message %d: %w", id, err)
	}
	return m, nil
}

// Messages returns a conversation's messages, oldest first.
func (db *DB) Messages(ctx context.Context, conversationID int64) ([]inbox.Message, error) {
	return db.listMessages(ctx, `SELECT `+messageColumns+` FROM inbox_messages WHERE conversation_id = ? ORDER BY received_at, id`, conversationID)
}

func (db *DB) listMessages(ctx context.Context, q string, args ...any) ([]inbox.Message, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	var out []inbox.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
