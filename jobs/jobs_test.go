package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

type pingArgs struct {
	N int `json:"n"`
}

func (pingArgs) Kind() string { return "test_ping" }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	mu   sync.Mutex
	seen map[int]int
}

func (w *pingWorker) Work(_ context.Context, j *river.Job[pingArgs]) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen[j.Args.N]++
	return nil
}

// TestQueue runs the queue on each engine: a job inserted in a store
// transaction that rolls back never exists, one in a transaction that
// commits is worked once, and store writes go on while the queue runs
// (on SQLite both share the one writer).
func TestQueue(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := &pingWorker{seen: map[int]int{}}
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		q, err := Open(ctx, db, Config{Workers: workers, MaxWorkers: 2, PollInterval: 20 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		events, cancel := q.Subscribe(river.EventKindJobCompleted)
		defer cancel()
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := q.Stop(sctx); err != nil {
				t.Error(err)
			}
		}()
		rollback := errors.New("roll back")
		err = db.UpdateQuietly(ctx, func(tx *store.Tx) error {
			if _, err := q.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: pingArgs{N: 1}}}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		for n := 2; n <= 6; n++ {
			err := db.UpdateQuietly(ctx, func(tx *store.Tx) error {
				_, err := q.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: pingArgs{N: n}}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			// The store keeps writing while jobs run.
			if _, err := db.CreateChannel(ctx, store.Channel{Name: "c" + string(rune('0'+n)), Type: "webhook"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := q.Insert(ctx, pingArgs{N: 7}, nil); err != nil {
			t.Fatal(err)
		}
		timeout := time.After(30 * time.Second)
		for done := 0; done < 6; {
			select {
			case <-events:
				done++
			case <-timeout:
				t.Fatalf("only %d of 6 jobs completed", done)
			}
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.seen[1] != 0 {
			t.Error("a job from a rolled-back transaction ran")
		}
		for n := 2; n <= 7; n++ {
			if w.seen[n] != 1 {
				t.Errorf("job %d ran %d times", n, w.seen[n])
			}
		}
	})
}
