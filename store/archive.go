package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// RevisionKey names one published revision of a notice.
type RevisionKey struct {
	NoticeID int64
	Revision int
}

// ArchiveQuery selects published revisions for the archive. Zero fields
// select everything.
type ArchiveQuery struct {
	From, To time.Time // made at or after From and before To
	Text     string    // in the headline or body, ignoring case
	Category string
	Channel  string // delivered to this channel
	// Only, when not nil, limits the result to these revisions (the
	// archive's author filter resolves to a list of them); an empty,
	// non-nil list selects nothing.
	Only []RevisionKey
	// Before continues a listing after the last revision of the previous
	// batch (newest first), for exports that stream the whole result.
	Before *ArchiveCursor
	Limit  int // 0 means 100
	Offset int
}

// ArchiveCursor is where a newest-first listing stopped.
type ArchiveCursor struct {
	At       time.Time
	NoticeID int64
	Revision int
}

// ArchivedRevision is one published revision with every attempt to
// deliver it.
type ArchivedRevision struct {
	signpost.Notice // this revision; UpdatedAt is when it was published
	Deliveries      []DeliveryAttempt
}

// Cursor is where a listing that ended with r stopped.
func (r ArchivedRevision) Cursor() *ArchiveCursor {
	return &ArchiveCursor{At: r.UpdatedAt, NoticeID: r.ID, Revision: r.Revision}
}

// DeliveryAttempt is one attempt to deliver a revision to a channel.
type DeliveryAttempt struct {
	NoticeID int64
	Revision int
	Channel  string
	Action   string // publish, update or delete
	Outcome  string // DeliveryDelivered, DeliveryRetrying or DeliveryFailed
	Detail   string // the receipt (JSON) or the classified error
	At       time.Time
}

// LogDelivery appends an attempt to the delivery log, which the archive
// reads to say where each revision went. Delivery workers call it for
// every attempt, failed or not; RecordDelivery logs successes itself.
func (db *DB) LogDelivery(ctx context.Context, a DeliveryAttempt) error {
	return db.UpdateQuietly(ctx, func(tx *Tx) error { return tx.LogDelivery(ctx, a) })
}

// LogDelivery appends an attempt inside a larger transaction.
func (tx *Tx) LogDelivery(ctx context.Context, a DeliveryAttempt) error {
	if a.Outcome != DeliveryDelivered && a.Outcome != DeliveryFailed {
		return signpost.Errorf(signpost.EINVALID, "logged delivery outcome %q: want delivered or failed", a.Outcome)
	}
	if a.At.IsZero() {
		a.At = tx.Now()
	}
	_, err := tx.Exec(ctx, `INSERT INTO delivery_log (notice_id, revision, channel, action, outcome, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.NoticeID, a.Revision, a.Channel, a.Action, a.Outcome, a.Detail, utc(a.At))
	if err != nil {
		return fmt.Errorf("log delivery of notice %d revision %d to %s: %w", a.NoticeID, a.Revision, a.Channel, err)
	}
	return nil
}

// archiveWhere builds the WHERE clause shared by listing and counting.
func archiveWhere(q ArchiveQuery) (string, []any) {
	where := []string{"1 = 1"}
	var args []any
	if !q.From.IsZero() {
		where = append(where, `r.updated_at >= ?`)
		args = append(args, utc(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, `r.updated_at < ?`)
		args = append(args, utc(q.To))
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		pat := "%" + likeEscaper.Replace(strings.ToLower(t)) + "%"
		where = append(where, `(LOWER(r.headline) LIKE ? ESCAPE '\' OR LOWER(r.body) LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat)
	}
	if q.Category != "" {
		where = append(where, `r.category = ?`)
		args = append(args, q.Category)
	}
	if q.Channel != "" {
		// The log has every delivery since it existed; deliveries still
		// holds the last one of anything delivered before that.
		where = append(where, `(EXISTS (SELECT 1 FROM delivery_log l WHERE l.notice_id = r.notice_id AND l.revision = r.revision AND l.channel = ? AND l.outcome = 'delivered')
			OR EXISTS (SELECT 1 FROM deliveries d WHERE d.notice_id = r.notice_id AND d.revision = r.revision AND d.channel = ?))`)
		args = append(args, q.Channel, q.Channel)
	}
	if q.Only != nil {
		if len(q.Only) == 0 {
			where = append(where, `1 = 0`)
		} else {
			// A row-value list, not a chain of ORs, which SQLite would
			// refuse past a thousand terms; the casts tell PostgreSQL what
			// the VALUES hold.
			vals := make([]string, len(q.Only))
			for i, k := range q.Only {
				vals[i] = `(CAST(? AS BIGINT), CAST(? AS INTEGER))`
				args = append(args, k.NoticeID, k.Revision)
			}
			where = append(where, `(r.notice_id, r.revision) IN (VALUES `+strings.Join(vals, `, `)+`)`)
		}
	}
	if c := q.Before; c != nil {
		where = append(where, `(r.updated_at < ? OR (r.updated_at = ? AND (r.notice_id < ? OR (r.notice_id = ? AND r.revision < ?))))`)
		args = append(args, utc(c.At), utc(c.At), c.NoticeID, c.NoticeID, c.Revision)
	}
	return strings.Join(where, ` AND `), args
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ArchiveRevisions lists published revisions, newest first, with their
// delivery attempts.
func (db *DB) ArchiveRevisions(ctx context.Context, q ArchiveQuery) ([]ArchivedRevision, error) {
	where, args := archiveWhere(q)
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.query(ctx, `SELECT r.notice_id, r.revision, r.category, r.status, r.places, r.channels, r.headline, r.body, r.starts, r.ends,
		n.published_at, r.updated_at, r.closed_at, r.retracted_at
		FROM notice_revisions r JOIN notices n ON n.id = r.notice_id
		WHERE `+where+` ORDER BY r.updated_at DESC, r.notice_id DESC, r.revision DESC LIMIT ? OFFSET ?`,
		append(args, limit, max(q.Offset, 0))...)
	ns, err := scanNotices(rows, err)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	out := make([]ArchivedRevision, len(ns))
	index := map[RevisionKey]int{}
	ids := map[int64]bool{}
	for i, n := range ns {
		out[i].Notice = n
		index[RevisionKey{n.ID, n.Revision}] = i
		ids[n.ID] = true
	}
	if len(ids) == 0 {
		return out, nil
	}
	attempts, err := db.deliveryAttempts(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, a := range attempts {
		if i, ok := index[RevisionKey{a.NoticeID, a.Revision}]; ok {
			out[i].Deliveries = append(out[i].Deliveries, a)
		}
	}
	return out, nil
}

// deliveryAttempts returns the logged attempts for the notices, oldest
// first, plus the last recorded delivery of any notice and channel the log
// has nothing for (deliveries made before the log existed), plus each
// delivery job now failing or failed, with its classified error.
func (db *DB) deliveryAttempts(ctx context.Context, ids map[int64]bool) ([]DeliveryAttempt, error) {
	var ph []string
	var args []any
	for id := range ids {
		ph = append(ph, "?")
		args = append(args, id)
	}
	in := strings.Join(ph, ", ")
	rows, err := db.query(ctx, `SELECT notice_id, revision, channel, action, outcome, detail, at FROM delivery_log
		WHERE notice_id IN (`+in+`)
		UNION ALL
		SELECT d.notice_id, d.revision, d.channel, d.action, 'delivered', d.receipt, d.delivered_at FROM deliveries d
		WHERE d.notice_id IN (`+in+`) AND NOT EXISTS (SELECT 1 FROM delivery_log l WHERE l.notice_id = d.notice_id AND l.channel = d.channel)
		UNION ALL
		SELECT j.notice_id, j.revision, j.channel, j.action, j.state, j.last_error, j.updated_at FROM delivery_jobs j
		WHERE j.notice_id IN (`+in+`) AND j.state IN ('retrying', 'failed')
		ORDER BY 7, 3`, append(append(args, args...), args...)...)
	if err != nil {
		return nil, fmt.Errorf("archive deliveries: %w", err)
	}
	defer rows.Close()
	var out []DeliveryAttempt
	for rows.Next() {
		var a DeliveryAttempt
		if err := rows.Scan(&a.NoticeID, &a.Revision, &a.Channel, &a.Action, &a.Outcome, &a.Detail, &a.At); err != nil {
			return nil, fmt.Errorf("archive deliveries: %w", err)
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountArchive counts the revisions a query selects, ignoring its limit,
// offset and cursor.
func (db *DB) CountArchive(ctx context.Context, q ArchiveQuery) (int, error) {
	q.Before = nil
	where, args := archiveWhere(q)
	var n int
	err := db.queryRow(ctx, `SELECT COUNT(*) FROM notice_revisions r WHERE `+where, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count archive: %w", err)
	}
	return n, nil
}

// AuditForTargets returns the audit entries about any of the targets, in
// chain order.
func (db *DB) AuditForTargets(ctx context.Context, targets []string) ([]AuditRow, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(targets)), ", ")
	args := make([]any, len(targets))
	for i, t := range targets {
		args[i] = t
	}
	return db.auditRows(ctx, `SELECT seq, at, actor, action, target, before_json, after_json, prev_hash, hash FROM audit_log
		WHERE target IN (`+ph+`) ORDER BY seq`, args...)
}

// AuditByActor returns the entries an actor made about targets starting
// with prefix, in chain order.
func (db *DB) AuditByActor(ctx context.Context, actor, prefix string) ([]AuditRow, error) {
	return db.auditRows(ctx, `SELECT seq, at, actor, action, target, before_json, after_json, prev_hash, hash FROM audit_log
		WHERE actor = ? AND target LIKE ? ESCAPE '\' ORDER BY seq`, actor, likeEscaper.Replace(prefix)+"%")
}

func (db *DB) auditRows(ctx context.Context, q string, args ...any) ([]AuditRow, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	var out []AuditRow
	for rows.Next() {
		var r AuditRow
		if err := rows.Scan(&r.Seq, &r.At, &r.Actor, &r.Action, &r.Target, &r.Before, &r.After, &r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		r.At = r.At.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// ArchiveRetention is how long finished notices are kept.
type ArchiveRetention struct {
	KeepDays  int // 0: for ever
	UpdatedAt *time.Time
	UpdatedBy string
}

const retentionSelect = `SELECT keep_days, updated_at, updated_by FROM archive_retention WHERE id = 1`

func scanRetention(row *sql.Row) (ArchiveRetention, error) {
	var r ArchiveRetention
	var at sql.NullTime
	if err := row.Scan(&r.KeepDays, &at, &r.UpdatedBy); err != nil {
		return r, fmt.Errorf("read retention: %w", err)
	}
	r.UpdatedAt = timePtr(at)
	return r, nil
}

// ArchiveRetention reads the retention setting.
func (db *DB) ArchiveRetention(ctx context.Context) (ArchiveRetention, error) {
	return scanRetention(db.queryRow(ctx, retentionSelect))
}

// SetArchiveRetention changes the retention setting inside tx.
func (tx *Tx) SetArchiveRetention(ctx context.Context, r ArchiveRetention) error {
	_, err := tx.Exec(ctx, `UPDATE archive_retention SET keep_days = ?, updated_at = ?, updated_by = ? WHERE id = 1`,
		r.KeepDays, tx.Now(), r.UpdatedBy)
	if err != nil {
		return fmt.Errorf("set retention: %w", err)
	}
	return nil
}

// ArchiveRetention reads the retention setting inside tx.
func (tx *Tx) ArchiveRetention(ctx context.Context) (ArchiveRetention, error) {
	return scanRetention(tx.QueryRow(ctx, retentionSelect))
}

// ArchivePurgeCounts is what a purge removed (or, in a dry run, would remove).
type ArchivePurgeCounts struct {
	Notices    int64 `json:"notices"`
	Revisions  int64 `json:"revisions"`
	Deliveries int64 `json:"delivery_attempts"`
}

// finishedBefore selects the notices the archive may let go of: closed or
// retracted, and unchanged since cutoff. A notice still live is never
// purged, however old. Nor is the newest notice: SQLite hands a new row
// the largest id plus one, so deleting the newest would let the next
// notice reuse its id, and with it the audit entries and the delivery and
// e-mail bookkeeping of the purged one.
const finishedBefore = `SELECT id FROM notices WHERE (closed_at IS NOT NULL OR retracted_at IS NOT NULL) AND updated_at < ?
	AND id < (SELECT MAX(id) FROM notices)`

// PurgeArchive deletes every notice finished before cutoff with all its
// revisions, places and delivery records, inside tx, and counts them.
// With dryRun it only counts.
func (tx *Tx) PurgeArchive(ctx context.Context, cutoff time.Time, dryRun bool) (ArchivePurgeCounts, error) {
	cutoff = utc(cutoff)
	var c ArchivePurgeCounts
	count := func(q string, n *int64) error {
		return tx.QueryRow(ctx, q, cutoff).Scan(n)
	}
	if err := count(`SELECT COUNT(*) FROM (`+finishedBefore+`) f`, &c.Notices); err != nil {
		return c, fmt.Errorf("purge: count notices: %w", err)
	}
	if err := count(`SELECT COUNT(*) FROM notice_revisions WHERE notice_id IN (`+finishedBefore+`)`, &c.Revisions); err != nil {
		return c, fmt.Errorf("purge: count revisions: %w", err)
	}
	if err := count(`SELECT COUNT(*) FROM delivery_log WHERE notice_id IN (`+finishedBefore+`)`, &c.Deliveries); err != nil {
		return c, fmt.Errorf("purge: count deliveries: %w", err)
	}
	if dryRun || c.Notices == 0 {
		return c, nil
	}
	// Children first: the notice row is what the others hang from.
	// workflow_items holds the drafts behind each published change, with
	// their text, so it goes too.
	for _, table := range []string{"delivery_log", "deliveries", "delivery_jobs", "notice_places", "notice_channels", "workflow_items", "notice_revisions"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE notice_id IN (`+finishedBefore+`)`, cutoff); err != nil {
			return c, fmt.Errorf("purge %s: %w", table, err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM notices WHERE id IN (`+finishedBefore+`)`, cutoff); err != nil {
		return c, fmt.Errorf("purge notices: %w", err)
	}
	return c, nil
}
