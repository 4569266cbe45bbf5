package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// DeliveryJob is one queued delivery of a revision to a channel and how
// it is going.
type DeliveryJob struct {
	NoticeID  int64
	Revision  int
	Channel   string
	Action    string
	State     string // one of DeliveryStates
	Attempts  int
	LastError string
	QueuedAt  time.Time
	UpdatedAt time.Time
	// Headline is the revision's headline; DeliveryJobs fills it.
	Headline string
	// Receipt is where the delivery went (a channel.Receipt as JSON),
	// from the delivery log; DeliveryJobs fills it once delivered.
	Receipt string
}

// The states of a DeliveryJob.
const (
	DeliveryQueued    = "queued"
	DeliveryRetrying  = "retrying"
	DeliveryDelivered = "delivered"
	DeliverySkipped   = "skipped" // superseded by a later revision, or retracted meanwhile
	DeliveryFailed    = "failed"  // a permanent error: the job was cancelled
	// DeliveryDiscarded is a delivery whose every attempt failed with a
	// temporary error: the queue gave up on it.
	DeliveryDiscarded = "discarded"
)

// DeliveryStates lists every state, in the order a delivery moves.
var DeliveryStates = []string{DeliveryQueued, DeliveryRetrying, DeliveryDelivered, DeliverySkipped, DeliveryFailed, DeliveryDiscarded}

// SetDeliveryState records how a delivery is going. A delivery that
// finished (delivered, skipped, failed or discarded) is not moved back by
// a late report of an earlier attempt; RequeueDelivery reopens one.
func (db *DB) SetDeliveryState(ctx context.Context, j DeliveryJob) error {
	if len(j.LastError) > 1000 {
		j.LastError = j.LastError[:1000]
	}
	return db.UpdateQuietly(ctx, func(tx *Tx) error {
		now := tx.Now()
		_, err := tx.Exec(ctx, `INSERT INTO delivery_jobs (notice_id, revision, channel, action, state, attempts, last_error, queued_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (notice_id, revision, channel, action) DO UPDATE SET state = excluded.state, attempts = excluded.attempts,
				last_error = excluded.last_error, updated_at = excluded.updated_at
			WHERE delivery_jobs.state NOT IN ('delivered', 'skipped', 'failed', 'discarded') OR excluded.state <> 'retrying'`,
			j.NoticeID, j.Revision, j.Channel, j.Action, j.State, j.Attempts, j.LastError, now, now)
		if err != nil {
			return fmt.Errorf("record delivery state of notice %d to %s: %w", j.NoticeID, j.Channel, err)
		}
		return nil
	})
}

// pendingDelivery is a delivery still to be made or retried.
const pendingDelivery = `state IN ('queued', 'retrying')`

// PendingDeliveries counts a channel's deliveries still to be made or
// retried.
func (db *DB) PendingDeliveries(ctx context.Context, channel string) (int, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM delivery_jobs WHERE channel = ? AND `+pendingDelivery, channel).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending deliveries to %s: %w", channel, err)
	}
	return n, nil
}

// SkipPendingDeliveries marks a channel's pending deliveries skipped, with
// why, and reports how many there were. Their jobs still run once more
// and, finding no channel, do nothing (package delivery).
func (tx *Tx) SkipPendingDeliveries(ctx context.Context, channel, reason string) (int, error) {
	res, err := tx.Exec(ctx, `UPDATE delivery_jobs SET state = ?, last_error = ?, updated_at = ? WHERE channel = ? AND `+pendingDelivery,
		DeliverySkipped, reason, tx.Now(), channel)
	if err != nil {
		return 0, fmt.Errorf("skip pending deliveries to %s: %w", channel, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DeliveryFilter narrows DeliveryJobs; zero values match everything.
type DeliveryFilter struct {
	NoticeID int64
	Channel  string
	State    string
	// From and To bound when the delivery was queued: at or after From,
	// before To.
	From, To time.Time
	Limit    int // default 100
	Offset   int
}

func (f DeliveryFilter) where() (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg any) { where, args = append(where, cond), append(args, arg) }
	if f.NoticeID != 0 {
		add(`j.notice_id = ?`, f.NoticeID)
	}
	if f.Channel != "" {
		add(`j.channel = ?`, f.Channel)
	}
	if f.State != "" {
		add(`j.state = ?`, f.State)
	}
	if !f.From.IsZero() {
		add(`j.queued_at >= ?`, utc(f.From))
	}
	if !f.To.IsZero() {
		add(`j.queued_at < ?`, utc(f.To))
	}
	if len(where) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(where, ` AND `), args
}

// DeliveryJobs lists deliveries, most recently changed first, with the
// headline of each revision and, for those delivered, the receipt.
func (db *DB) DeliveryJobs(ctx context.Context, f DeliveryFilter) ([]DeliveryJob, error) {
	where, args := f.where()
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := `SELECT j.notice_id, j.revision, j.channel, j.action, j.state, j.attempts, j.last_error, j.queued_at, j.updated_at,
			COALESCE(r.headline, ''),
			COALESCE((SELECT l.detail FROM delivery_log l WHERE l.notice_id = j.notice_id AND l.revision = j.revision
				AND l.channel = j.channel AND l.action = j.action AND l.outcome = 'delivered' ORDER BY l.id DESC LIMIT 1), '')
		FROM delivery_jobs j LEFT JOIN notice_revisions r ON r.notice_id = j.notice_id AND r.revision = j.revision` + where +
		` ORDER BY j.updated_at DESC, j.notice_id DESC, j.revision DESC, j.channel, j.action LIMIT ? OFFSET ?`
	rows, err := db.query(ctx, q, append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []DeliveryJob
	for rows.Next() {
		var j DeliveryJob
		if err := rows.Scan(&j.NoticeID, &j.Revision, &j.Channel, &j.Action, &j.State, &j.Attempts, &j.LastError, &j.QueuedAt, &j.UpdatedAt,
			&j.Headline, &j.Receipt); err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		j.QueuedAt, j.UpdatedAt = j.QueuedAt.UTC(), j.UpdatedAt.UTC()
		out = append(out, j)
	}
	return out, rows.Err()
}

// CountDeliveryJobs counts the deliveries a filter selects, ignoring its
// limit and offset.
func (db *DB) CountDeliveryJobs(ctx context.Context, f DeliveryFilter) (int, error) {
	where, args := f.where()
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM delivery_jobs j`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count deliveries: %w", err)
	}
	return n, nil
}

// DeliveryJob reads one delivery inside a transaction, or ENOTFOUND.
func (tx *Tx) DeliveryJob(ctx context.Context, noticeID int64, revision int, channel, action string) (DeliveryJob, error) {
	j := DeliveryJob{NoticeID: noticeID, Revision: revision, Channel: channel, Action: action}
	err := tx.QueryRow(ctx, `SELECT state, attempts, last_error, queued_at, updated_at FROM delivery_jobs
		WHERE notice_id = ? AND revision = ? AND channel = ? AND action = ?`, noticeID, revision, channel, action).
		Scan(&j.State, &j.Attempts, &j.LastError, &j.QueuedAt, &j.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return DeliveryJob{}, signpost.Errorf(signpost.ENOTFOUND, "There is no delivery of revision %d of notice %d to %s.", revision, noticeID, channel)
	}
	if err != nil {
		return DeliveryJob{}, fmt.Errorf("read delivery of notice %d to %s: %w", noticeID, channel, err)
	}
	j.QueuedAt, j.UpdatedAt = j.QueuedAt.UTC(), j.UpdatedAt.UTC()
	return j, nil
}

// RequeueDelivery marks a finished delivery queued again (a person asked
// for another try), keeping its count of attempts and its last error until
// the next attempt reports. It changes the row only while it is still in
// state from, and reports whether it did, so of two people asking at once
// one wins.
func (tx *Tx) RequeueDelivery(ctx context.Context, noticeID int64, revision int, channel, action, from string) (bool, error) {
	res, err := tx.Exec(ctx, `UPDATE delivery_jobs SET state = ?, updated_at = ?
		WHERE notice_id = ? AND revision = ? AND channel = ? AND action = ? AND state = ?`,
		DeliveryQueued, tx.Now(), noticeID, revision, channel, action, from)
	if err != nil {
		return false, fmt.Errorf("queue delivery of notice %d to %s again: %w", noticeID, channel, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
