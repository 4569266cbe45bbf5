package bluesky

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
)

func TestMentionsAndWatermark(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newInboundConnector(t)
	own, err := c.Publish(ctx, channel.Post{Parts: []string{"Gritters out tonight"}})
	if err != nil {
		t.Fatal(err)
	}
	var uris []string
	for i := range 250 {
		parent := ""
		if i%2 == 1 {
			parent = own.IDs[0]
		}
		uris = append(uris, srv.Mention("ann.bsky.social", "Ann", "Is Elm Street gritted?", parent))
	}

	// A new channel reads the newest page only.
	first, mark, err := c.Mentions(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 100 || first[99].URI != uris[249] || mark.IsZero() {
		t.Fatalf("first read: %d mentions, last %v, mark %v", len(first), first[len(first)-1].URI, mark)
	}

	// From a watermark before them all, every one comes back, oldest first.
	all, mark2, err := c.Mentions(ctx, time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 250 || !mark2.Equal(mark) {
		t.Fatalf("read %d, mark %v; want 250 and %v", len(all), mark2, mark)
	}
	for i, m := range all {
		wantReason, wantRoot := "mention", m.URI
		if i%2 == 1 {
			wantReason, wantRoot = "reply", own.IDs[0]
		}
		if m.URI != uris[i] || m.Reason != wantReason || m.RootURI != wantRoot || m.Handle != "ann.bsky.social" || m.DisplayName != "Ann" || m.Text != "Is Elm Street gritted?" {
			t.Fatalf("mention %d = %+v", i, m)
		}
	}

	// At the watermark: only what shares its timestamp comes back.
	again, _, err := c.Mentions(ctx, mark)
	if err != nil || len(again) != 1 || again[0].URI != uris[249] {
		t.Fatalf("from the watermark: %+v, %v", again, err)
	}
	srv.Renotify(uris[3])
	again, _, _ = c.Mentions(ctx, mark)
	if len(again) != 2 || again[1].URI != uris[3] {
		t.Errorf("a re-delivered notification: %+v", again)
	}

	if err := c.MarkSeen(ctx, mark); err != nil {
		t.Fatal(err)
	}
	if !srv.SeenAt().Equal(mark) {
		t.Errorf("seenAt = %v, want %v", srv.SeenAt(), mark)
	}
}

func TestReplyThreadsAndIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newInboundConnector(t)
	own, _ := c.Publish(ctx, channel.Post{Parts: []string{"Bins late"}})
	q := srv.Mention("bob.example.com", "Bob", "When will mine come?", own.IDs[0])
	at := time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC)
	uri, err := c.Reply(ctx, "reply-9", at, q, "Tomorrow, Bob.")
	if err != nil {
		t.Fatal(err)
	}
	// The answer was lost and the job retried: the same record is rewritten.
	again, err := c.Reply(ctx, "reply-9", at, q, "Tomorrow, Bob.")
	if err != nil || again != uri {
		t.Fatalf("retry: %q, %v; want %q", again, err, uri)
	}
	var reply *fake.BlueskyPost
	for _, p := range srv.Posts() {
		if p.URI == uri {
			reply = &p
		}
	}
	if reply == nil || reply.Writes != 1 || reply.Record.Reply == nil || reply.Record.Reply.Root.URI != own.IDs[0] || reply.Record.Reply.Parent.URI != q {
		t.Fatalf("reply = %+v", reply)
	}
	if n := len(srv.Posts()); n != 3 {
		t.Errorf("%d posts, want 3", n)
	}

	if _, err := c.Reply(ctx, "reply-10", at, "at://did:plc:x/app.bsky.feed.post/3kabcdefghijk", "x"); !channel.IsPermanent(err) {
		t.Errorf("deleted post: %v, want permanent", err)
	}
	srv.Fail(1, fake.Expired)
	if _, err := c.Reply(ctx, "reply-11", at, q, "Another answer."); err != nil {
		t.Errorf("after an expired token: %v", err)
	}
	srv.Fail(1, fake.RateLimited)
	if _, _, err := c.Mentions(ctx, time.Time{}); !channel.IsRetryable(err) || !strings.Contains(err.Error(), "notifications") {
		t.Errorf("rate limited: %v", err)
	} else if d, ok := channel.RetryAfter(err); !ok || d <= 0 {
		t.Errorf("no retry-after from %v", err)
	}
}

func newInboundConnector(t *testing.T) (*Connector, *fake.Bluesky) {
	t.Helper()
	srv := fake.NewBluesky("northdale.gov.uk", "app-pass")
	t.Cleanup(srv.Close)
	c, err := New(Config{Service: srv.URL, Identifier: "northdale.gov.uk", AppPassword: "app-pass", Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}
