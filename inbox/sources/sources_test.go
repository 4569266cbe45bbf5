package sources

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/bluesky"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/channel/mastodon"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// memStore keeps messages unique on (channel, external id) and cursors,
// as the store does, and can be told to fail the next cursor save, which
// is where a crash between ingesting and saving would strike.
type memStore struct {
	mu         sync.Mutex
	msgs       map[[2]string]inbox.Incoming
	order      []inbox.Incoming
	cursors    map[string]string
	failSaves  int
	savedCount int
}

func newMemStore() *memStore {
	return &memStore{msgs: map[[2]string]inbox.Incoming{}, cursors: map[string]string{}}
}

func (m *memStore) Ingest(_ context.Context, in inbox.Incoming) (int64, bool, error) {
	in, err := in.Normalise()
	if err != nil {
		return 0, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{in.Channel, in.ExternalID}
	if _, ok := m.msgs[k]; ok {
		return 1, false, nil
	}
	m.msgs[k] = in
	m.order = append(m.order, in)
	return int64(len(m.order)), true, nil
}

func (m *memStore) SourceCursor(_ context.Context, source string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursors[source], nil
}

func (m *memStore) SaveSourceCursor(_ context.Context, source, cursor string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failSaves > 0 {
		m.failSaves--
		return errors.New("database went away")
	}
	m.savedCount++
	m.cursors[source] = cursor
	return nil
}

func (m *memStore) messages() []inbox.Incoming {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]inbox.Incoming(nil), m.order...)
}

// conns is a fixed set of channels and their connectors.
type conns map[string]channel.Connector

func (c conns) Get(_ context.Context, name string) (channel.Connector, error) {
	if conn, ok := c[name]; ok {
		return conn, nil
	}
	return nil, signpost.Errorf(signpost.ENOTFOUND, "no channel named %q", name)
}

func (c conns) Channels(context.Context) ([]store.Channel, error) {
	var out []store.Channel
	for name, conn := range c {
		typ := "x"
		switch conn.(type) {
		case *mastodon.Connector:
			typ = "mastodon"
		case *bluesky.Connector:
			typ = "bluesky"
		}
		out = append(out, store.Channel{Name: name, Type: typ})
	}
	return out, nil
}

func newMastodon(t *testing.T) (*mastodon.Connector, *fake.Mastodon) {
	t.Helper()
	srv := fake.NewMastodon("tok")
	t.Cleanup(srv.Close)
	c, err := mastodon.New(mastodon.Config{Server: srv.URL, Token: "tok", Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func newBluesky(t *testing.T) (*bluesky.Connector, *fake.Bluesky) {
	t.Helper()
	srv := fake.NewBluesky("northdale.gov.uk", "app-pass")
	t.Cleanup(srv.Close)
	c, err := bluesky.New(bluesky.Config{Service: srv.URL, Identifier: "northdale.gov.uk", AppPassword: "app-pass", Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// clock is a settable time for backoff.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func pollOK(t *testing.T, r *Runner) []Result {
	t.Helper()
	res, err := r.PollOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res {
		if x.Err != nil {
			t.Fatalf("%s: %v", x.Source, x.Err)
		}
	}
	return res
}

func TestMastodonPollResumesWithoutLossOrDuplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, srv := newMastodon(t)
	own, err := conn.Publish(ctx, channel.Post{Parts: []string{"Tip closed today"}})
	if err != nil {
		t.Fatal(err)
	}
	early := srv.Mention("old@example.social", "Old", "before Signpost was set up", "public", "")
	db := newMemStore()
	clk := &clock{time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC)}
	newRunner := func() *Runner {
		return &Runner{Channels: conns{"masto": conn}, Connectors: conns{"masto": conn}, Sink: db, Cursors: db, Interval: time.Minute, Now: clk.now}
	}
	r := newRunner()
	pollOK(t, r)
	if got := db.messages(); len(got) != 1 || got[0].ExternalID != early {
		t.Fatalf("first poll: %+v", got)
	}

	// 200 new mentions: several pages, all read in one poll, oldest first.
	var want []string
	for i := range 200 {
		switch i % 3 {
		case 0:
			want = append(want, srv.Mention("ann@example.social", "Ann", "Is the tip open?", "public", ""))
		case 1:
			want = append(want, srv.Mention("bob", "Bob", "my address is private", "direct", ""))
		default:
			want = append(want, srv.Mention("cat@example.social", "Cat", "Thanks", "public", own.IDs[0]))
		}
	}
	// The process dies after ingesting the first page but before saving
	// its cursor.
	db.failSaves = 1
	res, _ := r.PollOnce(ctx)
	if len(res) != 1 || res[0].Err == nil || res[0].New != 80 {
		t.Fatalf("crashing poll: %+v", res)
	}
	// A new process resumes from the last saved cursor and re-reads the
	// first page; nothing is lost or doubled.
	clk.t = clk.t.Add(time.Hour)
	res = pollOK(t, newRunner())
	if res[0].Read != 200 || res[0].New != 120 {
		t.Errorf("resumed poll: %+v", res[0])
	}
	got := db.messages()[1:]
	if len(got) != 200 {
		t.Fatalf("%d messages, want 200", len(got))
	}
	for i, m := range got {
		if m.ExternalID != want[i] {
			t.Fatalf("message %d is %s, want %s", i, m.ExternalID, want[i])
		}
		wantKind, wantThread := inbox.KindMention, m.ExternalID
		switch i % 3 {
		case 1:
			wantKind = inbox.KindDirect
		case 2:
			wantKind, wantThread = inbox.KindReply, own.IDs[0]
		}
		if m.Kind != wantKind || m.ThreadRef != wantThread || m.Channel != "masto" || m.ReceivedAt.IsZero() {
			t.Errorf("message %d = %+v", i, m)
		}
	}
	if got[1].Author != "bob" || got[1].AuthorName != "Bob" || got[1].Text != "my address is private" {
		t.Errorf("direct message = %+v", got[1])
	}

	// The same status notified again is read but not stored twice.
	srv.Renotify(want[5])
	res = pollOK(t, r)
	if res[0].Read != 1 || res[0].New != 0 || len(db.messages()) != 201 {
		t.Errorf("renotified: %+v, %d messages", res[0], len(db.messages()))
	}
}

func TestBackoffAndRetryAfter(t *testing.T) {
	t.Parallel()
	conn, srv := newMastodon(t)
	db := newMemStore()
	clk := &clock{time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC)}
	r := &Runner{Channels: conns{"masto": conn}, Connectors: conns{"masto": conn}, Sink: db, Cursors: db, Interval: time.Minute, Now: clk.now}
	ctx := context.Background()

	tests := []struct {
		name  string
		fault fake.Fault
		wait  time.Duration // how long until the source is polled again
	}{
		{"server error", fake.ServerError, time.Minute},
		{"second failure doubles", fake.BadGateway, 2 * time.Minute},
		{"timeout", fake.Hang, 4 * time.Minute},
		{"revoked token", fake.Unauthorized, maxBackoff},
	}
	for _, tt := range tests {
		srv.Fail(1, tt.fault)
		res, err := r.PollOnce(ctx)
		if err != nil || len(res) != 1 || res[0].Err == nil {
			t.Fatalf("%s: %+v, %v", tt.name, res, err)
		}
		clk.t = clk.t.Add(tt.wait - time.Second)
		if res, _ := r.PollOnce(ctx); len(res) != 0 {
			t.Fatalf("%s: polled again before %s: %+v", tt.name, tt.wait, res)
		}
		clk.t = clk.t.Add(time.Second)
		if tt.name == "revoked token" {
			break
		}
	}
	// Recovery resets the delay; a 429's Retry-After is honoured when
	// longer than the delay.
	pollOK(t, r)
	srv.Fail(1, fake.RateLimited)
	r.PollOnce(ctx)
	clk.t = clk.t.Add(fake.RetryAfter*time.Second - time.Millisecond)
	if res, _ := r.PollOnce(ctx); len(res) != 0 {
		t.Fatal("polled before Retry-After")
	}
	clk.t = clk.t.Add(time.Minute)
	pollOK(t, r)
}

func TestBlueskyPollResumesAndMarksSeen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, srv := newBluesky(t)
	own, err := conn.Publish(ctx, channel.Post{Parts: []string{"Roads gritted"}})
	if err != nil {
		t.Fatal(err)
	}
	db := newMemStore()
	clk := &clock{time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC)}
	r := &Runner{Channels: conns{"sky": conn}, Connectors: conns{"sky": conn}, Sink: db, Cursors: db, Interval: time.Minute, Now: clk.now}
	first := srv.Mention("ann.bsky.social", "Ann", "Is Elm Street gritted?", "")
	pollOK(t, r)
	var want []string
	for i := range 150 {
		parent := ""
		if i%2 == 0 {
			parent = own.IDs[0]
		}
		want = append(want, srv.Mention("bob.bsky.social", "Bob", "And Oak Road?", parent))
	}
	seen := srv.SeenAt()
	db.failSaves = 1
	if res, _ := r.PollOnce(ctx); res[0].Err == nil || res[0].New != 150 {
		t.Fatalf("crashing poll: %+v", res)
	}
	if !srv.SeenAt().Equal(seen) {
		t.Error("notifications marked seen although their cursor was not saved")
	}
	srv.Fail(1, fake.Expired) // the session expired meanwhile
	clk.t = clk.t.Add(time.Minute)
	res := pollOK(t, r)
	if res[0].New != 0 || res[0].Read < 150 {
		t.Errorf("resumed: %+v", res[0])
	}
	got := db.messages()
	if len(got) != 151 || got[0].ExternalID != first || got[0].ThreadRef != first || got[0].Kind != inbox.KindMention {
		t.Fatalf("messages: %d, first %+v", len(got), got[0])
	}
	for i, m := range got[1:] {
		wantKind, wantThread := inbox.KindMention, m.ExternalID
		if i%2 == 0 {
			wantKind, wantThread = inbox.KindReply, own.IDs[0]
		}
		if m.ExternalID != want[i] || m.Kind != wantKind || m.ThreadRef != wantThread || m.Author != "bob.bsky.social" {
			t.Fatalf("message %d = %+v", i, m)
		}
	}
	if !srv.SeenAt().After(seen) {
		t.Error("notifications not marked seen after the cursor was saved")
	}
}

// countingSink counts what the store created.
type countingSink struct {
	*store.DB
	mu      sync.Mutex
	created map[int64]int
}

func (c *countingSink) Ingest(ctx context.Context, in inbox.Incoming) (int64, bool, error) {
	id, created, err := c.DB.Ingest(ctx, in)
	if err == nil && created {
		c.mu.Lock()
		c.created[id]++
		c.mu.Unlock()
	}
	return id, created, err
}

// Two serve processes polling one channel at once into the same
// database store each message once.
func TestTwoNodesPollIntoOneStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		conn, srv := newMastodon(t)
		if err := db.SaveSourceCursor(ctx, "mastodon:masto", "1"); err != nil {
			t.Fatal(err)
		}
		for i := range 120 {
			srv.Mention("ann@example.social", "Ann", fmt.Sprintf("question %d", i), "public", "")
		}
		sink := &countingSink{DB: db, created: map[int64]int{}}
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for range 2 {
			r := &Runner{Channels: conns{"masto": conn}, Connectors: conns{"masto": conn}, Sink: sink, Cursors: db, Interval: time.Minute}
			wg.Go(func() {
				res, err := r.PollOnce(ctx)
				if err == nil && res[0].Err != nil {
					err = res[0].Err
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(sink.created) != 120 {
			t.Errorf("%d messages stored, want 120", len(sink.created))
		}
		for id, n := range sink.created {
			if n != 1 {
				t.Errorf("message %d created %d times", id, n)
			}
		}
		if c, _ := db.SourceCursor(ctx, "mastodon:masto"); c == "1" {
			t.Error("cursor not advanced")
		}
	})
}

// healthLog records what the runner says about channels' health.
type healthLog struct {
	mu   sync.Mutex
	sets []string
}

func (h *healthLog) SetChannelHealth(_ context.Context, name string, healthy bool, lastError string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sets = append(h.sets, fmt.Sprintf("%s %v %v", name, healthy, lastError != ""))
	return nil
}

func TestRevokedTokenMarksChannelUnhealthyOnce(t *testing.T) {
	t.Parallel()
	conn, srv := newMastodon(t)
	db := newMemStore()
	clk := &clock{time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC)}
	h := &healthLog{}
	r := &Runner{Channels: conns{"masto": conn}, Connectors: conns{"masto": conn}, Sink: db, Cursors: db, Interval: time.Minute, Now: clk.now, Health: h}
	ctx := context.Background()
	pollOK(t, r)
	srv.Fail(1, fake.ServerError) // retryable: not the channel's fault
	r.PollOnce(ctx)
	clk.t = clk.t.Add(time.Hour)
	srv.Fail(2, fake.Unauthorized)
	r.PollOnce(ctx)
	clk.t = clk.t.Add(time.Hour)
	r.PollOnce(ctx)
	clk.t = clk.t.Add(time.Hour)
	pollOK(t, r)
	pollOK(t, r)
	if want := []string{"masto false true", "masto true false"}; !slices.Equal(h.sets, want) {
		t.Errorf("health records %v, want %v", h.sets, want)
	}
}
