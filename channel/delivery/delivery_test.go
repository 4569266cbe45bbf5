package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/channel/mastodon"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testWorker is the real worker posting "Notice N revision R" through
// conn. Real waits are seconds to minutes; tests keep the decisions and
// shorten the waits.
func testWorker(db *store.DB, conn channel.Connector) *Worker {
	return NewWorker(Config{
		Store:     db,
		Connector: func(context.Context, string) (channel.Connector, error) { return conn, nil },
		Render: func(_ context.Context, id int64, rev int, _ string) (channel.Post, error) {
			return channel.Post{Parts: []string{fmt.Sprintf("Notice %d revision %d", id, rev)}, Languages: []string{"en"}}, nil
		},
		Backoff: func(int) time.Duration { return time.Millisecond },
		Wait:    func(time.Duration) time.Duration { return time.Millisecond },
		Logger:  quiet(),
	})
}

// harness runs the real worker on a River queue in its own SQLite file,
// delivering to a fake Mastodon, with the channel recorded in the store.
type harness struct {
	t      *testing.T
	db     *store.DB
	masto  *fake.Mastodon
	client *river.Client[*sql.Tx]
	events <-chan *river.Event
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, db: storetest.Open(t, store.SQLite), masto: fake.NewMastodon("tok")}
	t.Cleanup(h.masto.Close)
	if _, err := h.db.CreateChannel(ctx, store.Channel{Name: "masto", Type: "mastodon"}); err != nil {
		t.Fatal(err)
	}
	queue, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "queue.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	queue.SetMaxOpenConns(1)
	t.Cleanup(func() { queue.Close() })
	driver := riversqlite.New(queue)
	if err := Migrate(ctx, driver); err != nil {
		t.Fatal(err)
	}
	conn, err := mastodon.New(mastodon.Config{Server: h.masto.URL, Token: "tok", Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	w := testWorker(h.db, conn)
	h.client, err = NewClient(driver, w, 2, 10*time.Millisecond, quiet())
	if err != nil {
		t.Fatal(err)
	}
	h.events, _ = h.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed, river.EventKindJobSnoozed)
	if err := h.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.client.Stop(ctx)
	})
	return h
}

// await collects job events until n jobs have finished (completed or
// cancelled), returning the kinds seen.
func (h *harness) await(n int) map[river.EventKind]int {
	h.t.Helper()
	seen := map[river.EventKind]int{}
	timeout := time.After(30 * time.Second)
	for seen[river.EventKindJobCompleted]+seen[river.EventKindJobCancelled] < n {
		select {
		case ev := <-h.events:
			seen[ev.Kind]++
		case <-timeout:
			h.t.Fatalf("timed out waiting for %d jobs; events so far %v", n, seen)
		}
	}
	return seen
}

func (h *harness) enqueue(id int64, rev int, action string) int {
	h.t.Helper()
	n, err := Enqueue(context.Background(), h.client, id, rev, action, []string{"masto"})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func TestDeliverUpdateDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()

	// Faults first: two server errors, then a rate limit. The job retries
	// through them and posts exactly once.
	h.masto.Fail(2, fake.ServerError)
	h.masto.Fail(1, fake.RateLimited)
	if n := h.enqueue(1, 1, ActionPublish); n != 1 {
		t.Fatalf("enqueued %d", n)
	}
	if n := h.enqueue(1, 1, ActionPublish); n != 0 {
		t.Errorf("the same delivery was queued twice")
	}
	seen := h.await(1)
	if seen[river.EventKindJobFailed] != 2 || seen[river.EventKindJobSnoozed] != 1 {
		t.Errorf("events = %v; want 2 failed attempts and 1 snooze", seen)
	}
	st := h.masto.Statuses()
	if len(st) != 1 || st[0].Text != "Notice 1 revision 1" {
		t.Fatalf("statuses = %+v", st)
	}
	d, ok, _ := h.db.Delivery(ctx, 1, "masto")
	if !ok || d.Revision != 1 {
		t.Fatalf("delivery = %+v", d)
	}
	// Queuing a completed delivery again does nothing.
	if n := h.enqueue(1, 1, ActionPublish); n != 0 {
		t.Errorf("a completed delivery was queued again")
	}

	// Revision 2 edits the same status.
	h.enqueue(1, 2, ActionPublish)
	h.await(1)
	st = h.masto.Statuses()
	if len(st) != 1 || st[0].Text != "Notice 1 revision 2" || st[0].Edits != 1 {
		t.Errorf("after revision 2: %+v", st)
	}
	// Closing (revision 3) posts the "resumed" message under the original.
	h.enqueue(1, 3, ActionClose)
	h.await(1)
	st = h.masto.Statuses()
	if len(st) != 2 || st[1].Text != "Notice 1 revision 3" || st[1].InReplyToID != st[0].ID {
		t.Errorf("after closing: %+v", st)
	}
	// A late job for revision 1 (say, re-queued by hand) changes nothing;
	// retraction deletes the whole thread.
	h.enqueue(1, 1, ActionDelete)
	h.enqueue(1, 4, ActionDelete)
	h.await(2)
	st = h.masto.Statuses()
	if !st[0].Deleted || !st[1].Deleted {
		t.Errorf("not deleted: %+v", st)
	}
	if d, _, _ := h.db.Delivery(ctx, 1, "masto"); d.Action != ActionDelete || d.Revision != 4 {
		t.Errorf("final delivery = %+v", d)
	}
	// The console's record: every job with its outcome and attempts.
	rows, err := h.db.DeliveryJobs(ctx, store.DeliveryFilter{NoticeID: 1})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, r := range rows {
		states[fmt.Sprintf("r%d %s", r.Revision, r.Action)] = fmt.Sprintf("%s/%d", r.State, r.Attempts)
	}
	// River does not count the snooze as an attempt.
	want := map[string]string{"r1 publish": "delivered/3", "r2 publish": "delivered/1", "r3 close": "delivered/1", "r1 delete": "skipped/1", "r4 delete": "delivered/1"}
	for k, v := range want {
		if states[k] != v {
			t.Errorf("delivery %s: %q, want %q (all: %v)", k, states[k], v, states)
		}
	}
}

func TestPermanentFailureMarksChannelUnhealthy(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.masto.Fail(1, fake.Unauthorized)
	h.enqueue(7, 1, ActionPublish)
	seen := h.await(1)
	if seen[river.EventKindJobCancelled] != 1 || len(h.masto.Statuses()) != 0 {
		t.Errorf("events %v, statuses %d", seen, len(h.masto.Statuses()))
	}
	c, err := h.db.Channel(context.Background(), "masto")
	if err != nil || c.Healthy || c.LastError == "" {
		t.Errorf("channel = %+v, %v", c, err)
	}
	// The next successful delivery marks it healthy again.
	h.enqueue(8, 1, ActionPublish)
	h.await(1)
	if c, _ := h.db.Channel(context.Background(), "masto"); !c.Healthy {
		t.Errorf("channel still unhealthy after a success")
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, time.Second, 2 * time.Second},
		{5, 16 * time.Second, 32 * time.Second},
		{12, 30 * time.Minute, time.Hour},
		{40, 30 * time.Minute, time.Hour},
	}
	for _, tt := range tests {
		for range 50 {
			if d := Backoff(tt.attempt); d < tt.min || d > tt.max {
				t.Fatalf("Backoff(%d) = %v, want %v–%v", tt.attempt, d, tt.min, tt.max)
			}
		}
	}
}

// A delivery to a channel removed after it was queued does nothing and is
// recorded as skipped, not failed: nothing went wrong.
func TestDeliveryToRemovedChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	w := NewWorker(Config{
		Store: db,
		Connector: func(ctx context.Context, name string) (channel.Connector, error) {
			_, err := db.Channel(ctx, name)
			return nil, err
		},
		Render: func(context.Context, int64, int, string) (channel.Post, error) {
			t.Error("rendered a post for a removed channel")
			return channel.Post{}, nil
		},
		Logger: quiet(),
	})
	job := &river.Job[Args]{JobRow: &rivertype.JobRow{Attempt: 1}, Args: Args{NoticeID: 7, Revision: 1, Channel: "gone", Action: ActionPublish}}
	var cancel *rivertype.JobCancelError
	if err := w.Work(ctx, job); !errors.As(err, &cancel) {
		t.Fatalf("Work = %v, want the job cancelled", err)
	}
	js, err := db.DeliveryJobs(ctx, store.DeliveryFilter{NoticeID: 7})
	if err != nil || len(js) != 1 || js[0].State != store.DeliverySkipped || !strings.Contains(js[0].LastError, "channel was removed") {
		t.Errorf("recorded %+v, %v", js, err)
	}
}
