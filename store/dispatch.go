package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// The kinds of published change, as the dispatcher sees a revision.
const (
	ChangeCreate  = "create"
	ChangeUpdate  = "update"
	ChangeClose   = "close"
	ChangeRetract = "retract"
)

// PublishedRevision is a revision whose channel deliveries are not yet
// queued.
type PublishedRevision struct {
	NoticeID int64
	Revision int
	Change   string // ChangeCreate, ChangeUpdate, ChangeClose or ChangeRetract
	// Channels are the channels this revision was published to.
	Channels []string
	// Live are the channels holding an earlier post of the notice that
	// has not been deleted, and those the previous revision went to
	// (whose posts may still be on their way).
	Live []string
}

// dispatchLock serialises dispatchers of several processes on one
// PostgreSQL database; SQLite transactions here already hold the only
// write lock.
const dispatchLock = 7234010

// LockDispatch makes this transaction the only dispatcher until it ends.
func (tx *Tx) LockDispatch(ctx context.Context) error {
	if tx.Engine() != Postgres {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, dispatchLock); err != nil {
		return fmt.Errorf("lock dispatcher: %w", err)
	}
	return nil
}

// UndispatchedRevisions returns up to limit published revisions whose
// deliveries are not yet queued, oldest first.
func (tx *Tx) UndispatchedRevisions(ctx context.Context, limit int) ([]PublishedRevision, error) {
	rows, err := tx.Query(ctx, `SELECT r.notice_id, r.revision, r.channels, r.closed_at IS NOT NULL, r.retracted_at IS NOT NULL,
			p.revision IS NOT NULL AND p.closed_at IS NOT NULL, COALESCE(p.channels, '')
		FROM notice_revisions r
		LEFT JOIN delivery_dispatch d ON d.notice_id = r.notice_id AND d.revision = r.revision
		LEFT JOIN notice_revisions p ON p.notice_id = r.notice_id AND p.revision = r.revision - 1
		WHERE d.notice_id IS NULL
		ORDER BY r.updated_at, r.notice_id, r.revision LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("undispatched revisions: %w", err)
	}
	var out []PublishedRevision
	var before [][]string
	for rows.Next() {
		var pr PublishedRevision
		var channels, prev string
		var closed, retracted, wasClosed bool
		if err := rows.Scan(&pr.NoticeID, &pr.Revision, &channels, &closed, &retracted, &wasClosed, &prev); err != nil {
			rows.Close()
			return nil, fmt.Errorf("undispatched revisions: %w", err)
		}
		pr.Channels = strings.Fields(channels)
		switch {
		case retracted:
			pr.Change = ChangeRetract
		case pr.Revision == 1:
			pr.Change = ChangeCreate
		case closed && !wasClosed:
			pr.Change = ChangeClose
		default:
			pr.Change = ChangeUpdate
		}
		out = append(out, pr)
		before = append(before, strings.Fields(prev))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		live, err := tx.liveChannels(ctx, out[i].NoticeID)
		if err != nil {
			return nil, err
		}
		out[i].Live = slices.Compact(slices.Sorted(slices.Values(slices.Concat(live, before[i]))))
	}
	return out, nil
}

func (tx *Tx) liveChannels(ctx context.Context, noticeID int64) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT channel FROM deliveries WHERE notice_id = ? AND action <> 'delete' ORDER BY channel`, noticeID)
	if err != nil {
		return nil, fmt.Errorf("live deliveries of notice %d: %w", noticeID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// MarkDispatched records that a revision's deliveries are queued, with a
// row per delivery. Marking twice changes nothing.
func (tx *Tx) MarkDispatched(ctx context.Context, noticeID int64, revision int, jobs []DeliveryJob) error {
	now := tx.Now()
	if _, err := tx.Exec(ctx, `INSERT INTO delivery_dispatch (notice_id, revision, dispatched_at) VALUES (?, ?, ?)
		ON CONFLICT (notice_id, revision) DO NOTHING`, noticeID, revision, now); err != nil {
		return fmt.Errorf("mark notice %d revision %d dispatched: %w", noticeID, revision, err)
	}
	for _, j := range jobs {
		if _, err := tx.Exec(ctx, `INSERT INTO delivery_jobs (notice_id, revision, channel, action, state, attempts, last_error, queued_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, '', ?, ?) ON CONFLICT (notice_id, revision, channel, action) DO NOTHING`,
			j.NoticeID, j.Revision, j.Channel, j.Action, DeliveryQueued, now, now); err != nil {
			return fmt.Errorf("record delivery of notice %d to %s: %w", j.NoticeID, j.Channel, err)
		}
	}
	return nil
}
