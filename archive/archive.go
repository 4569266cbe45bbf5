// Package archive answers the questions an auditor, a records manager or a
// Freedom of Information request asks of what Signpost published: every
// published revision of every notice (its first publication, each update,
// its closure or retraction), who made it (from the audit log), and which
// channels it went to (from the delivery log). It searches them, exports a
// search as CSV or JSON Lines (each export is itself audited), and purges
// finished notices older than the council's retention period, auditing the
// purge with its counts and cutoff but never the content.
package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/store"
)

// Query is an archive search. Zero fields match everything.
type Query struct {
	From     time.Time // revisions made at or after this instant
	To       time.Time // and before this one
	Text     string    // in the headline or body, ignoring case
	Author   string    // the audit log's actor ("user:<e-mail>"); a bare address means "user:<address>"
	Category string
	Channel  string // delivered to this channel
}

// actor is the audit log's name for the author searched for.
func (q Query) actor() string {
	a := strings.TrimSpace(q.Author)
	if a != "" && !strings.Contains(a, ":") {
		a = "user:" + strings.ToLower(a)
	}
	return a
}

// auditView is how an export's audit entry names the search.
func (q Query) auditView() map[string]string {
	m := map[string]string{}
	if !q.From.IsZero() {
		m["from"] = q.From.UTC().Format(time.RFC3339)
	}
	if !q.To.IsZero() {
		m["to"] = q.To.UTC().Format(time.RFC3339)
	}
	for k, v := range map[string]string{"text": q.Text, "author": q.actor(), "category": q.Category, "channel": q.Channel} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// Kinds of published change.
const (
	KindPublished = "published"
	KindUpdated   = "updated"
	KindClosed    = "closed"
	KindRetracted = "retracted"
)

// Item is one published revision as the archive shows it.
type Item struct {
	NoticeID         int64      `json:"notice_id"`
	Revision         int        `json:"revision"`
	Kind             string     `json:"kind"`
	At               time.Time  `json:"at"` // when this revision was published
	FirstPublishedAt time.Time  `json:"first_published_at"`
	Author           string     `json:"author"` // "" when the audit log does not say
	Category         string     `json:"category"`
	Status           string     `json:"status"`
	Places           []string   `json:"places"`
	Headline         string     `json:"headline"`
	Body             string     `json:"body"`
	Starts           *time.Time `json:"starts,omitempty"`
	Ends             *time.Time `json:"ends,omitempty"`
	ClosedAt         *time.Time `json:"closed_at,omitempty"`
	RetractedAt      *time.Time `json:"retracted_at,omitempty"`
	Channels         []string   `json:"channels"` // the channels the revision was meant for
	Deliveries       []Delivery `json:"deliveries"`
}

// Delivery is one attempt to deliver the revision to a channel.
type Delivery struct {
	Channel string    `json:"channel"`
	Action  string    `json:"action"`
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
}

// Delivered lists the channels the revision reached.
func (it Item) Delivered() []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range it.Deliveries {
		if d.Outcome == store.DeliveryDelivered && !seen[d.Channel] {
			seen[d.Channel] = true
			out = append(out, d.Channel)
		}
	}
	return out
}

// Failed lists the channels an attempt failed on (for good, or for now
// and to be retried).
func (it Item) Failed() []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range it.Deliveries {
		if d.Outcome != store.DeliveryDelivered && !seen[d.Channel] {
			seen[d.Channel] = true
			out = append(out, d.Channel)
		}
	}
	return out
}

// Service searches, exports and purges the archive.
type Service struct {
	db    *store.DB
	batch int // revisions Each reads at a time
	// Now is the clock for retention cutoffs (time.Now).
	Now func() time.Time
}

// New returns a Service over db.
func New(db *store.DB) *Service { return &Service{db: db, Now: time.Now, batch: 500} }

// Page is one page of results.
type Page struct {
	Items   []Item
	Total   int
	Page    int // from 1
	PerPage int
}

// Pages is how many pages the whole result takes.
func (p Page) Pages() int {
	if p.PerPage <= 0 {
		return 1
	}
	return max(1, (p.Total+p.PerPage-1)/p.PerPage)
}

// MaxPerPage bounds a page of results.
const MaxPerPage = 200

// Search returns page (from 1) of the revisions matching q, newest first.
func (s *Service) Search(ctx context.Context, q Query, page, perPage int) (Page, error) {
	if err := q.check(); err != nil {
		return Page{}, err
	}
	if perPage <= 0 || perPage > MaxPerPage {
		perPage = 25
	}
	page = max(page, 1)
	sq, err := s.storeQuery(ctx, q)
	if err != nil {
		return Page{}, err
	}
	total, err := s.db.CountArchive(ctx, sq)
	if err != nil {
		return Page{}, err
	}
	sq.Limit, sq.Offset = perPage, (page-1)*perPage
	items, _, err := s.load(ctx, sq)
	if err != nil {
		return Page{}, err
	}
	return Page{Items: items, Total: total, Page: page, PerPage: perPage}, nil
}

func (q Query) check() error {
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return signpost.Errorf(signpost.EINVALID, "the end date is before the start date")
	}
	if q.Category != "" && !signpost.Category(q.Category).Valid() {
		return signpost.Errorf(signpost.EINVALID, "%q is not a category", q.Category)
	}
	if len(q.Text) > 200 {
		return signpost.Errorf(signpost.EINVALID, "search text must be at most 200 characters")
	}
	return nil
}

// storeQuery turns q into the store's query, resolving the author to the
// revisions the audit log says they published.
func (s *Service) storeQuery(ctx context.Context, q Query) (store.ArchiveQuery, error) {
	sq := store.ArchiveQuery{From: q.From, To: q.To, Text: q.Text, Category: q.Category, Channel: q.Channel}
	if a := q.actor(); a != "" {
		rows, err := s.db.AuditByActor(ctx, a, "notice:")
		if err != nil {
			return sq, err
		}
		sq.Only = []store.RevisionKey{}
		seen := map[store.RevisionKey]bool{}
		for _, r := range rows {
			if !publishing[audit.Action(r.Action)] {
				continue
			}
			if k, ok := revisionOf(r); ok && !seen[k] {
				seen[k] = true
				sq.Only = append(sq.Only, k)
			}
		}
	}
	return sq, nil
}

// publishing are the audit actions that make a published revision.
var publishing = map[audit.Action]bool{
	audit.Publish: true, audit.Create: true, audit.Edit: true, audit.Close: true, audit.Retract: true,
}

// revisionOf reads which revision of which notice an audit entry is about:
// its target is "notice:<id>" and its after-state names the revision (as
// "revision", or inside "notice").
func revisionOf(r store.AuditRow) (store.RevisionKey, bool) {
	idText, ok := strings.CutPrefix(r.Target, "notice:")
	if !ok {
		return store.RevisionKey{}, false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || r.After == "" {
		return store.RevisionKey{}, false
	}
	var after map[string]json.RawMessage
	if json.Unmarshal([]byte(r.After), &after) != nil {
		return store.RevisionKey{}, false
	}
	if nested, ok := after["notice"]; ok {
		var inner map[string]json.RawMessage
		if json.Unmarshal(nested, &inner) == nil {
			for k, v := range inner {
				if _, dup := after[k]; !dup {
					after[k] = v
				}
			}
		}
	}
	for _, key := range []string{"revision", "Revision"} {
		var rev int
		if v, ok := after[key]; ok && json.Unmarshal(v, &rev) == nil && rev > 0 {
			return store.RevisionKey{NoticeID: id, Revision: rev}, true
		}
	}
	return store.RevisionKey{}, false
}

// load reads one batch and attributes each revision to its author.
func (s *Service) load(ctx context.Context, sq store.ArchiveQuery) ([]Item, *store.ArchiveCursor, error) {
	revs, err := s.db.ArchiveRevisions(ctx, sq)
	if err != nil || len(revs) == 0 {
		return nil, nil, err
	}
	var targets []string
	seen := map[int64]bool{}
	for _, r := range revs {
		if !seen[r.ID] {
			seen[r.ID] = true
			targets = append(targets, "notice:"+strconv.FormatInt(r.ID, 10))
		}
	}
	entries, err := s.db.AuditForTargets(ctx, targets)
	if err != nil {
		return nil, nil, err
	}
	authors := map[store.RevisionKey]string{}
	for _, e := range entries {
		// The first publishing entry naming a revision is the one that
		// made it; approvals and the like name revisions too.
		if !publishing[audit.Action(e.Action)] {
			continue
		}
		if k, ok := revisionOf(e); ok && authors[k] == "" {
			authors[k] = e.Actor
		}
	}
	items := make([]Item, len(revs))
	for i, r := range revs {
		items[i] = itemFrom(r, authors[store.RevisionKey{NoticeID: r.ID, Revision: r.Revision}])
	}
	return items, revs[len(revs)-1].Cursor(), nil
}

func itemFrom(r store.ArchivedRevision, author string) Item {
	it := Item{
		NoticeID: r.ID, Revision: r.Revision, At: r.UpdatedAt, FirstPublishedAt: r.PublishedAt, Author: author,
		Category: string(r.Category), Status: string(r.Status), Headline: r.Headline, Body: r.Body,
		Starts: r.Starts, Ends: r.Ends, ClosedAt: r.ClosedAt, RetractedAt: r.RetractedAt,
		Places: []string{}, Channels: append([]string{}, r.Channels...), Deliveries: []Delivery{},
	}
	for _, p := range r.Places {
		it.Places = append(it.Places, p.String())
	}
	for _, d := range r.Deliveries {
		it.Deliveries = append(it.Deliveries, Delivery{Channel: d.Channel, Action: d.Action, Outcome: d.Outcome, At: d.At})
	}
	switch {
	case r.RetractedAt != nil:
		it.Kind = KindRetracted
	case r.Revision == 1:
		it.Kind = KindPublished
	case r.ClosedAt != nil && r.ClosedAt.Equal(r.UpdatedAt):
		// Closing stamps the revision and the closure with one time; later
		// edits to a closed notice are updates.
		it.Kind = KindClosed
	default:
		it.Kind = KindUpdated
	}
	return it
}

// Each calls fn for every revision matching q, newest first, reading in
// batches so that an export of the whole archive never sits in memory.
func (s *Service) Each(ctx context.Context, q Query, fn func(Item) error) error {
	if err := q.check(); err != nil {
		return err
	}
	sq, err := s.storeQuery(ctx, q)
	if err != nil {
		return err
	}
	sq.Limit = s.batch
	for {
		items, cursor, err := s.load(ctx, sq)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(items) < sq.Limit {
			return nil
		}
		sq.Before = cursor
	}
}

// Export writes every revision matching q in format f to w, after
// recording in the audit log who exported what search. It returns how many
// revisions it wrote.
func (s *Service) Export(ctx context.Context, actor string, q Query, f Format, w io.Writer) (int, error) {
	if err := q.check(); err != nil {
		return 0, err
	}
	if _, err := ParseFormat(string(f)); err != nil {
		return 0, err
	}
	err := s.db.UpdateQuietly(ctx, func(tx *store.Tx) error {
		_, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.Export, Target: "archive",
			After: map[string]any{"format": string(f), "search": q.auditView()}})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("export archive: %w", err)
	}
	enc, err := newEncoder(f, w)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.Each(ctx, q, func(it Item) error {
		n++
		return enc.write(it)
	})
	if err == nil {
		err = enc.flush()
	}
	return n, err
}
