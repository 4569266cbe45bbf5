package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/channel/mastodon"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// queuePool returns a pgx pool whose search_path is a fresh schema,
// dropped when the test ends.
func queuePool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	base := os.Getenv(storetest.EnvPostgres)
	if base == "" {
		t.Skipf("skipping PostgreSQL: set %s to run it", storetest.EnvPostgres)
	}
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	schema := "q_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	t.Cleanup(func() {
		if admin, err := pgx.Connect(context.Background(), base); err == nil {
			admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			admin.Close(context.Background())
		}
	})
	cfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestPostgresSharedQueue runs two River clients (two serve processes) on
// one PostgreSQL queue: every notice is posted exactly once, and stopping
// one client mid-run loses nothing.
func TestPostgresSharedQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := queuePool(t)
	db := storetest.Open(t, store.Postgres)
	masto := fake.NewMastodon("tok")
	defer masto.Close()
	if _, err := db.CreateChannel(ctx, store.Channel{Name: "masto", Type: "mastodon"}); err != nil {
		t.Fatal(err)
	}
	driver := riverpgxv5.New(pool)
	if err := Migrate(ctx, driver); err != nil {
		t.Fatal(err)
	}
	conn, err := mastodon.New(mastodon.Config{Server: masto.URL, Token: "tok", Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	newClient := func() *river.Client[pgx.Tx] {
		w := NewWorker(Config{
			Store:     db,
			Connector: func(context.Context, string) (channel.Connector, error) { return conn, nil },
			Render: func(_ context.Context, id int64, rev int, _ string) (channel.Post, error) {
				return channel.Post{Parts: []string{fmt.Sprintf("Notice %d revision %d", id, rev)}}, nil
			},
			Backoff: func(int) time.Duration { return time.Millisecond },
			Wait:    func(time.Duration) time.Duration { return time.Millisecond },
			Logger:  quiet(),
		})
		c, err := NewClient(driver, w, 4, 20*time.Millisecond, quiet())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := newClient(), newClient()
	done, cancelSub := b.Subscribe(river.EventKindJobCompleted)
	defer cancelSub()
	doneA, cancelA := a.Subscribe(river.EventKindJobCompleted)
	defer cancelA()

	const notices = 40
	masto.Fail(6, fake.ServerError)
	for id := int64(1); id <= notices; id++ {
		if _, err := Enqueue(ctx, a, id, 1, ActionPublish, []string{"masto"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	completedIDs := map[int64]bool{}
	completed := 0
	stoppedA := false
	timeout := time.After(60 * time.Second)
	for completed < notices {
		select {
		case ev := <-done:
			completedIDs[ev.Job.ID] = true
			completed = len(completedIDs)
		case ev, ok := <-doneA:
			if !ok {
				doneA = nil // a stopped: its subscription closed
				continue
			}
			completedIDs[ev.Job.ID] = true
			completed = len(completedIDs)
			if !stoppedA && completed >= notices/4 {
				// One process goes away mid-run; the other carries on.
				stoppedA = true
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					a.Stop(ctx)
				}()
			}
		case <-timeout:
			t.Fatalf("timed out: %d of %d deliveries completed", completed, notices)
		}
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b.Stop(stopCtx)
	counts := map[string]int{}
	for _, s := range masto.Statuses() {
		counts[s.Text]++
	}
	if len(counts) != notices {
		t.Errorf("%d distinct notices posted, want %d", len(counts), notices)
		rows, _ := pool.Query(ctx, "SELECT id, state, attempt, args::text FROM river_job ORDER BY id")
		for rows.Next() {
			var id int64
			var state, args string
			var attempt int
			rows.Scan(&id, &state, &attempt, &args)
			t.Logf("job %d %s attempt %d %s", id, state, attempt, args)
		}
		rows.Close()
	}
	for text, n := range counts {
		if n != 1 {
			t.Errorf("%q posted %d times", text, n)
		}
	}
}
