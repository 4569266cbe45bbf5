package delivery

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/channel/mastodon"
	"github.com/signpost-uk/signpost/jobs"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// consoleRig is the real worker on the store's own job queue (as serve
// runs it), delivering to a fake Mastodon.
type consoleRig struct {
	t       *testing.T
	db      *store.DB
	masto   *fake.Mastodon
	queue   *jobs.Queue
	console *Console
	events  <-chan *river.Event
}

func newConsoleRig(t *testing.T, db *store.DB) *consoleRig {
	t.Helper()
	ctx := context.Background()
	r := &consoleRig{t: t, db: db, masto: fake.NewMastodon("tok")}
	t.Cleanup(r.masto.Close)
	if _, err := db.CreateChannel(ctx, store.Channel{Name: "masto", Type: "mastodon"}); err != nil {
		t.Fatal(err)
	}
	conn, err := mastodon.New(mastodon.Config{Server: r.masto.URL, Token: "tok", Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, testWorker(db, conn))
	r.queue, err = jobs.Open(ctx, db, jobs.Config{Workers: workers, Queues: map[string]int{Queue: 2}, PollInterval: 10 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	r.events, _ = r.queue.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed)
	r.console = NewConsole(db, r.queue)
	return r
}

func (r *consoleRig) start() {
	r.t.Helper()
	if err := r.queue.Start(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.queue.Stop(ctx)
	})
}

// queue records a delivery as the dispatcher does and inserts its job.
func (r *consoleRig) queueJob(a Args, opts *river.InsertOpts) {
	r.t.Helper()
	ctx := context.Background()
	err := r.db.UpdateQuietly(ctx, func(tx *store.Tx) error {
		if err := tx.MarkDispatched(ctx, a.NoticeID, a.Revision, toRows([]Args{a})); err != nil {
			return err
		}
		_, err := r.queue.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: a, InsertOpts: opts}})
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// finished waits for a job to complete, or to be cancelled or discarded
// (a failed event on its last attempt).
func (r *consoleRig) finished() river.EventKind {
	r.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-r.events:
			if ev.Kind != river.EventKindJobFailed || ev.Job.Attempt >= ev.Job.MaxAttempts {
				return ev.Kind
			}
		case <-timeout:
			r.t.Fatal("timed out waiting for a delivery job")
		}
	}
}

func (r *consoleRig) entry(a Args) Entry {
	r.t.Helper()
	l, err := r.console.List(context.Background(), store.DeliveryFilter{NoticeID: a.NoticeID})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, e := range l.Entries {
		if e.Args() == a {
			return e
		}
	}
	r.t.Fatalf("no delivery %s in %+v", a.Key(), l.Entries)
	return Entry{}
}

func (r *consoleRig) jobIDs(a Args) []int64 {
	r.t.Helper()
	res, err := r.queue.JobList(context.Background(), river.NewJobListParams().Kinds(Args{}.Kind()).First(100))
	if err != nil {
		r.t.Fatal(err)
	}
	var ids []int64
	for _, j := range res.Jobs {
		var got Args
		if err := json.Unmarshal(j.EncodedArgs, &got); err != nil {
			r.t.Fatal(err)
		}
		if got == a {
			ids = append(ids, j.ID)
		}
	}
	return ids
}

// TestConsoleRetry walks a delivery that failed for good and one the
// queue gave up on through "Retry now": each is queued again as the same
// delivery (same arguments, so the same idempotency key), posted once,
// audited, and cannot be retried once delivered.
func TestConsoleRetry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newConsoleRig(t, db)
		failed := Args{NoticeID: 1, Revision: 1, Channel: "masto", Action: ActionPublish}
		gaveUp := Args{NoticeID: 2, Revision: 1, Channel: "masto", Action: ActionPublish}
		r.queueJob(failed, nil)

		// Still waiting in the queue: nothing to retry.
		if e := r.entry(failed); e.State != store.DeliveryQueued || !e.Waiting || e.NextAttempt == nil || e.CanRetry() {
			t.Errorf("waiting delivery: %+v", e)
		}
		if err := r.console.Retry(ctx, "user:approver@x", failed); signpost.ErrorCode(err) != signpost.ECONFLICT {
			t.Errorf("retry of a waiting delivery: %v, want ECONFLICT", err)
		}

		r.start()
		r.masto.Fail(1, fake.Unauthorized)
		if k := r.finished(); k != river.EventKindJobCancelled {
			t.Fatalf("revoked token: %s, want cancelled", k)
		}
		e := r.entry(failed)
		if e.State != store.DeliveryFailed || e.Waiting || !e.CanRetry() || e.LastError == "" {
			t.Fatalf("failed delivery: %+v", e)
		}
		before := r.jobIDs(failed)

		// One attempt allowed and a server error: River discards it.
		r.masto.Fail(1, fake.ServerError)
		r.queueJob(gaveUp, &river.InsertOpts{Queue: Queue, MaxAttempts: 1})
		r.finished()
		if e := r.entry(gaveUp); e.State != store.DeliveryDiscarded || !e.CanRetry() {
			t.Fatalf("discarded delivery: %+v", e)
		}
		// River removes finished jobs after a while; retrying then
		// queues a new job with the same arguments.
		if _, err := db.JobPool().ExecContext(ctx, `DELETE FROM river_job WHERE id = `+strconv.FormatInt(r.jobIDs(gaveUp)[0], 10)); err != nil {
			t.Fatal(err)
		}

		for _, a := range []Args{failed, gaveUp} {
			if err := r.console.Retry(ctx, "user:approver@x", a); err != nil {
				t.Fatalf("retry %s: %v", a.Key(), err)
			}
			if k := r.finished(); k != river.EventKindJobCompleted {
				t.Fatalf("retried %s: %s", a.Key(), k)
			}
			e := r.entry(a)
			if e.State != store.DeliveryDelivered || e.CanRetry() || e.PostURL == "" {
				t.Errorf("after retry %s: %+v", a.Key(), e)
			}
			if err := r.console.Retry(ctx, "user:approver@x", a); signpost.ErrorCode(err) != signpost.ECONFLICT {
				t.Errorf("retry of a delivered %s: %v, want ECONFLICT", a.Key(), err)
			}
		}
		if after := r.jobIDs(failed); len(after) != 1 || after[0] != before[0] {
			t.Errorf("retry made jobs %v of %v; want the same job again", after, before)
		}
		if ids := r.jobIDs(gaveUp); len(ids) != 1 {
			t.Errorf("jobs for the removed delivery: %v, want one new one", ids)
		}
		if e := r.entry(failed); e.Attempts != 2 {
			t.Errorf("attempts after retry: %d, want 2 (River counts on)", e.Attempts)
		}
		if st := r.masto.Statuses(); len(st) != 2 {
			t.Errorf("statuses: %+v, want one per notice", st)
		}
		entries, err := audit.List(ctx, db, audit.Filter{Action: string(AuditRetry)})
		if err != nil || len(entries) != 2 || entries[0].Target != "delivery:"+failed.Key() || entries[0].Actor != "user:approver@x" {
			t.Errorf("audit: %+v, %v", entries, err)
		}
	})
}
