package mastodon

import (
	"context"
	"testing"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
)

func TestMentionsPagesFromCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "good-token")
	notice, err := c.Publish(ctx, channel.Post{Parts: []string{"Bins collected a day late"}})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range mentionPageSize + 5 {
		vis, reply := "public", ""
		if i%3 == 1 {
			vis = "direct"
		}
		if i%3 == 2 {
			reply = notice.IDs[0]
		}
		want = append(want, srv.Mention("ann@example.social", "Ann", "Is my road gritted? https://example.org/a/very/long/path/to/a/page", vis, reply))
	}

	// A new channel starts from the newest page only.
	first, err := c.Mentions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Mentions) != mentionPageSize || first.More || first.Cursor == "" {
		t.Fatalf("first page: %d mentions, more %v, cursor %q", len(first.Mentions), first.More, first.Cursor)
	}
	if got := first.Mentions[len(first.Mentions)-1].StatusID; got != want[len(want)-1] {
		t.Errorf("newest mention last: got %s, want %s", got, want[len(want)-1])
	}

	// From a cursor, pages come oldest first until caught up.
	srv2 := fake.NewMastodon("t")
	t.Cleanup(srv2.Close)
	c2, _ := New(Config{Server: srv2.URL, Token: "t", Client: fake.Client()})
	own, _ := c2.Publish(ctx, channel.Post{Parts: []string{"Snow update"}})
	var ids []string
	for i := range 2*mentionPageSize + 3 {
		vis, reply := "public", ""
		switch i % 3 {
		case 1:
			vis = "direct"
		case 2:
			reply = own.IDs[0]
		}
		ids = append(ids, srv2.Mention("bob", "Bob", "Hello\n\nsecond <para> & more", vis, reply))
	}
	start, _ := c2.Mentions(ctx, "")
	// Pretend the poller had stopped before the first mention.
	cursor := "1"
	var got []Mention
	for range 10 {
		p, err := c2.Mentions(ctx, cursor)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Mentions...)
		cursor = p.Cursor
		if !p.More {
			break
		}
	}
	if len(got) != len(ids) {
		t.Fatalf("read %d mentions, want %d", len(got), len(ids))
	}
	for i, m := range got {
		if m.StatusID != ids[i] {
			t.Fatalf("mention %d is %s, want %s (order)", i, m.StatusID, ids[i])
		}
		wantVis, wantReply := "public", false
		switch i % 3 {
		case 1:
			wantVis = "direct"
		case 2:
			wantReply = true
		}
		if m.Visibility != wantVis || m.Reply != wantReply || m.Acct != "bob" || m.DisplayName != "Bob" || m.Text != "Hello\n\nsecond <para> & more" {
			t.Errorf("mention %d = %+v", i, m)
		}
	}
	if cursor != start.Cursor {
		t.Errorf("caught-up cursor %q, want the newest %q", cursor, start.Cursor)
	}
	// Nothing new: the cursor stays.
	p, err := c2.Mentions(ctx, cursor)
	if err != nil || len(p.Mentions) != 0 || p.Cursor != cursor || p.More {
		t.Errorf("caught up: %+v, %v", p, err)
	}
}

func TestReply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "good-token")
	dm := srv.Mention("ann@example.social", "Ann", "Is Oak Road gritted?", "direct", "")
	id, err := c.Reply(ctx, "reply-1", dm, "Yes, this morning.")
	if err != nil {
		t.Fatal(err)
	}
	// A retry with the same key (the answer was lost) posts nothing new.
	again, err := c.Reply(ctx, "reply-1", dm, "Yes, this morning.")
	if err != nil || again != id {
		t.Fatalf("retry: %q, %v; want %q", again, err, id)
	}
	var mine []fake.MastodonStatus
	for _, s := range srv.Statuses() {
		if s.Acct == "" {
			mine = append(mine, s)
		}
	}
	if len(mine) != 1 || mine[0].ID != id || mine[0].InReplyToID != dm || mine[0].Visibility != "direct" || mine[0].Text != "@ann@example.social Yes, this morning." {
		t.Fatalf("replies = %+v", mine)
	}

	srv.Fail(1, fake.RateLimited)
	if _, err := c.Reply(ctx, "reply-2", dm, "x"); !channel.IsRetryable(err) {
		t.Errorf("rate limited: %v, want retryable", err)
	}
	if _, err := c.Reply(ctx, "reply-3", "999", "x"); !channel.IsPermanent(err) {
		t.Errorf("deleted message: %v, want permanent", err)
	}
}
