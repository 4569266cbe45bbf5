package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// recorder stands in for the queue: it keeps what was queued in
// transactions that committed, and can fail to simulate a crash.
type recorder struct {
	mu     sync.Mutex
	queued []string
	fail   bool
}

func (r *recorder) InsertManyTx(_ context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return nil, errors.New("connection lost")
	}
	for _, p := range params {
		a := p.Args.(Args)
		r.queued = append(r.queued, fmt.Sprintf("n%d r%d %s %s", a.NoticeID, a.Revision, a.Channel, a.Action))
	}
	return nil, nil
}

func (r *recorder) jobs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.queued)
	slices.Sort(out)
	return out
}

func TestPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   store.PublishedRevision
		want []string
	}{
		{"create", store.PublishedRevision{Change: store.ChangeCreate, Channels: []string{"a", "b"}}, []string{"a publish", "b publish"}},
		{"update drops a channel", store.PublishedRevision{Change: store.ChangeUpdate, Channels: []string{"a"}, Live: []string{"a", "b"}}, []string{"a publish", "b delete"}},
		{"update adds a channel", store.PublishedRevision{Change: store.ChangeUpdate, Channels: []string{"a", "c"}, Live: []string{"a"}}, []string{"a publish", "c publish"}},
		{"close", store.PublishedRevision{Change: store.ChangeClose, Channels: []string{"a"}, Live: []string{"a"}}, []string{"a close"}},
		{"retract everywhere it went", store.PublishedRevision{Change: store.ChangeRetract, Channels: []string{"a"}, Live: []string{"a", "b"}}, []string{"a delete", "b delete"}},
		{"no channels", store.PublishedRevision{Change: store.ChangeCreate}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, a := range Plan(tt.in) {
				got = append(got, a.Channel+" "+a.Action)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Plan = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDispatch publishes, updates, closes and retracts notices and checks
// that each revision queues its deliveries once: not again on the next
// pass, not lost when queuing fails (the transaction rolls back), and not
// twice when two dispatchers (two serve processes) run at once.
func TestDispatch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, name := range []string{"masto", "sky", "hook"} {
			if _, err := db.CreateChannel(ctx, store.Channel{Name: name, Type: "mastodon"}); err != nil {
				t.Fatal(err)
			}
		}
		in := signpost.NoticeInput{Category: signpost.CategorySchools, Status: signpost.StatusClosed,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}, Headline: "Schools closed", Channels: []string{"masto", "sky"}}
		a, err := db.CreateNotice(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		// The first pass loses its queue: nothing may be marked done.
		rec := &recorder{fail: true}
		d := NewDispatcher(db, rec, quiet())
		if _, err := d.DispatchAll(ctx); err == nil {
			t.Fatal("a failed queue insert was not reported")
		}
		rec.fail = false
		n, err := d.DispatchAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{fmt.Sprintf("n%d r1 masto publish", a.ID), fmt.Sprintf("n%d r1 sky publish", a.ID)}
		if got := rec.jobs(); n != 2 || !slices.Equal(got, want) {
			t.Fatalf("after a failed then a good pass: %d %v, want %v", n, got, want)
		}
		if n, _ := d.DispatchAll(ctx); n != 0 {
			t.Errorf("second pass queued %d jobs", n)
		}

		in.Channels = []string{"masto", "hook"}
		if _, err := db.UpdateNotice(ctx, a.ID, in); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CloseNotice(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		in.Channels = []string{"hook"}
		b, err := db.CreateNotice(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.RetractNotice(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		// Two dispatchers at once, as two processes would run.
		rec2 := &recorder{}
		d2 := NewDispatcher(db, rec2, quiet())
		d.Batch, d2.Batch = 1, 1
		var wg sync.WaitGroup
		for _, x := range []*Dispatcher{d, d2} {
			wg.Go(func() {
				if _, err := x.DispatchAll(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got := append(rec.jobs()[2:], rec2.jobs()...)
		slices.Sort(got)
		want = []string{
			fmt.Sprintf("n%d r1 hook publish", b.ID), fmt.Sprintf("n%d r2 hook delete", b.ID),
			fmt.Sprintf("n%d r2 hook publish", a.ID), fmt.Sprintf("n%d r2 masto publish", a.ID), fmt.Sprintf("n%d r2 sky delete", a.ID),
			fmt.Sprintf("n%d r3 hook close", a.ID), fmt.Sprintf("n%d r3 masto close", a.ID),
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("queued %v\nwant   %v", got, want)
		}
		rows, err := db.DeliveryJobs(ctx, store.DeliveryFilter{NoticeID: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 7 || rows[0].State != store.DeliveryQueued {
			t.Errorf("delivery rows for notice %d: %+v", a.ID, rows)
		}
	})
}
