package archive

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

var day0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// world is a database with a clock the test moves.
type world struct {
	t   *testing.T
	db  *store.DB
	now time.Time
	svc *Service
}

func newWorld(t *testing.T, db *store.DB) *world {
	w := &world{t: t, db: db, now: day0}
	db.SetClock(func() time.Time { return w.now })
	w.svc = New(db)
	w.svc.Now = func() time.Time { return w.now }
	return w
}

func input(cat signpost.Category, headline string) signpost.NoticeInput {
	return signpost.NoticeInput{Category: cat, Status: signpost.StatusClosed, Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}, Headline: headline, Body: "Body of " + headline}
}

// published records in the audit log that actor published revision rev of
// a notice, the way the publishing workflow does.
func (w *world) published(actor string, n signpost.Notice, after any) {
	w.t.Helper()
	err := w.db.UpdateAccounts(context.Background(), func(tx *store.Tx) error {
		_, err := audit.Append(context.Background(), tx, audit.Record{Actor: actor, Action: audit.Publish, Target: fmt.Sprintf("notice:%d", n.ID), After: after})
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) must(n signpost.Notice, err error) signpost.Notice {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

type key struct {
	id  int64
	rev int
}

func keys(items []Item) []key {
	var out []key
	for _, it := range items {
		out = append(out, key{it.NoticeID, it.Revision})
	}
	return out
}

func TestSearch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		gritting := w.must(db.CreateNotice(ctx, input(signpost.CategoryRoads, "Gritting tonight")))
		w.published("user:alice@northdale.example", gritting, map[string]any{"revision": 1})
		w.now = w.now.Add(time.Hour)
		up := input(signpost.CategoryRoads, "Gritting 100% of priority routes")
		up.Body = "Routes_1 and 2"
		gritting2 := w.must(db.UpdateNotice(ctx, gritting.ID, up))
		// Another recorder nests the notice, as a marshalled Notice.
		w.published("user:bob@northdale.example", gritting2, map[string]any{"notice": gritting2})
		w.now = w.now.Add(time.Hour)
		w.must(db.CloseNotice(ctx, gritting.ID))
		w.now = day0.AddDate(0, 0, 2)
		school := w.must(db.CreateNotice(ctx, input(signpost.CategorySchools, "Northdale High closed")))
		w.published("user:alice@northdale.example", school, map[string]any{"revision": 1})

		for _, d := range []store.Delivery{
			{NoticeID: gritting.ID, Channel: "mastodon", Revision: 1, Action: "publish"},
			{NoticeID: gritting.ID, Channel: "mastodon", Revision: 2, Action: "update"},
		} {
			if err := db.RecordDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.LogDelivery(ctx, store.DeliveryAttempt{NoticeID: gritting.ID, Revision: 2, Channel: "bluesky", Action: "publish", Outcome: store.DeliveryFailed, Detail: "rate limited"}); err != nil {
			t.Fatal(err)
		}

		// A job that has failed for good shows with the others.
		if err := db.SetDeliveryState(ctx, store.DeliveryJob{NoticeID: gritting.ID, Revision: 1, Channel: "x", Action: "publish", State: store.DeliveryFailed, Attempts: 5, LastError: "suspended"}); err != nil {
			t.Fatal(err)
		}

		all, err := w.svc.Search(ctx, Query{}, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []key{{school.ID, 1}, {gritting.ID, 3}, {gritting.ID, 2}, {gritting.ID, 1}}
		if got := keys(all.Items); !slices.Equal(got, want) || all.Total != 4 {
			t.Fatalf("all: %v (total %d), want %v", got, all.Total, want)
		}
		kinds := map[key]string{}
		authors := map[key]string{}
		for _, it := range all.Items {
			kinds[key{it.NoticeID, it.Revision}] = it.Kind
			authors[key{it.NoticeID, it.Revision}] = it.Author
		}
		if kinds[key{gritting.ID, 1}] != KindPublished || kinds[key{gritting.ID, 2}] != KindUpdated || kinds[key{gritting.ID, 3}] != KindClosed {
			t.Errorf("kinds %v", kinds)
		}
		if authors[key{gritting.ID, 1}] != "user:alice@northdale.example" || authors[key{gritting.ID, 2}] != "user:bob@northdale.example" || authors[key{gritting.ID, 3}] != "" {
			t.Errorf("authors %v", authors)
		}
		if rev1 := all.Items[3]; !slices.Equal(rev1.Delivered(), []string{"mastodon"}) || !slices.Equal(rev1.Failed(), []string{"x"}) {
			t.Errorf("revision 1 delivered %v failed %v", rev1.Delivered(), rev1.Failed())
		}
		rev2 := all.Items[2]
		if !slices.Equal(rev2.Delivered(), []string{"mastodon"}) || !slices.Equal(rev2.Failed(), []string{"bluesky"}) {
			t.Errorf("revision 2 delivered %v failed %v", rev2.Delivered(), rev2.Failed())
		}

		tests := []struct {
			name string
			q    Query
			want []key
		}{
			{"author", Query{Author: "user:alice@northdale.example"}, []key{{school.ID, 1}, {gritting.ID, 1}}},
			{"author by bare address, any case", Query{Author: "Bob@Northdale.example"}, []key{{gritting.ID, 2}}},
			{"author with nothing", Query{Author: "nobody@northdale.example"}, nil},
			{"text ignores case", Query{Text: "GRITTING"}, []key{{gritting.ID, 3}, {gritting.ID, 2}, {gritting.ID, 1}}},
			{"text % is literal", Query{Text: "100%"}, []key{{gritting.ID, 3}, {gritting.ID, 2}}},
			{"text _ is literal", Query{Text: "s_1"}, []key{{gritting.ID, 3}, {gritting.ID, 2}}},
			{"text in body", Query{Text: "body of northdale"}, []key{{school.ID, 1}}},
			{"category", Query{Category: "schools"}, []key{{school.ID, 1}}},
			{"channel delivered", Query{Channel: "mastodon"}, []key{{gritting.ID, 2}, {gritting.ID, 1}}},
			{"channel only failed", Query{Channel: "bluesky"}, nil},
			{"dates", Query{From: day0.Add(30 * time.Minute), To: day0.AddDate(0, 0, 1)}, []key{{gritting.ID, 3}, {gritting.ID, 2}}},
			{"combined", Query{Author: "alice@northdale.example", Category: "roads", Channel: "mastodon"}, []key{{gritting.ID, 1}}},
		}
		for _, tt := range tests {
			p, err := w.svc.Search(ctx, tt.q, 1, 10)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got := keys(p.Items); !slices.Equal(got, tt.want) || p.Total != len(tt.want) {
				t.Errorf("%s: %v (total %d), want %v", tt.name, got, p.Total, tt.want)
			}
		}

		p2, err := w.svc.Search(ctx, Query{}, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(p2.Items); !slices.Equal(got, []key{{gritting.ID, 1}}) || p2.Pages() != 2 {
			t.Errorf("page 2 of 3 a page: %v, %d pages", got, p2.Pages())
		}
		for _, bad := range []Query{{Category: "snow"}, {From: day0, To: day0.Add(-time.Hour)}} {
			if _, err := w.svc.Search(ctx, bad, 1, 10); signpost.ErrorCode(err) != signpost.EINVALID {
				t.Errorf("%+v: %v, want EINVALID", bad, err)
			}
		}
	})
}

func TestRetractionIsArchived(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		n := w.must(db.CreateNotice(ctx, input(signpost.CategoryRoads, "Wrong road closed")))
		w.now = w.now.Add(time.Minute)
		w.must(db.RetractNotice(ctx, n.ID))
		// An approval names the revision too, but does not make it.
		w.published("user:approver@northdale.example", n, map[string]any{"revision": 2})
		p, err := w.svc.Search(ctx, Query{Text: "wrong road"}, 1, 10)
		if err != nil || len(p.Items) != 2 {
			t.Fatalf("search: %+v, %v", p, err)
		}
		err = db.UpdateAccounts(ctx, func(tx *store.Tx) error {
			_, err := audit.Append(ctx, tx, audit.Record{Actor: "user:other@northdale.example", Action: audit.Approve, Target: fmt.Sprintf("notice:%d", n.ID), After: map[string]any{"revision": 1}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		p, _ = w.svc.Search(ctx, Query{}, 1, 10)
		r := p.Items[0]
		if r.Kind != KindRetracted || r.RetractedAt == nil || r.Author != "user:approver@northdale.example" || p.Items[1].Author != "" {
			t.Errorf("retraction: %+v; first revision's author %q", r, p.Items[1].Author)
		}
		if p, _ := w.svc.Search(ctx, Query{Author: "other@northdale.example"}, 1, 10); p.Total != 0 {
			t.Errorf("an approval made someone the author of %d revisions", p.Total)
		}
	})
}

func TestExport(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.svc.batch = 3 // several batches from seven revisions
		var ids []int64
		for i := range 7 {
			w.now = w.now.Add(time.Minute)
			headline := fmt.Sprintf("Notice %d", i)
			if i == 0 {
				headline = "=HYPERLINK(\"http://evil.example\")"
			}
			ids = append(ids, w.must(db.CreateNotice(ctx, input(signpost.CategoryWaste, headline))).ID)
		}
		q := Query{Category: "waste", Text: "notice"}

		var buf bytes.Buffer
		n, err := w.svc.Export(ctx, "user:alice@northdale.example", q, CSV, &buf)
		if err != nil || n != 6 {
			t.Fatalf("csv export: %d, %v", n, err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 7 || !slices.Equal(recs[0], csvHeader) {
			t.Fatalf("csv: %d records, header %v", len(recs), recs[0])
		}
		for i, rec := range recs[1:] {
			if want := fmt.Sprint(ids[6-i]); rec[0] != want {
				t.Errorf("csv row %d: notice %s, want %s (newest first, across batches)", i, rec[0], want)
			}
		}

		buf.Reset()
		n, err = w.svc.Export(ctx, "user:alice@northdale.example", Query{}, JSONL, &buf)
		if err != nil || n != 7 {
			t.Fatalf("jsonl export: %d, %v", n, err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		var last Item
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || len(lines) != 7 {
			t.Fatalf("jsonl: %d lines, %v", len(lines), err)
		}
		// JSON keeps the text as published; CSV defuses formulas.
		if last.Headline != `=HYPERLINK("http://evil.example")` || last.Kind != KindPublished || last.NoticeID != ids[0] {
			t.Errorf("last jsonl item %+v", last)
		}
		buf.Reset()
		if _, err := w.svc.Export(ctx, "cli:test", Query{Text: "hyperlink"}, CSV, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `'=HYPERLINK`) {
			t.Errorf("formula not defused: %s", buf.String())
		}

		entries, err := audit.List(ctx, db, audit.Filter{Action: string(audit.Export)})
		if err != nil || len(entries) != 3 {
			t.Fatalf("export audit entries: %d, %v", len(entries), err)
		}
		var after struct {
			Format string            `json:"format"`
			Search map[string]string `json:"search"`
		}
		if err := json.Unmarshal(entries[0].After, &after); err != nil {
			t.Fatal(err)
		}
		if entries[0].Actor != "user:alice@northdale.example" || after.Format != "csv" || after.Search["category"] != "waste" || after.Search["text"] != "notice" {
			t.Errorf("export audit entry %+v %s", entries[0], entries[0].After)
		}
	})
}

func TestPurge(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		old := w.must(db.CreateNotice(ctx, input(signpost.CategoryRoads, "Old and closed")))
		w.published("user:alice@northdale.example", old, map[string]any{"revision": 1})
		w.must(db.CloseNotice(ctx, old.ID))
		if err := db.RecordDelivery(ctx, store.Delivery{NoticeID: old.ID, Channel: "mastodon", Revision: 1, Action: "publish"}); err != nil {
			t.Fatal(err)
		}
		wrong := w.must(db.CreateNotice(ctx, input(signpost.CategoryRoads, "Old and retracted")))
		w.must(db.RetractNotice(ctx, wrong.ID))
		live := w.must(db.CreateNotice(ctx, input(signpost.CategoryRoads, "Old but still live")))
		w.now = day0.AddDate(0, 0, 50)
		recent := w.must(db.CreateNotice(ctx, input(signpost.CategoryRoads, "Recently closed")))
		w.must(db.CloseNotice(ctx, recent.ID))
		w.now = day0.AddDate(0, 0, 60)

		// Keeping everything (the default) purges nothing.
		rep, err := w.svc.Purge(ctx, "cli:test", false)
		if err != nil || rep.Notices != 0 || rep.KeepDays != 0 {
			t.Fatalf("default purge: %+v, %v", rep, err)
		}
		if err := w.svc.SetRetention(ctx, "user:admin@northdale.example", 30); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []int{-1, MaxKeepDays + 1} {
			if err := w.svc.SetRetention(ctx, "user:admin@northdale.example", bad); signpost.ErrorCode(err) != signpost.EINVALID {
				t.Errorf("keep %d days: %v", bad, err)
			}
		}
		dry, err := w.svc.Purge(ctx, "cli:test", true)
		if err != nil {
			t.Fatal(err)
		}
		want := store.ArchivePurgeCounts{Notices: 2, Revisions: 4, Deliveries: 1}
		if dry.ArchivePurgeCounts != want || !dry.Cutoff.Equal(day0.AddDate(0, 0, 30)) {
			t.Errorf("dry run: %+v, want %+v with cutoff %s", dry, want, day0.AddDate(0, 0, 30))
		}
		if _, err := db.Notice(ctx, old.ID); err != nil {
			t.Fatalf("dry run removed the notice: %v", err)
		}
		before, _ := audit.List(ctx, db, audit.Filter{Action: string(audit.Purge)})
		if len(before) != 0 {
			t.Errorf("a dry run was audited")
		}

		rep, err = w.svc.Purge(ctx, "cli:test", false)
		if err != nil || rep.ArchivePurgeCounts != want {
			t.Fatalf("purge: %+v, %v", rep, err)
		}
		if _, err := db.Notice(ctx, old.ID); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("purged notice still there: %v", err)
		}
		if _, err := db.Notice(ctx, wrong.ID); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("purged retracted notice still there: %v", err)
		}
		for _, id := range []int64{live.ID, recent.ID} {
			if _, err := db.Notice(ctx, id); err != nil {
				t.Errorf("notice %d should stay: %v", id, err)
			}
		}
		p, err := w.svc.Search(ctx, Query{}, 1, 10)
		if err != nil || p.Total != 3 {
			t.Errorf("after purge the archive holds %d revisions, want 3 (%v)", p.Total, err)
		}
		entries, err := audit.List(ctx, db, audit.Filter{Action: string(audit.Purge)})
		if err != nil || len(entries) != 1 {
			t.Fatalf("purge audit: %d, %v", len(entries), err)
		}
		var after struct {
			KeepDays int                      `json:"keep_days"`
			Cutoff   time.Time                `json:"cutoff"`
			Counts   store.ArchivePurgeCounts `json:"counts"`
		}
		if err := json.Unmarshal(entries[0].After, &after); err != nil {
			t.Fatal(err)
		}
		if after.KeepDays != 30 || after.Counts != want || !after.Cutoff.Equal(rep.Cutoff) || strings.Contains(string(entries[0].After), "Old and closed") {
			t.Errorf("purge audit entry %s", entries[0].After)
		}
		// The audit log keeps its entries about the purged notice, and its
		// chain still verifies.
		if vr, err := audit.Verify(ctx, db); err != nil || vr.Broken != nil {
			t.Errorf("verify after purge: %+v, %v", vr.Broken, err)
		}
		if es, _ := audit.List(ctx, db, audit.Filter{Target: fmt.Sprintf("notice:%d", old.ID)}); len(es) != 1 {
			t.Errorf("audit entries about the purged notice: %d, want 1", len(es))
		}
		again, err := w.svc.Purge(ctx, "cli:test", false)
		if err != nil || again.Notices != 0 {
			t.Errorf("second purge: %+v, %v", again, err)
		}
		// Long after, the recently closed notice is old too, but as the
		// newest notice it stays, so that its id is never handed out again.
		w.now = day0.AddDate(1, 0, 0)
		if rep, err := w.svc.Purge(ctx, "cli:test", false); err != nil || rep.Notices != 0 {
			t.Errorf("purge with only the newest notice old: %+v, %v", rep, err)
		}
		next := w.must(db.CreateNotice(ctx, input(signpost.CategoryRoads, "Next")))
		if next.ID <= recent.ID {
			t.Errorf("new notice got id %d, not after %d", next.ID, recent.ID)
		}
	})
}
