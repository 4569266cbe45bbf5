package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/risk"
	"github.com/signpost-uk/signpost/workflow"
)

const workflowColumns = `id, notice_id, base_revision, action, state, category, status, places, headline, body, starts, ends,
	channels, risk_level, political, needs_approval, required_role, author_id, submitted_at, approver_id, approved_at,
	return_comment, urgent, review, reviewer_id, reviewed_at, publish_at, published_at, published_revision, version,
	created_at, updated_at`

// InsertWorkflowItem stores a new item and sets its ID, Version and times.
func (tx *Tx) InsertWorkflowItem(ctx context.Context, it *workflow.Item) error {
	now := tx.Now()
	it.CreatedAt, it.UpdatedAt, it.Version = now, now, 1
	args := workflowArgs(it)
	err := tx.QueryRow(ctx, `INSERT INTO workflow_items (notice_id, base_revision, action, state, category, status, places,
		headline, body, starts, ends, channels, risk_level, political, needs_approval, required_role, author_id, submitted_at,
		approver_id, approved_at, return_comment, urgent, review, reviewer_id, reviewed_at, publish_at, published_at,
		published_revision, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		append(args, it.CreatedAt, it.UpdatedAt)...).Scan(&it.ID)
	if err != nil {
		return fmt.Errorf("create workflow item: %w", err)
	}
	return nil
}

// SaveWorkflowItem writes it back if nobody has changed it since it was
// read at version it.Version, and moves it to the next version. Someone
// else's change in between is ECONFLICT, so a form posted over a newer
// edit never silently overwrites it.
func (tx *Tx) SaveWorkflowItem(ctx context.Context, it *workflow.Item) error {
	read := it.Version
	it.Version++
	it.UpdatedAt = tx.Now()
	args := workflowArgs(it)
	res, err := tx.Exec(ctx, `UPDATE workflow_items SET notice_id = ?, base_revision = ?, action = ?, state = ?, category = ?,
		status = ?, places = ?, headline = ?, body = ?, starts = ?, ends = ?, channels = ?, risk_level = ?, political = ?,
		needs_approval = ?, required_role = ?, author_id = ?, submitted_at = ?, approver_id = ?, approved_at = ?,
		return_comment = ?, urgent = ?, review = ?, reviewer_id = ?, reviewed_at = ?, publish_at = ?, published_at = ?,
		published_revision = ?, version = ?, updated_at = ?
		WHERE id = ? AND version = ?`, append(args, it.UpdatedAt, it.ID, read)...)
	if err != nil {
		return fmt.Errorf("save workflow item %d: %w", it.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("save workflow item %d: %w", it.ID, err)
	} else if n != 1 {
		it.Version = read
		return signpost.Errorf(signpost.ECONFLICT, "Someone else changed this notice while you were working on it. Open it again to see their changes.")
	}
	return nil
}

// ClaimDueWorkflowItem moves a scheduled item that is due to published,
// with one conditional UPDATE, and reports whether this transaction won
// it. Two servers on one PostgreSQL database may both try: the second
// waits on the row lock, then finds the state already changed and claims
// nothing, so a scheduled notice is published once.
func (tx *Tx) ClaimDueWorkflowItem(ctx context.Context, id int64, now time.Time) (bool, error) {
	res, err := tx.Exec(ctx, `UPDATE workflow_items SET state = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND state = ? AND publish_at <= ?`, workflow.Published, tx.Now(), id, workflow.Scheduled, now.UTC())
	if err != nil {
		return false, fmt.Errorf("claim scheduled item %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim scheduled item %d: %w", id, err)
	}
	return n == 1, nil
}

func workflowArgs(it *workflow.Item) []any {
	refs := make([]string, len(it.Content.Places))
	for i, p := range it.Content.Places {
		refs[i] = p.String()
	}
	nullID := func(id int64) any {
		if id == 0 {
			return nil
		}
		return id
	}
	nullInt := func(n int) any {
		if n == 0 {
			return nil
		}
		return n
	}
	return []any{nullID(it.NoticeID), it.BaseRevision, it.Action, it.State, it.Content.Category, it.Content.Status,
		strings.Join(refs, " "), it.Content.Headline, it.Content.Body, nullTime(utcPtr(it.Content.Starts)), nullTime(utcPtr(it.Content.Ends)),
		strings.Join(dedupeNames(it.Content.Channels), " "), it.Risk.String(), it.Political, it.NeedsApproval, it.RequiredRole,
		it.AuthorID, nullTime(it.SubmittedAt), nullID(it.ApproverID), nullTime(it.ApprovedAt), it.Comment, it.Urgent,
		it.Review, nullID(it.ReviewerID), nullTime(it.ReviewedAt), nullTime(utcPtr(it.PublishAt)), nullTime(it.PublishedAt),
		nullInt(it.PublishedRevision), it.Version}
}

// WorkflowItem reads one item inside the transaction and, on PostgreSQL,
// locks it until the transaction ends, so two people acting on one item
// take turns.
func (tx *Tx) WorkflowItem(ctx context.Context, id int64) (workflow.Item, error) {
	items, err := scanWorkflowItems(tx.Query(ctx, `SELECT `+workflowColumns+` FROM workflow_items WHERE id = ?`+tx.forUpdate(), id))
	if err != nil {
		return workflow.Item{}, err
	}
	if len(items) == 0 {
		return workflow.Item{}, signpost.Errorf(signpost.ENOTFOUND, "There is no notice draft %d.", id)
	}
	return items[0], nil
}

// WorkflowItem reads one item.
func (db *DB) WorkflowItem(ctx context.Context, id int64) (workflow.Item, error) {
	items, err := scanWorkflowItems(db.query(ctx, `SELECT `+workflowColumns+` FROM workflow_items WHERE id = ?`, id))
	if err != nil {
		return workflow.Item{}, err
	}
	if len(items) == 0 {
		return workflow.Item{}, signpost.Errorf(signpost.ENOTFOUND, "There is no notice draft %d.", id)
	}
	return items[0], nil
}

// WorkflowFilter selects items. Zero values match everything.
type WorkflowFilter struct {
	States   []workflow.State
	AuthorID int64
	NoticeID int64
	Review   workflow.Review
	// DueBy selects scheduled items due at or before this time.
	DueBy time.Time
	Limit int // 0 means 200
}

// WorkflowItems lists matching items, most recently changed first (due
// items soonest first).
func (db *DB) WorkflowItems(ctx context.Context, f WorkflowFilter) ([]workflow.Item, error) {
	q := `SELECT ` + workflowColumns + ` FROM workflow_items`
	var where []string
	var args []any
	if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		for i, s := range f.States {
			marks[i] = "?"
			args = append(args, s)
		}
		where = append(where, `state IN (`+strings.Join(marks, ", ")+`)`)
	}
	if f.AuthorID != 0 {
		where = append(where, `author_id = ?`)
		args = append(args, f.AuthorID)
	}
	if f.NoticeID != 0 {
		where = append(where, `notice_id = ?`)
		args = append(args, f.NoticeID)
	}
	if f.Review != "" {
		where = append(where, `review = ?`)
		args = append(args, f.Review)
	}
	order := ` ORDER BY updated_at DESC, id DESC`
	if !f.DueBy.IsZero() {
		where = append(where, `state = ? AND publish_at <= ?`)
		args = append(args, workflow.Scheduled, f.DueBy.UTC())
		order = ` ORDER BY publish_at, id`
	}
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	q += order + ` LIMIT ` + strconv.Itoa(limit)
	return scanWorkflowItems(db.query(ctx, q, args...))
}

func scanWorkflowItems(rows *sql.Rows, err error) ([]workflow.Item, error) {
	if err != nil {
		return nil, fmt.Errorf("query workflow items: %w", err)
	}
	defer rows.Close()
	var out []workflow.Item
	for rows.Next() {
		var it workflow.Item
		var noticeID, approverID, reviewerID, publishedRev sql.NullInt64
		var places, channels, level string
		var starts, ends, submitted, approved, reviewed, publishAt, published sql.NullTime
		if err := rows.Scan(&it.ID, &noticeID, &it.BaseRevision, &it.Action, &it.State, &it.Content.Category, &it.Content.Status,
			&places, &it.Content.Headline, &it.Content.Body, &starts, &ends, &channels, &level, &it.Political, &it.NeedsApproval,
			&it.RequiredRole, &it.AuthorID, &submitted, &approverID, &approved, &it.Comment, &it.Urgent, &it.Review,
			&reviewerID, &reviewed, &publishAt, &published, &publishedRev, &it.Version, &it.CreatedAt, &it.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan workflow item: %w", err)
		}
		for _, ref := range strings.Fields(places) {
			p, err := signpost.ParsePlaceRef(ref)
			if err != nil {
				return nil, fmt.Errorf("workflow item %d: stored place: %w", it.ID, err)
			}
			it.Content.Places = append(it.Content.Places, p)
		}
		it.Content.Channels = strings.Fields(channels)
		if it.Risk, err = risk.ParseSeverity(level); err != nil {
			return nil, fmt.Errorf("workflow item %d: %w", it.ID, err)
		}
		it.NoticeID, it.ApproverID, it.ReviewerID = noticeID.Int64, approverID.Int64, reviewerID.Int64
		it.PublishedRevision = int(publishedRev.Int64)
		it.Content.Starts, it.Content.Ends = timePtr(starts), timePtr(ends)
		it.SubmittedAt, it.ApprovedAt, it.ReviewedAt = timePtr(submitted), timePtr(approved), timePtr(reviewed)
		it.PublishAt, it.PublishedAt = timePtr(publishAt), timePtr(published)
		it.CreatedAt, it.UpdatedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC()
		out = append(out, it)
	}
	return out, rows.Err()
}

// The names workflow settings are stored under.
const (
	settingApprovalFrom    = "approval_from"
	settingUrgentEnabled   = "urgent_enabled"
	settingPreElectionFrom = "pre_election_from"
	settingPreElectionTo   = "pre_election_to"
	settingPoliticalRole   = "political_role"
)

// WorkflowSettings reads the rules; settings never saved take their safe
// defaults (workflow.Defaults).
func (db *DB) WorkflowSettings(ctx context.Context) (workflow.Settings, error) {
	return readWorkflowSettings(db.query(ctx, `SELECT name, value FROM workflow_settings`))
}

// WorkflowSettings reads the rules inside the transaction.
func (tx *Tx) WorkflowSettings(ctx context.Context) (workflow.Settings, error) {
	return readWorkflowSettings(tx.Query(ctx, `SELECT name, value FROM workflow_settings`))
}

func readWorkflowSettings(rows *sql.Rows, err error) (workflow.Settings, error) {
	s := workflow.Defaults()
	if err != nil {
		return s, fmt.Errorf("read workflow settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return s, fmt.Errorf("read workflow settings: %w", err)
		}
		var bad error
		switch name {
		case settingApprovalFrom:
			s.ApprovalFrom, bad = risk.ParseSeverity(value)
		case settingUrgentEnabled:
			s.UrgentEnabled, bad = strconv.ParseBool(value)
		case settingPoliticalRole:
			s.PoliticalRole = workflow.Role(value)
		case settingPreElectionFrom, settingPreElectionTo:
			var day *time.Time
			if value != "" {
				d, err := time.Parse(time.DateOnly, value)
				day, bad = &d, err
			}
			if name == settingPreElectionFrom {
				s.PreElectionFrom = day
			} else {
				s.PreElectionTo = day
			}
		}
		if bad != nil {
			return workflow.Defaults(), fmt.Errorf("workflow setting %s = %q: %w", name, value, bad)
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("read workflow settings: %w", err)
	}
	return s, s.Validate()
}

// SaveWorkflowSettings stores the rules after checking them.
func (tx *Tx) SaveWorkflowSettings(ctx context.Context, s workflow.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	now := tx.Now()
	for _, kv := range [][2]string{
		{settingApprovalFrom, s.ApprovalFrom.String()},
		{settingUrgentEnabled, strconv.FormatBool(s.UrgentEnabled)},
		{settingPoliticalRole, string(s.PoliticalRole)},
		{settingPreElectionFrom, day(s.PreElectionFrom)},
		{settingPreElectionTo, day(s.PreElectionTo)},
	} {
		_, err := tx.Exec(ctx, `INSERT INTO workflow_settings (name, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, kv[0], kv[1], now)
		if err != nil {
			return fmt.Errorf("save workflow setting %s: %w", kv[0], err)
		}
	}
	return nil
}
