// Package publish is the one way staff changes reach residents: it carries
// out the approval workflow's decisions (package workflow) against the store
// and writes every transition to the audit log in the same transaction, so
// a change and the record of who made it commit or fail together.
package publish

import (
	"context"
	"strconv"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/store"
)

// NoticeRecord is how a published notice appears in the audit log's
// before and after: everything residents saw, so the log alone answers
// "what exactly did we say, and when".
type NoticeRecord struct {
	ID          int64      `json:"id"`
	Revision    int        `json:"revision"`
	Category    string     `json:"category"`
	Status      string     `json:"status"`
	Places      []string   `json:"places"`
	Headline    string     `json:"headline"`
	Body        string     `json:"body,omitempty"`
	Starts      *time.Time `json:"starts,omitempty"`
	Ends        *time.Time `json:"ends,omitempty"`
	Channels    []string   `json:"channels,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	RetractedAt *time.Time `json:"retracted_at,omitempty"`
}

// RecordOf describes n for the audit log.
func RecordOf(n signpost.Notice) *NoticeRecord {
	r := &NoticeRecord{ID: n.ID, Revision: n.Revision, Category: string(n.Category), Status: string(n.Status),
		Headline: n.Headline, Body: n.Body, Starts: n.Starts, Ends: n.Ends, Channels: n.Channels,
		ClosedAt: n.ClosedAt, RetractedAt: n.RetractedAt}
	for _, p := range n.Places {
		r.Places = append(r.Places, p.String())
	}
	return r
}

// NoticeTarget names a notice in the audit log.
func NoticeTarget(id int64) string { return "notice:" + strconv.FormatInt(id, 10) }

// Change applies one published change (the store's Tx CreateNotice,
// UpdateNotice, CloseNotice or RetractNotice) and audits it with the
// notice before and after. id is 0 for a new notice. It is for changes
// made outside the workflow: the command line and the demo.
func Change(ctx context.Context, db *store.DB, actor string, action audit.Action, id int64, change func(tx *store.Tx) (signpost.Notice, error)) (signpost.Notice, error) {
	var n signpost.Notice
	err := db.Update(ctx, func(tx *store.Tx) error {
		var before any
		if id != 0 {
			cur, err := tx.Notice(ctx, id)
			if err != nil {
				return err
			}
			before = RecordOf(cur)
		}
		var err error
		if n, err = change(tx); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: action, Target: NoticeTarget(n.ID), Before: before, After: RecordOf(n)})
		return err
	})
	return n, err
}
