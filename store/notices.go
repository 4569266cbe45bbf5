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
	in.Places, in.Channels = dedupePlaces(in.Places), dedupeNames(in.Channels)
	if err := in.Validate(); err != nil {
		return signpost.Notice{}, err
	}
	if err := tx.checkPlaces(ctx, in.Places); err != nil {
		return signpost.Notice{}, err
	}
	if err := tx.checkChannels(ctx, in.Channels); err != nil {
		return signpost.Notice{}, err
	}
	now := tx.Now()
	n := signpost.Notice{
		Revision: 1, Category: in.Category, Status: in.Status, Places: in.Places, Channels: in.Channels,
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
	var n signpost.Notice
	err := db.Update(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.UpdateNotice(ctx, id, in)
		return err
	})
	return n, err
}

// UpdateNotice replaces a notice's content inside a larger transaction.
// A retracted notice cannot be changed.
func (tx *Tx) UpdateNotice(ctx context.Context, id int64, in signpost.NoticeInput) (signpost.Notice, error) {
	in.Places, in.Channels = dedupePlaces(in.Places), dedupeNames(in.Channels)
	if err := in.Validate(); err != nil {
		return signpost.Notice{}, err
	}
	cur, err := tx.changeableNotice(ctx, id)
	if err != nil {
		return signpost.Notice{}, err
	}
	if err := tx.checkPlaces(ctx, in.Places); err != nil {
		return signpost.Notice{}, err
	}
	if err := tx.checkChannels(ctx, in.Channels); err != nil {
		return signpost.Notice{}, err
	}
	n := cur
	n.Revision++
	n.Category, n.Status, n.Places, n.Channels = in.Category, in.Status, in.Places, in.Channels
	n.Headline, n.Body = strings.TrimSpace(in.Headline), strings.TrimSpace(in.Body)
	n.Starts, n.Ends = utcPtr(in.Starts), utcPtr(in.Ends)
	n.UpdatedAt = tx.Now()
	return n, tx.saveRevision(ctx, n)
}

// CloseNotice marks a notice's disruption as over, as a new revision.
// Closing a closed notice is a conflict, so a retried close is harmless.
func (db *DB) CloseNotice(ctx context.Context, id int64) (signpost.Notice, error) {
	var n signpost.Notice
	err := db.Update(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.CloseNotice(ctx, id)
		return err
	})
	return n, err
}

// CloseNotice closes a notice inside a larger transaction.
func (tx *Tx) CloseNotice(ctx context.Context, id int64) (signpost.Notice, error) {
	cur, err := tx.changeableNotice(ctx, id)
	if err != nil {
		return signpost.Notice{}, err
	}
	if cur.ClosedAt != nil {
		return signpost.Notice{}, signpost.Errorf(signpost.ECONFLICT, "notice %d was already closed at %s", id, cur.ClosedAt.Format(time.RFC3339))
	}
	n := cur
	n.Revision++
	now := tx.Now()
	n.UpdatedAt, n.ClosedAt = now, &now
	return n, tx.saveRevision(ctx, n)
}

// RetractNotice withdraws a notice as a new revision with retracted_at set.
// Retracting twice is a conflict, so a retried retraction is harmless. A
// closed notice may still be retracted: closing says the disruption is
// over, retracting says the notice was wrong.
func (db *DB) RetractNotice(ctx context.Context, id int64) (signpost.Notice, error) {
	var n signpost.Notice
	err := db.Update(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.RetractNotice(ctx, id)
		return err
	})
	return n, err
}

// RetractNotice retracts a notice inside a larger transaction.
func (tx *Tx) RetractNotice(ctx context.Context, id int64) (signpost.Notice, error) {
	n, err := tx.changeableNotice(ctx, id)
	if err != nil {
		return signpost.Notice{}, err
	}
	n.Revision++
	now := tx.Now()
	n.UpdatedAt, n.RetractedAt = now, &now
	return n, tx.saveRevision(ctx, n)
}

// changeableNotice reads the current revision for a change, refusing a
// retracted notice: once withdrawn, a notice stays withdrawn.
func (tx *Tx) changeableNotice(ctx context.Context, id int64) (signpost.Notice, error) {
	cur, err := tx.currentNotice(ctx, id)
	if err != nil {
		return signpost.Notice{}, err
	}
	if cur.RetractedAt != nil {
		return signpost.Notice{}, signpost.Errorf(signpost.ECONFLICT, "notice %d was retracted at %s and cannot be changed", id, cur.RetractedAt.Format(time.RFC3339))
	}
	return cur, nil
}

func (tx *Tx) saveRevision(ctx context.Context, n signpost.Notice) error {
	_, err := tx.Exec(ctx, `UPDATE notices SET revision = ?, category = ?, status = ?, headline = ?, body = ?,
		starts = ?, ends = ?, updated_at = ?, closed_at = ?, retracted_at = ? WHERE id = ?`,
		n.Revision, n.Category, n.Status, n.Headline, n.Body, nullTime(n.Starts), nullTime(n.Ends),
		n.UpdatedAt, nullTime(n.ClosedAt), nullTime(n.RetractedAt), n.ID)
	if err != nil {
		return fmt.Errorf("update notice %d: %w", n.ID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM notice_places WHERE notice_id = ?`, n.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM notice_channels WHERE notice_id = ?`, n.ID); err != nil {
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
	for _, c := range n.Channels {
		if _, err := tx.Exec(ctx, `INSERT INTO notice_channels (notice_id, channel) VALUES (?, ?)`, n.ID, c); err != nil {
			return fmt.Errorf("notice %d channel %s: %w", n.ID, c, err)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO notice_revisions (notice_id, revision, category, status, places, channels, headline, body, starts, ends, updated_at, closed_at, retracted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.ID, n.Revision, n.Category, n.Status, strings.Join(refs, " "), strings.Join(n.Channels, " "), n.Headline, n.Body,
		nullTime(n.Starts), nullTime(n.Ends), n.UpdatedAt, nullTime(n.ClosedAt), nullTime(n.RetractedAt))
	if err != nil {
		return fmt.Errorf("notice %d revision %d: %w", n.ID, n.Revision, err)
	}
	return nil
}

// CheckNoticeInput checks content as CreateNotice would, without
// publishing it: the fields, and that every place and channel exists. The
// workflow checks drafts with it, so an author learns of a mistake when
// saving rather than when publishing.
func (tx *Tx) CheckNoticeInput(ctx context.Context, in signpost.NoticeInput) error {
	in.Places, in.Channels = dedupePlaces(in.Places), dedupeNames(in.Channels)
	if err := in.Validate(); err != nil {
		return err
	}
	if err := tx.checkPlaces(ctx, in.Places); err != nil {
		return err
	}
	return tx.checkChannels(ctx, in.Channels)
}

// checkChannels reports the first channel name not in the channels table.
func (tx *Tx) checkChannels(ctx context.Context, names []string) error {
	for _, name := range names {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM channels WHERE name = ?`, name).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return signpost.Errorf(signpost.EINVALID, "channel %q: no such channel (see signpost channel list)", name)
		}
		if err != nil {
			return fmt.Errorf("check channel %s: %w", name, err)
		}
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

// Notice reads the current revision of a notice inside the transaction.
func (tx *Tx) Notice(ctx context.Context, id int64) (signpost.Notice, error) {
	return tx.currentNotice(ctx, id)
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
const noticeSelect = `SELECT n.id, n.revision, n.category, n.status, r.places, r.channels, n.headline, n.body, n.starts, n.ends,
	n.published_at, n.updated_at, n.closed_at, n.retracted_at
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
	if !f.IncludeRetracted {
		where = append(where, `n.retracted_at IS NULL`)
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
	rows, err := db.query(ctx, `SELECT r.notice_id, r.revision, r.category, r.status, r.places, r.channels, r.headline, r.body, r.starts, r.ends,
		n.published_at, r.updated_at, r.closed_at, r.retracted_at
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
		var places, channels string
		var starts, ends, closed, retracted sql.NullTime
		if err := rows.Scan(&n.ID, &n.Revision, &n.Category, &n.Status, &places, &channels, &n.Headline, &n.Body,
			&starts, &ends, &n.PublishedAt, &n.UpdatedAt, &closed, &retracted); err != nil {
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
		n.Starts, n.Ends, n.ClosedAt, n.RetractedAt = timePtr(starts), timePtr(ends), timePtr(closed), timePtr(retracted)
		n.Channels = strings.Fields(channels)
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

// dedupeNames trims, drops empty and repeated names, and sorts them, so a
// notice's channels compare equal however they were given.
func dedupeNames(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
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
