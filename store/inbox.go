package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

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

// UpdateInbox runs fn in one transaction for inbox changes, so a change
// and its audit entry commit together.
func (db *DB) UpdateInbox(ctx context.Context, fn func(tx *Tx) error) error {
	return db.updateInbox(ctx, fn)
}

// Conversation reads a conversation inside the transaction, locking its
// row on PostgreSQL so concurrent changes to it take turns.
func (tx *Tx) Conversation(ctx context.Context, id int64) (inbox.Conversation, error) {
	c, err := scanConversation(tx.QueryRow(ctx, `SELECT `+conversationColumns+` FROM inbox_conversations c WHERE c.id = ?`+tx.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return inbox.Conversation{}, signpost.Errorf(signpost.ENOTFOUND, "no conversation %d", id)
	}
	if err != nil {
		return inbox.Conversation{}, fmt.Errorf("read conversation %d: %w", id, err)
	}
	return c, nil
}

// SetConversationStatus moves a conversation to status. Closing records
// the closure for resolution statistics; reopening starts a new enquiry.
func (tx *Tx) SetConversationStatus(ctx context.Context, id int64, status inbox.Status) error {
	if !status.Valid() {
		return signpost.Errorf(signpost.EINVALID, "status %q is not one of open, waiting, closed", status)
	}
	c, err := tx.Conversation(ctx, id)
	if err != nil {
		return err
	}
	if c.Status == status {
		return nil
	}
	now := tx.Now()
	switch {
	case status == inbox.StatusClosed:
		_, err = tx.Exec(ctx, `UPDATE inbox_conversations SET status = ?, closed_at = ?, awaiting_since = NULL, urgent = FALSE, updated_at = ? WHERE id = ?`,
			status, now, now, id)
		if err == nil {
			_, err = tx.Exec(ctx, `INSERT INTO inbox_closures (conversation_id, channel, category, opened_at, closed_at) VALUES (?, ?, ?, ?, ?)`,
				id, c.Channel, c.Category, c.OpenedAt, now)
		}
	case c.Status == inbox.StatusClosed:
		_, err = tx.Exec(ctx, `UPDATE inbox_conversations SET status = ?, closed_at = NULL, opened_at = ?, updated_at = ? WHERE id = ?`,
			status, now, now, id)
	default:
		_, err = tx.Exec(ctx, `UPDATE inbox_conversations SET status = ?, updated_at = ? WHERE id = ?`, status, now, id)
	}
	if err != nil {
		return fmt.Errorf("set status of conversation %d: %w", id, err)
	}
	return nil
}

// AssignConversation gives a conversation to "user:<e-mail>",
// "team:<name>", or nobody ("").
func (tx *Tx) AssignConversation(ctx context.Context, id int64, assignee string) error {
	assignee = strings.TrimSpace(assignee)
	if assignee != "" && !strings.HasPrefix(assignee, "user:") && !strings.HasPrefix(assignee, "team:") || len(assignee) > 200 {
		return signpost.Errorf(signpost.EINVALID, "assignee %q: want user:<e-mail>, team:<name> or nobody", assignee)
	}
	res, err := tx.Exec(ctx, `UPDATE inbox_conversations SET assignee = ?, updated_at = ? WHERE id = ?`, assignee, tx.Now(), id)
	if err != nil {
		return fmt.Errorf("assign conversation %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return signpost.Errorf(signpost.ENOTFOUND, "no conversation %d", id)
	}
	return nil
}

// SetConversationCategory sets the category staff settled on.
func (tx *Tx) SetConversationCategory(ctx context.Context, id int64, category signpost.Category) error {
	if !category.Valid() {
		return signpost.Errorf(signpost.EINVALID, "category %q is not one of schools, roads, waste, transport, libraries, leisure, health, other", category)
	}
	res, err := tx.Exec(ctx, `UPDATE inbox_conversations SET category = ?, updated_at = ? WHERE id = ?`, string(category), tx.Now(), id)
	if err != nil {
		return fmt.Errorf("set category of conversation %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return signpost.Errorf(signpost.ENOTFOUND, "no conversation %d", id)
	}
	return nil
}

// QueueFilter selects conversations for the console's queue.
type QueueFilter struct {
	Status   inbox.Status // "" means open and waiting
	Assignee string       // "" means anyone
	Limit    int          // 0 means 200
}

// Queue lists conversations urgent first, then the longest waiting first.
func (db *DB) Queue(ctx context.Context, f QueueFilter) ([]inbox.Conversation, error) {
	q := `SELECT ` + conversationColumns + ` FROM inbox_conversations c WHERE `
	var args []any
	if f.Status == "" {
		q += `c.status <> 'closed'`
	} else {
		q += `c.status = ?`
		args = append(args, string(f.Status))
	}
	if f.Assignee != "" {
		q += ` AND c.assignee = ?`
		args = append(args, f.Assignee)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	q += ` ORDER BY c.urgent DESC, CASE WHEN c.awaiting_since IS NULL THEN 1 ELSE 0 END, c.awaiting_since, c.last_message_at, c.id LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	var out []inbox.Conversation
	var ids []int64
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list queue: %w", err)
		}
		out = append(out, c)
		ids = append(ids, c.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	flags, err := db.conversationFlags(ctx, ids)
	for i := range out {
		out[i].Flags = flags[out[i].ID]
	}
	return out, err
}

// ClaimUntriaged hands out up to limit messages that have not been
// triaged, marking them claimed so that another server skips them; a
// claim older than stale (its server died) is handed out again.
func (db *DB) ClaimUntriaged(ctx context.Context, limit int, stale time.Duration) ([]inbox.Message, error) {
	cutoff := utc(db.now().Add(-stale))
	candidates, err := db.listMessages(ctx, `SELECT `+messageColumns+` FROM inbox_messages
		WHERE triaged_at IS NULL AND (triage_claimed_at IS NULL OR triage_claimed_at < ?) ORDER BY id LIMIT ?`, cutoff, limit)
	if err != nil || len(candidates) == 0 {
		return nil, err
	}
	return db.claimMessages(ctx, candidates, `UPDATE inbox_messages SET triage_claimed_at = ?
		WHERE id = ? AND triaged_at IS NULL AND (triage_claimed_at IS NULL OR triage_claimed_at < ?)`, cutoff)
}

// claimMessages runs update (placeholders: now, id, cutoff) for each
// candidate and returns those it changed: the ones this server now holds.
func (db *DB) claimMessages(ctx context.Context, candidates []inbox.Message, update string, cutoff time.Time) ([]inbox.Message, error) {
	var claimed []inbox.Message
	err := db.updateInbox(ctx, func(tx *Tx) error {
		claimed = claimed[:0]
		for _, m := range candidates {
			res, err := tx.Exec(ctx, update, tx.Now(), m.ID, cutoff)
			if err != nil {
				return fmt.Errorf("claim message %d: %w", m.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				claimed = append(claimed, m)
			}
		}
		return nil
	})
	return claimed, err
}

// SaveTriage records a message's triage. An urgent message makes its
// conversation urgent; the first suggested category becomes the
// conversation's unless staff have set one.
func (db *DB) SaveTriage(ctx context.Context, id int64, t inbox.Triage) error {
	places, err := json.Marshal(nonNil(t.Places))
	if err != nil {
		return err
	}
	notices, err := json.Marshal(nonNil(t.Notices))
	if err != nil {
		return err
	}
	return db.updateInbox(ctx, func(tx *Tx) error {
		var convID int64
		err := tx.QueryRow(ctx, `UPDATE inbox_messages SET category = ?, places = ?, notices = ?, flags = ?, triaged_at = ? WHERE id = ? RETURNING conversation_id`,
			t.Category, string(places), string(notices), strings.Join(t.Flags, ";"), tx.Now(), id).Scan(&convID)
		if errors.Is(err, sql.ErrNoRows) {
			return signpost.Errorf(signpost.ENOTFOUND, "no message %d", id)
		}
		if err != nil {
			return fmt.Errorf("save triage of message %d: %w", id, err)
		}
		_, err = tx.Exec(ctx, `UPDATE inbox_conversations SET
			urgent = CASE WHEN ? THEN TRUE ELSE urgent END,
			category = CASE WHEN category = '' THEN ? ELSE category END,
			updated_at = ? WHERE id = ?`, t.Urgent, t.Category, tx.Now(), convID)
		if err != nil {
			return fmt.Errorf("save triage of message %d: %w", id, err)
		}
		return nil
	})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// MarkEscalated records that the duty officer was told about a message.
func (db *DB) MarkEscalated(ctx context.Context, id int64) error {
	return db.updateInbox(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE inbox_messages SET escalated_at = ? WHERE id = ?`, tx.Now(), id)
		if err != nil {
			return fmt.Errorf("mark message %d escalated: %w", id, err)
		}
		return nil
	})
}

// AddNote stores an internal note.
func (tx *Tx) AddNote(ctx context.Context, n *inbox.Note) error {
	n.Text = strings.TrimSpace(n.Text)
	if n.Text == "" {
		return signpost.Errorf(signpost.EINVALID, "the note is empty")
	}
	if len(n.Text) > 10000 {
		return signpost.Errorf(signpost.ETOOLARGE, "the note is %d characters; keep it under 10000", len(n.Text))
	}
	n.CreatedAt = tx.Now()
	err := tx.QueryRow(ctx, `INSERT INTO inbox_notes (conversation_id, author, text, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		n.ConversationID, n.Author, n.Text, n.CreatedAt).Scan(&n.ID)
	if err != nil {
		return fmt.Errorf("add note to conversation %d: %w", n.ConversationID, err)
	}
	return nil
}

// Notes returns a conversation's internal notes, oldest first.
func (db *DB) Notes(ctx context.Context, conversationID int64) ([]inbox.Note, error) {
	rows, err := db.query(ctx, `SELECT id, conversation_id, author, text, created_at FROM inbox_notes WHERE conversation_id = ? ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	defer rows.Close()
	var out []inbox.Note
	for rows.Next() {
		var n inbox.Note
		if err := rows.Scan(&n.ID, &n.ConversationID, &n.Author, &n.Text, &n.CreatedAt); err != nil {
			return nil, fmt.Errorf("list notes: %w", err)
		}
		n.CreatedAt = n.CreatedAt.UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

const replyColumns = `id, conversation_id, message_id, idem_key, text, author, state, flags, notice_id, approved_by, external_id, last_error, created_at, sent_at`

func scanReply(row interface{ Scan(...any) error }) (inbox.Reply, error) {
	var r inbox.Reply
	var flags string
	var notice sql.NullInt64
	var sent sql.NullTime
	err := row.Scan(&r.ID, &r.ConversationID, &r.MessageID, &r.Key, &r.Text, &r.Author, &r.State, &flags, &notice,
		&r.ApprovedBy, &r.ExternalID, &r.LastError, &r.CreatedAt, &sent)
	if err != nil {
		return inbox.Reply{}, err
	}
	r.Flags = splitList(flags)
	if notice.Valid {
		r.NoticeID = &notice.Int64
	}
	r.CreatedAt, r.SentAt = r.CreatedAt.UTC(), timePtr(sent)
	return r, nil
}

// AddReply stores a reply in r.State ("approval" or "queued"), filling in
// its id and idempotency key.
func (tx *Tx) AddReply(ctx context.Context, r *inbox.Reply) error {
	if r.State != inbox.ReplyApproval && r.State != inbox.ReplyQueued {
		return fmt.Errorf("add reply: state %q", r.State)
	}
	r.CreatedAt = tx.Now()
	if r.Key == "" {
		// Random, so that no two replies share a key however close in
		// time; every retry of this reply reads the stored key.
		r.Key = fmt.Sprintf("signpost-reply-c%d-%s", r.ConversationID, strings.ToLower(rand.Text()))
	}
	err := tx.QueryRow(ctx, `INSERT INTO inbox_replies (conversation_id, message_id, idem_key, text, author, state, flags, notice_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.ConversationID, r.MessageID, r.Key, r.Text, r.Author, r.State, strings.Join(r.Flags, ";"), r.NoticeID, r.CreatedAt).Scan(&r.ID)
	if err != nil && isUniqueViolation(err) {
		return signpost.Errorf(signpost.ECONFLICT, "that reply was already saved")
	}
	if err != nil {
		return fmt.Errorf("add reply to conversation %d: %w", r.ConversationID, err)
	}
	return nil
}

// Reply returns one reply, or ENOTFOUND.
func (db *DB) Reply(ctx context.Context, id int64) (inbox.Reply, error) {
	r, err := scanReply(db.queryRow(ctx, `SELECT `+replyColumns+` FROM inbox_replies WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return inbox.Reply{}, signpost.Errorf(signpost.ENOTFOUND, "no reply %d", id)
	}
	if err != nil {
		return inbox.Reply{}, fmt.Errorf("read reply %d: %w", id, err)
	}
	return r, nil
}

// Replies returns a conversation's replies, oldest first.
func (db *DB) Replies(ctx context.Context, conversationID int64) ([]inbox.Reply, error) {
	return db.listReplies(ctx, `SELECT `+replyColumns+` FROM inbox_replies WHERE conversation_id = ? ORDER BY id`, conversationID)
}

// RepliesInState returns every reply in a state, oldest first: the
// approvals waiting, or queued replies to hand to the worker again.
func (db *DB) RepliesInState(ctx context.Context, state string) ([]inbox.Reply, error) {
	return db.listReplies(ctx, `SELECT `+replyColumns+` FROM inbox_replies WHERE state = ? ORDER BY id`, state)
}

func (db *DB) listReplies(ctx context.Context, q string, args ...any) ([]inbox.Reply, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list replies: %w", err)
	}
	defer rows.Close()
	var out []inbox.Reply
	for rows.Next() {
		r, err := scanReply(rows)
		if err != nil {
			return nil, fmt.Errorf("list replies: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DecideReply moves a reply awaiting approval to queued (approved) or
// rejected, naming who decided. A reply no longer awaiting approval is
// ECONFLICT, so two approvers cannot both act.
func (tx *Tx) DecideReply(ctx context.Context, id int64, approve bool, by string) error {
	to := inbox.ReplyRejected
	if approve {
		to = inbox.ReplyQueued
	}
	res, err := tx.Exec(ctx, `UPDATE inbox_replies SET state = ?, approved_by = ? WHERE id = ? AND state = ?`, to, by, id, inbox.ReplyApproval)
	if err != nil {
		return fmt.Errorf("decide reply %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return signpost.Errorf(signpost.ECONFLICT, "reply %d is not waiting for approval", id)
	}
	return nil
}

// Reply reads a reply inside the transaction.
func (tx *Tx) Reply(ctx context.Context, id int64) (inbox.Reply, error) {
	r, err := scanReply(tx.QueryRow(ctx, `SELECT `+replyColumns+` FROM inbox_replies WHERE id = ?`+tx.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return inbox.Reply{}, signpost.Errorf(signpost.ENOTFOUND, "no reply %d", id)
	}
	if err != nil {
		return inbox.Reply{}, fmt.Errorf("read reply %d: %w", id, err)
	}
	return r, nil
}

// MarkReplySent records that a queued reply went out. If it is the first
// answer since the resident wrote, the enquiry is recorded as answered
// (for response times) and counted once as a digital contact of the
// conversation's channel and contactCategory on today's date in loc. A
// reply already marked sent changes nothing, so a retried job is
// harmless.
func (db *DB) MarkReplySent(ctx context.Context, id int64, externalID, contactCategory string, loc *time.Location) error {
	return db.updateInbox(ctx, func(tx *Tx) error {
		r, err := tx.Reply(ctx, id)
		if err != nil {
			return err
		}
		if r.State == inbox.ReplySent {
			return nil
		}
		now := tx.Now()
		if _, err := tx.Exec(ctx, `UPDATE inbox_replies SET state = ?, external_id = ?, sent_at = ?, last_error = '' WHERE id = ?`,
			inbox.ReplySent, externalID, now, id); err != nil {
			return fmt.Errorf("mark reply %d sent: %w", id, err)
		}
		c, err := tx.Conversation(ctx, r.ConversationID)
		if err != nil {
			return err
		}
		if c.AwaitingSince == nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO inbox_responses (reply_id, conversation_id, channel, category, asked_at, answered_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, c.ID, c.Channel, c.Category, *c.AwaitingSince, now); err != nil {
			return fmt.Errorf("record answer to conversation %d: %w", c.ID, err)
		}
		status := c.Status
		if status == inbox.StatusOpen {
			status = inbox.StatusWaiting
		}
		if _, err := tx.Exec(ctx, `UPDATE inbox_conversations SET awaiting_since = NULL, urgent = FALSE, status = ?, updated_at = ? WHERE id = ?`,
			status, now, c.ID); err != nil {
			return fmt.Errorf("record answer to conversation %d: %w", c.ID, err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO signpost_contacts (day, channel, category, contacts) VALUES (?, ?, ?, 1)
			ON CONFLICT (day, channel, category) DO UPDATE SET contacts = signpost_contacts.contacts + 1`,
			dayText(now.In(loc)), c.Channel, contactCategory)
		if err != nil {
			return fmt.Errorf("count answered enquiry: %w", err)
		}
		return nil
	})
}

// MarkReplyFailed records why a reply could not be sent; permanent
// failures move it to "failed", others keep it queued for the retry.
func (db *DB) MarkReplyFailed(ctx context.Context, id int64, permanent bool, reason string) error {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	return db.updateInbox(ctx, func(tx *Tx) error {
		q := `UPDATE inbox_replies SET last_error = ? WHERE id = ? AND state = ?`
		args := []any{reason, id, inbox.ReplyQueued}
		if permanent {
			q = `UPDATE inbox_replies SET last_error = ?, state = ? WHERE id = ? AND state = ?`
			args = []any{reason, inbox.ReplyFailed, id, inbox.ReplyQueued}
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("mark reply %d failed: %w", id, err)
		}
		return nil
	})
}

// SavedReplies returns every saved reply, by title.
func (db *DB) SavedReplies(ctx context.Context) ([]inbox.SavedReply, error) {
	rows, err := db.query(ctx, `SELECT id, title, body, created_at, updated_at FROM inbox_saved_replies ORDER BY title`)
	if err != nil {
		return nil, fmt.Errorf("list saved replies: %w", err)
	}
	defer rows.Close()
	var out []inbox.SavedReply
	for rows.Next() {
		var s inbox.SavedReply
		if err := rows.Scan(&s.ID, &s.Title, &s.Body, &s.CreatedAt, &s.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list saved replies: %w", err)
		}
		s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// PutSavedReply adds a saved reply (ID 0) or changes one. A title already
// in use is ECONFLICT.
func (tx *Tx) PutSavedReply(ctx context.Context, s *inbox.SavedReply) error {
	s.Title, s.Body = strings.TrimSpace(s.Title), strings.TrimSpace(s.Body)
	switch {
	case s.Title == "":
		return signpost.Errorf(signpost.EINVALID, "a saved reply needs a title")
	case s.Body == "":
		return signpost.Errorf(signpost.EINVALID, "a saved reply needs some text")
	case len(s.Title) > 200 || len(s.Body) > 5000:
		return signpost.Errorf(signpost.ETOOLARGE, "keep the title under 200 and the text under 5000 characters")
	}
	now := tx.Now()
	var err error
	if s.ID == 0 {
		s.CreatedAt = now
		err = tx.QueryRow(ctx, `INSERT INTO inbox_saved_replies (title, body, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
			s.Title, s.Body, now, now).Scan(&s.ID)
	} else {
		err = tx.QueryRow(ctx, `UPDATE inbox_saved_replies SET title = ?, body = ?, updated_at = ? WHERE id = ? RETURNING created_at`,
			s.Title, s.Body, now, s.ID).Scan(&s.CreatedAt)
		s.CreatedAt = s.CreatedAt.UTC()
	}
	s.UpdatedAt = now
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return signpost.Errorf(signpost.ENOTFOUND, "no saved reply %d", s.ID)
	case err != nil && isUniqueViolation(err):
		return signpost.Errorf(signpost.ECONFLICT, "a saved reply called %q already exists", s.Title)
	case err != nil:
		return fmt.Errorf("save saved reply: %w", err)
	}
	return nil
}

// DeleteSavedReply removes a saved reply, returning what it was.
func (tx *Tx) DeleteSavedReply(ctx context.Context, id int64) (inbox.SavedReply, error) {
	var s inbox.SavedReply
	err := tx.QueryRow(ctx, `DELETE FROM inbox_saved_replies WHERE id = ? RETURNING id, title, body, created_at, updated_at`, id).
		Scan(&s.ID, &s.Title, &s.Body, &s.CreatedAt, &s.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return s, signpost.Errorf(signpost.ENOTFOUND, "no saved reply %d", id)
	}
	if err != nil {
		return s, fmt.Errorf("delete saved reply %d: %w", id, err)
	}
	return s, nil
}

// InboxStat is how quickly one channel's enquiries in one category were
// answered and resolved over a period.
type InboxStat struct {
	Channel  string
	Category string
	// Answered enquiries and the time from the resident writing to the
	// first reply sent.
	Answered       int
	MedianResponse time.Duration
	P90Response    time.Duration
	// Closed conversations and the time from opening to closing.
	Closed           int
	MedianResolution time.Duration
}

// InboxStats summarises answers and closures since a time, per channel
// and category.
func (db *DB) InboxStats(ctx context.Context, since time.Time) ([]InboxStat, error) {
	type key struct{ channel, category string }
	responses, resolutions := map[key][]time.Duration{}, map[key][]time.Duration{}
	for _, src := range []struct {
		q   string
		out map[key][]time.Duration
	}{
		{`SELECT channel, category, asked_at, answered_at FROM inbox_responses WHERE answered_at >= ?`, responses},
		{`SELECT channel, category, opened_at, closed_at FROM inbox_closures WHERE closed_at >= ?`, resolutions},
	} {
		rows, err := db.query(ctx, src.q, utc(since))
		if err != nil {
			return nil, fmt.Errorf("inbox statistics: %w", err)
		}
		for rows.Next() {
			var k key
			var from, to time.Time
			if err := rows.Scan(&k.channel, &k.category, &from, &to); err != nil {
				rows.Close()
				return nil, fmt.Errorf("inbox statistics: %w", err)
			}
			src.out[k] = append(src.out[k], to.Sub(from))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("inbox statistics: %w", err)
		}
	}
	keys := map[key]bool{}
	for k := range responses {
		keys[k] = true
	}
	for k := range resolutions {
		keys[k] = true
	}
	var out []InboxStat
	for k := range keys {
		r, c := responses[k], resolutions[k]
		out = append(out, InboxStat{Channel: k.channel, Category: k.category,
			Answered: len(r), MedianResponse: quantile(r, 0.5), P90Response: quantile(r, 0.9),
			Closed: len(c), MedianResolution: quantile(c, 0.5)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Channel != out[j].Channel {
			return out[i].Channel < out[j].Channel
		}
		return out[i].Category < out[j].Category
	})
	return out, nil
}

// quantile is the nearest-rank q-quantile of ds, or 0 for none.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	rank := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[max(rank, 0)]
}

// RedactMessage blanks a message's text for good and returns the message
// as it was, so the caller can audit the change (without the text).
func (tx *Tx) RedactMessage(ctx context.Context, id int64) (inbox.Message, error) {
	m, err := scanMessage(tx.QueryRow(ctx, `SELECT `+messageColumns+` FROM inbox_messages WHERE id = ?`+tx.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, signpost.Errorf(signpost.ENOTFOUND, "no message %d", id)
	}
	if err != nil {
		return m, fmt.Errorf("redact message %d: %w", id, err)
	}
	if m.RedactedAt != nil {
		return m, signpost.Errorf(signpost.ECONFLICT, "message %d is already redacted", id)
	}
	if _, err := tx.Exec(ctx, `UPDATE inbox_messages SET text = '', redacted_at = ? WHERE id = ?`, tx.Now(), id); err != nil {
		return m, fmt.Errorf("redact message %d: %w", id, err)
	}
	return m, nil
}

// PurgeCounts says how much a retention run removed or anonymised.
type PurgeCounts struct {
	Conversations int `json:"conversations"`
	Messages      int `json:"messages"`
	Replies       int `json:"replies"`
	Notes         int `json:"notes"`
}

// PurgeConversations applies the retention period to every conversation
// whose last message is older than cutoff and that is not open: with
// anonymise, texts are blanked and the resident's identifiers replaced;
// otherwise the conversation and everything in it is deleted. Response
// and closure statistics keep no personal data and stay.
func (tx *Tx) PurgeConversations(ctx context.Context, cutoff time.Time, anonymise bool) (PurgeCounts, error) {
	var pc PurgeCounts
	rows, err := tx.Query(ctx, `SELECT id FROM inbox_conversations WHERE last_message_at < ? AND status <> 'open' AND author NOT LIKE 'anonymised:%' ORDER BY id`, utc(cutoff))
	if err != nil {
		return pc, fmt.Errorf("purge: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return pc, fmt.Errorf("purge: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return pc, fmt.Errorf("purge: %w", err)
	}
	now := tx.Now()
	count := func(n *int, q string, args ...any) error {
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("purge: %w", err)
		}
		k, _ := res.RowsAffected()
		*n += int(k)
		return nil
	}
	for _, id := range ids {
		var err error
		if anonymise {
			anon := fmt.Sprintf("anonymised:%d", id)
			err = errors.Join(
				count(&pc.Messages, `UPDATE inbox_messages SET text = '', author = ?, author_name = '', thread_ref = '', places = '[]', anonymised_at = ? WHERE conversation_id = ?`, anon, now, id),
				count(&pc.Replies, `UPDATE inbox_replies SET text = '' WHERE conversation_id = ?`, id),
				count(&pc.Notes, `UPDATE inbox_notes SET text = '' WHERE conversation_id = ?`, id),
				count(&pc.Conversations, `UPDATE inbox_conversations SET author = ?, author_name = '', updated_at = ? WHERE id = ?`, anon, now, id))
		} else {
			err = errors.Join(
				count(&pc.Replies, `DELETE FROM inbox_replies WHERE conversation_id = ?`, id),
				count(&pc.Notes, `DELETE FROM inbox_notes WHERE conversation_id = ?`, id),
				count(&pc.Messages, `DELETE FROM inbox_messages WHERE conversation_id = ?`, id),
				count(&pc.Conversations, `DELETE FROM inbox_conversations WHERE id = ?`, id))
		}
		if err != nil {
			return pc, err
		}
	}
	return pc, nil
}

// SubjectData is everything the inbox holds about one resident.
type SubjectData struct {
	Who           string               `json:"who"`
	Conversations []inbox.Conversation `json:"conversations"`
	Messages      []inbox.Message      `json:"messages"`
	Replies       []inbox.Reply        `json:"replies"`
	Notes         []inbox.Note         `json:"notes"`
}

// SubjectData gathers every conversation, message, reply and note about a
// handle or e-mail address (compared without regard to case), for a
// subject-access request.
func (db *DB) SubjectData(ctx context.Context, who string) (SubjectData, error) {
	who = strings.TrimSpace(who)
	if who == "" {
		return SubjectData{}, signpost.Errorf(signpost.EINVALID, "say whose data to export: a handle or an e-mail address")
	}
	d := SubjectData{Who: who}
	rows, err := db.query(ctx, `SELECT `+conversationColumns+` FROM inbox_conversations c
		WHERE LOWER(c.author) = LOWER(?) OR c.id IN (SELECT conversation_id FROM inbox_messages WHERE LOWER(author) = LOWER(?)) ORDER BY c.id`, who, who)
	if err != nil {
		return d, fmt.Errorf("subject access: %w", err)
	}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return d, fmt.Errorf("subject access: %w", err)
		}
		d.Conversations = append(d.Conversations, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("subject access: %w", err)
	}
	for _, c := range d.Conversations {
		ms, err := db.Messages(ctx, c.ID)
		if err != nil {
			return d, err
		}
		rs, err := db.Replies(ctx, c.ID)
		if err != nil {
			return d, err
		}
		ns, err := db.Notes(ctx, c.ID)
		if err != nil {
			return d, err
		}
		d.Messages, d.Replies, d.Notes = append(d.Messages, ms...), append(d.Replies, rs...), append(d.Notes, ns...)
	}
	return d, nil
}

// ClaimEscalations hands out triaged safeguarding messages whose duty
// officer alert has not been recorded and whose claim is older than
// stale: alerts that failed, or whose server died before sending. Each is
// claimed again so one server retries it.
func (db *DB) ClaimEscalations(ctx context.Context, stale time.Duration) ([]inbox.Message, error) {
	cutoff := utc(db.now().Add(-stale))
	candidates, err := db.listMessages(ctx, `SELECT `+messageColumns+` FROM inbox_messages
		WHERE triaged_at IS NOT NULL AND escalated_at IS NULL AND flags LIKE '%safeguarding%' AND triage_claimed_at < ? ORDER BY id LIMIT 50`, cutoff)
	if err != nil || len(candidates) == 0 {
		return nil, err
	}
	return db.claimMessages(ctx, candidates, `UPDATE inbox_messages SET triage_claimed_at = ? WHERE id = ? AND escalated_at IS NULL AND triage_claimed_at < ?`, cutoff)
}
