package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/bluesky"
	"github.com/signpost-uk/signpost/channel/facebook"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/channel/mastodon"
	"github.com/signpost-uk/signpost/channel/x"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// TestChaos delivers 200 notices to four networks whose fakes fail 30% of
// calls (5xx, 429, 503, dropped connections), restarting the queue's
// client five times mid-run as a redeploy would, and checks that every
// (notice, channel) pair was posted exactly once and none was lost.
//
// A tenth of the posts that succeed also lose their answer, which is what
// a SIGKILL between the network accepting a post and the delivery being
// recorded looks like to the retry: each network's idempotency (Mastodon's
// Idempotency-Key, Bluesky's derived record keys, Facebook's look-up, X's
// duplicate refusal) must keep that retry from posting again. The restarts
// themselves are graceful.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test takes a few seconds")
	}
	t.Parallel()
	const notices, restarts = 200, 5
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	kinds := []fake.Fault{fake.ServerError, fake.BadGateway, fake.RateLimited, fake.Unavailable, fake.Reset}

	masto := fake.NewMastodon("tok")
	sky := fake.NewBluesky("northdale.gov.uk", "app-pass")
	fb := fake.NewFacebook("104729", "page-tok")
	xx := fake.NewX("x-tok")
	for _, s := range []interface{ Close() }{masto, sky, fb, xx} {
		defer s.Close()
	}
	masto.FailRandomly(0.3, 1, kinds...)
	sky.FailRandomly(0.3, 2, append(kinds, fake.Expired)...)
	fb.FailRandomly(0.3, 3, kinds...)
	xx.FailRandomly(0.3, 4, kinds...)

	client := fake.Client()
	conns := map[string]channel.Connector{}
	var err error
	if conns["masto"], err = mastodon.New(mastodon.Config{Server: masto.URL, Token: "tok", Client: client}); err != nil {
		t.Fatal(err)
	}
	if conns["sky"], err = bluesky.New(bluesky.Config{Service: sky.URL, Identifier: "northdale.gov.uk", AppPassword: "app-pass", Client: client}); err != nil {
		t.Fatal(err)
	}
	if conns["fb"], err = facebook.New(facebook.Config{PageID: "104729", Token: "page-tok", Graph: fb.URL, Version: fake.GraphVersion, Client: client}); err != nil {
		t.Fatal(err)
	}
	if conns["x"], err = x.New(x.Config{API: xx.URL, Token: "x-tok", Client: client}); err != nil {
		t.Fatal(err)
	}
	// A tenth of the calls that reach the network lose their answer, as
	// when the process dies after the post but before recording it.
	lost := &lostAnswers{rng: rand.New(rand.NewPCG(5, 6)), rate: 0.1}
	for name, c := range conns {
		conns[name] = lostConnector{Connector: c, lost: lost}
	}
	names := []string{"masto", "sky", "fb", "x"}
	for _, n := range names {
		if _, err := db.CreateChannel(ctx, store.Channel{Name: n, Type: "test"}); err != nil {
			t.Fatal(err)
		}
	}

	queue, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "queue.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	queue.SetMaxOpenConns(1)
	defer queue.Close()
	driver := riversqlite.New(queue)
	if err := Migrate(ctx, driver); err != nil {
		t.Fatal(err)
	}
	worker := NewWorker(Config{
		Store:     db,
		Connector: func(_ context.Context, name string) (channel.Connector, error) { return conns[name], nil },
		Render: func(_ context.Context, id int64, rev int, _ string) (channel.Post, error) {
			made := time.Date(2026, 1, 6, 6, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Second)
			return channel.Post{Parts: []string{fmt.Sprintf("Notice %d revision %d", id, rev)}, CreatedAt: made}, nil
		},
		Backoff: func(int) time.Duration { return time.Millisecond },
		Wait:    func(time.Duration) time.Duration { return time.Millisecond },
		Logger:  quiet(),
	})
	start := func() (*river.Client[*sql.Tx], <-chan *river.Event) {
		c, err := NewClient(driver, worker, 4, 5*time.Millisecond, quiet())
		if err != nil {
			t.Fatal(err)
		}
		events, _ := c.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled)
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return c, events
	}

	rc, events := start()
	for id := int64(1); id <= notices; id++ {
		if _, err := Enqueue(ctx, rc, id, 1, ActionPublish, names); err != nil {
			t.Fatal(err)
		}
	}
	total := notices * len(names)
	done, cancelled, restarted := 0, 0, 0
	nextRestart := total / (restarts + 1)
	timeout := time.After(3 * time.Minute)
	for done < total {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("subscription closed")
			}
			done++
			if ev.Kind == river.EventKindJobCancelled {
				cancelled++
				if n := len(ev.Job.Errors); n > 0 {
					t.Logf("cancelled %s: %s", ev.Job.EncodedArgs, ev.Job.Errors[n-1].Error)
				}
			}
			if done >= nextRestart && restarted < restarts {
				restarted++
				nextRestart += total / (restarts + 1)
				stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
				if err := rc.Stop(stopCtx); err != nil {
					t.Fatalf("stop: %v", err)
				}
				cancel()
				// Jobs that finished while stopping were not counted yet.
				for range events {
					done++
				}
				rc, events = start()
			}
		case <-timeout:
			t.Fatalf("timed out: %d of %d deliveries finished", done, total)
		}
	}
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rc.Stop(stopCtx)
	if restarted != restarts {
		t.Errorf("restarted %d times, want %d", restarted, restarts)
	}
	if cancelled != 0 {
		t.Errorf("%d deliveries cancelled; every fault was temporary", cancelled)
	}

	posted := map[string]map[string]int{"masto": {}, "sky": {}, "fb": {}, "x": {}}
	for _, s := range masto.Statuses() {
		posted["masto"][s.Text]++
	}
	for _, p := range sky.Posts() {
		posted["sky"][p.Record.Text]++
	}
	for _, p := range fb.Posts() {
		posted["fb"][p.Message]++
	}
	for _, tw := range xx.Tweets() {
		posted["x"][tw.Text]++
	}
	for _, name := range names {
		for id := 1; id <= notices; id++ {
			if n := posted[name][fmt.Sprintf("Notice %d revision 1", id)]; n != 1 {
				t.Errorf("%s: notice %d posted %d times", name, id, n)
			}
		}
		if len(posted[name]) != notices {
			t.Errorf("%s: %d distinct posts, want %d", name, len(posted[name]), notices)
		}
	}
	t.Logf("faults injected: mastodon %d, bluesky %d, facebook %d, x %d; answers lost after posting: %d", masto.Injected(), sky.Injected(), fb.Injected(), xx.Injected(), lost.count())
	if lost.count() == 0 {
		t.Error("no answers were lost: the crash window was not exercised")
	}
}

// lostAnswers decides which successful calls lose their answer.
type lostAnswers struct {
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64
	n    int
}

func (l *lostAnswers) lose() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rng.Float64() < l.rate {
		l.n++
		return true
	}
	return false
}

func (l *lostAnswers) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// lostConnector posts for real, then sometimes reports a timeout as if
// the answer never came back.
type lostConnector struct {
	channel.Connector
	lost *lostAnswers
}

func (c lostConnector) Publish(ctx context.Context, p channel.Post) (channel.Receipt, error) {
	r, err := c.Connector.Publish(ctx, p)
	if err == nil && c.lost.lose() {
		return channel.Receipt{}, channel.Retryable(0, "answer lost after the post was made")
	}
	return r, err
}
