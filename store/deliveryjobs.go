package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DeliveryJob is one queued delivery of a revision to a channel and how
// it is going.
type DeliveryJob struct {
	NoticeID  int64
	Revision  int
	Channel   string
	Action    string
	State     string // DeliveryQueued, DeliveryRetrying, DeliveryDelivered, DeliverySkipped or DeliveryFailed
	Attempts  int
	LastError string
	QueuedAt  time.Time
	UpdatedAt time.Time
}

// The states of a DeliveryJob.
const (
	DeliveryQueued    = "queued"
	DeliveryRetrying  = "retrying"
	DeliveryDelivered = "delivered"
	DeliverySkipped   = "skipped"
	DeliveryFailed    = "failed"
)

// SetDeliveryState records how a delivery is going. A delivery that
// finished (delivered, skipped or failed) is not moved back by a late
// report of an earlier attempt.
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
			WHERE delivery_jobs.state NOT IN ('delivered', 'skipped', 'failed') OR excluded.state <> 'retrying'`,
			j.NoticeID, j.Revision, j.Channel, j.Action, j.State, j.Attempts, j.LastError, now, now)
		if err != nil {
			return fmt.Errorf("record delivery state of notice %d to %s: %w", j.NoticeID, j.Channel, err)
		}
		return nil
	})
}

// DeliveryFilter narrows DeliveryJobs; zero values match everything.
type DeliveryFilter struct {
	NoticeID int64
	Channel  string
	Limit    int // default 100
}

// DeliveryJobs lists deliveries, most recently changed first.
func (db *DB) DeliveryJobs(ctx context.Context, f DeliveryFilter) ([]DeliveryJob, error) {
	q := `SELECT notice_id, revision, channel, action, state, attempts, last_error, queued_at, updated_at FROM delivery_jobs`
	var where []string
	var args []any
	if f.NoticeID != 0 {
		where, args = append(where, `notice_id = ?`), append(args, f.NoticeID)
	}
	if f.Channel != "" {
		where, args = append(where, `channel = ?`), append(args, f.Channel)
	}
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += fmt.Sprintf(` ORDER BY updated_at DESC, notice_id DESC, revision DESC, channel LIMIT %d`, f.Limit)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []DeliveryJob
	for rows.Next() {
		var j DeliveryJob
		if err := rows.Scan(&j.NoticeID, &j.Revision, &j.Channel, &j.Action, &j.State, &j.Attempts, &j.LastError, &j.QueuedAt, &j.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		j.QueuedAt, j.UpdatedAt = j.QueuedAt.UTC(), j.UpdatedAt.UTC()
		out = append(out, j)
	}
	return out, rows.Err()
}
