package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// CreateNotice publishes a new notice as revision 1.
func (db *DB) CreateNotice(ctx context.Context, in signpost.NoticeInput) (signpost.Notice, error) {
	var n signpost.Notice
	err := db.Update(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.CreateNotice(ctx, in)
		return err
	})
	return n, err
}

// CreateNotice publishes a new notice inside a larger transaction.
func (tx *Tx) CreateNotice(ctx context.Context, in signpost.NoticeInput) (signpost.Notice, error) {
	in.Places = dedupePlaces(in.Places)
	if err := in.Validate(); err != nil {
		return signpost.Notice{}, err
	}
	if err := tx.checkPlaces(ctx, in.Places); err != nil {
		return signpost.Notice{}, err
	}
	now := tx.Now()
	n := signpost.Notice{
		Revision: 1, Category: in.Category, Status: in.Status, Places: in.Places,
		Headline: strings.TrimSpace(in.Headline), Body: strings.TrimSpace(in.Body),
		Starts: utcPtr(in.Starts), Ends: utcPtr(in.Ends), PublishedAt: now, UpdatedAt: now,
	}
	err := tx.QueryRow(ctx, `INSERT INTO notices (revision, category, status, headline, body, starts, ends, published_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n.Revision, n.Category, n.Status, n.Headline, n.Body, nullTime(n.Starts), nullTime(n.Ends), now, now).Scan(&n.ID)
	if err != nil {
		return signpost.Notice{}, fmt.Errorf("create notice: %w", err)
	}
	if err := tx.writeRevision(ctx, n); err != nil {
		return signpost.Notice{}, err
	}
	return n, nil
}

// UpdateNotice replaces a notice's content with a new revision.
func (db *DB) UpdateNotice(ctx context.Context, id int64, in signpost.NoticeInput) (signpost.Notice, error) {
	in.Places = dedupePlaces(in.Places)
	if err := in.Validate(); err != nil {
		return signpost.Notice{}, err
	}
	var n signpost.Notice
	err := db.Update(ctx, func(tx *Tx) error {
		cur, err := tx.currentNotice(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.checkPlaces(ctx, in.Places); err != nil {
			return err
		}
		n = cur
		n.Revision++
		n.Category, n.Status, n.Places = in.Category, in.Status, in.Places
		n.Headline, n.Body = strings.TrimSpace(in.Headline), strings.TrimSpace(in.Body)
		n.Starts, n.Ends = utcPtr(in.Starts), utcPtr(in.Ends)
		n.UpdatedAt = tx.Now()
		return tx.saveRevision(ctx, n)
	})
	return n, err
}

// CloseNotice marks a notice's disruption as over, as a new revision.
// Closing a closed notice is a conflict, so a retried close is harmless.
func (db *DB) CloseNotice(ctx context.Context, id int64) (signpost.Notice, error) {
	var n signpost.Notice
	err := db.Update(ctx, func(tx *Tx) error {
		cur, err := tx.currentNotice(ctx, id)
		if err != nil {
			return err
		}
		if cur.ClosedAt != nil {
			return signpost.Errorf(signpost.ECONFLICT, "notice %d was already closed at %s", id, cur.ClosedAt.Format(time.RFC3339))
		}
		n = cur
		n.Revision++
		now := tx.Now()
		n.UpdatedAt, n.ClosedAt = now, &now
		return tx.saveRevision(ctx, n)
	})
	return n, err
}

func (tx *Tx) saveRevision(ctx context.Context, n signpost.Notice) error {
	_, err := tx.Exec(ctx, `UPDATE notices SET revision = ?, category = ?, status = ?, headline = ?, body = ?,
		starts = ?, ends = ?, updated_at = ?, closed_at = ? WHERE id = ?`,
		n.Revision, n.Category, n.Status, n.Headline, n.Body, nullTime(n.Starts), nullTime(n.Ends),
		n.UpdatedAt, nullTime(n.ClosedAt), n.ID)
	if err != nil {
		return fmt.Errorf("update notice %d: %w", n.ID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM notice_places WHERE notice_id = ?`, n.ID); err != nil {
		return err
	}
	return tx.writeRevision(ctx, n)
}

func (tx *Tx) writeRevision(ctx context.Context, n signpost.Notice) error {
	refs := make([]string, len(n.Places))
	for i, p := range n.Places {
		refs[i] = p.String()
		if _, err := tx.Exec(ctx, `INSERT INTO notice_places (notice_id, kind, ref) VALUES (?, ?, ?)`, n.ID, p.Kind, p.ID); err != nil {
			return fmt.Errorf("notice %d place %s: %w", n.ID, p, err)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO notice_revisions (notice_id, revision, category, status, places, headline, body, starts, ends, updated_at, closed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.ID, n.Revision, n.Category, n.Status, strings.Join(refs, " "), n.Headline, n.Body,
		nullTime(n.Starts), nullTime(n.Ends), n.UpdatedAt, nullTime(n.ClosedAt))
	if err != nil {
		return fmt.Errorf("notice %d revision %d: %w", n.ID, n.Revision, err)
	}
	return nil
}

// checkPlaces reports the first place that the council does not hold.
func (tx *Tx) checkPlaces(ctx context.Context, places []signpost.PlaceRef) error {
	table := map[signpost.PlaceKind]string{
		signpost.PlaceSchool: "schools", signpost.PlaceRoute: "routes",
		signpost.PlaceRound: "rounds", signpost.PlaceWard: "wards",
	}
	col := map[signpost.PlaceKind]string{
		signpost.PlaceSchool: "urn", signpost.PlaceRoute: "id",
		signpost.PlaceRound: "id", signpost.PlaceWard: "code",
	}
	for _, p := range places {
		if p.Kind == signpost.PlaceAll {
			continue
		}
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM `+table[p.Kind]+` WHERE `+col[p.Kind]+` = ?`, p.ID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return signpost.Errorf(signpost.EINVALID, "place %s: no such %s", p, p.Kind)
		}
		if err != nil {
			return fmt.Errorf("check place %s: %w", p, err)
		}
	}
	return nil
}

func (tx *Tx) currentNotice(ctx context.Context, id int64) (signpost.Notice, error) {
	ns, err := scanNotices(tx.Query(ctx, noticeSelect+` WHERE n.id = ?`, id))
	if err != nil {
		return signpost.Notice{}, err
	}
	if len(ns) == 0 {
		return signpost.Notice{}, signpost.Errorf(signpost.ENOTFOUND, "no notice %d", id)
	}
	return ns[0], nil
}

// noticeSelect reads the current revision with its places as the
// space-separated references stored with the revision.
const noticeSelect = `SELECT n.id, n.revision, n.category, n.status, r.places, n.headline, n.body, n.starts, n.ends,
	n.published_at, n.updated_at, n.closed_at
	FROM notices n JOIN notice_revisions r ON r.notice_id = n.id AND r.revision = n.revision`

// Notice returns the current revision of a notice.
func (db *DB) Notice(ctx context.Context, id int64) (signpost.Notice, error) {
	ns, err := scanNotices(db.query(ctx, noticeSelect+` WHERE n.id = ?`, id))
	if err != nil {
		return signpost.Notice{}, err
	}
	if len(ns) == 0 {
		return signpost.Notice{}, signpost.Errorf(signpost.ENOTFOUND, "no notice %d", id)
	}
	return ns[0], nil
}

// Notices lists current revisions, most recently updated first.
func (db *DB) Notices(ctx context.Context, f signpost.NoticeFilter) ([]signpost.Notice, error) {
	q := noticeSelect
	var where []string
	var args []any
	if f.Category != "" {
		where = append(where, `n.category = ?`)
		args = append(args, f.Category)
	}
	if !f.IncludeClosed {
		where = append(where, `n.closed_at IS NULL`)
	}
	if f.Place != nil {
		where = append(where, `n.id IN (SELECT notice_id FROM notice_places WHERE kind = 'all' OR (kind = ? AND ref = ?))`)
		args = append(args, f.Place.Kind, f.Place.ID)
	}
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY n.updated_at DESC, n.id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	return scanNotices(db.query(ctx, q, args...))
}

// NoticeRevisions returns every revision of a notice, oldest first.
func (db *DB) NoticeRevisions(ctx context.Context, id int64) ([]signpost.Notice, error) {
	rows, err := db.query(ctx, `SELECT r.notice_id, r.revision, r.category, r.status, r.places, r.headline, r.body, r.starts, r.ends,
		n.published_at, r.updated_at, r.closed_at
		FROM notice_revisions r JOIN notices n ON n.id = r.notice_id WHERE r.notice_id = ? ORDER BY r.revision`, id)
	ns, err := scanNotices(rows, err)
	if err != nil {
		return nil, err
	}
	if len(ns) == 0 {
		return nil, signpost.Errorf(signpost.ENOTFOUND, "no notice %d", id)
	}
	return ns, nil
}

func scanNotices(rows *sql.Rows, err error) ([]signpost.Notice, error) {
	if err != nil {
		return nil, fmt.Errorf("query notices: %w", err)
	}
	defer rows.Close()
	var out []signpost.Notice
	for rows.Next() {
		var n signpost.Notice
		var places string
		var starts, ends, closed sql.NullTime
		if err := rows.Scan(&n.ID, &n.Revision, &n.Category, &n.Status, &places, &n.Headline, &n.Body,
			&starts, &ends, &n.PublishedAt, &n.UpdatedAt, &closed); err != nil {
			return nil, fmt.Errorf("scan notice: %w", err)
		}
		for _, ref := range strings.Fields(places) {
			p, err := signpost.ParsePlaceRef(ref)
			if err != nil {
				return nil, fmt.Errorf("notice %d: stored place: %w", n.ID, err)
			}
			n.Places = append(n.Places, p)
		}
		n.PublishedAt, n.UpdatedAt = n.PublishedAt.UTC(), n.UpdatedAt.UTC()
		n.Starts, n.Ends, n.ClosedAt = timePtr(starts), timePtr(ends), timePtr(closed)
		out = append(out, n)
	}
	return out, rows.Err()
}

func dedupePlaces(in []signpost.PlaceRef) []signpost.PlaceRef {
	seen := map[signpost.PlaceRef]bool{}
	var out []signpost.PlaceRef
	for _, p := range in {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
