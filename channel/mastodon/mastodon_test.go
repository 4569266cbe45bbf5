package mastodon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
)

func newConnector(t *testing.T, token string) (*Connector, *fake.Mastodon) {
	t.Helper()
	srv := fake.NewMastodon("good-token")
	t.Cleanup(srv.Close)
	c, err := New(Config{Server: srv.URL, Token: token, Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestPublishThreadUpdateDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "good-token")
	if err := c.Health(ctx); err != nil {
		t.Fatalf("Health: %v", err)
	}
	post := channel.Post{Parts: []string{"1/2 Snow closes schools", "2/2 Buses off"}, Languages: []string{"cy", "en"}, IdempotencyKey: "n1r1-masto"}
	r, err := c.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Statuses()
	if len(got) != 2 || got[0].Text != post.Parts[0] || got[1].InReplyToID != got[0].ID || got[0].Language != "cy" || got[0].Visibility != "public" {
		t.Fatalf("statuses = %+v", got)
	}
	if len(r.IDs) != 2 || r.IDs[1] != got[1].ID || !strings.Contains(r.URLs[0], got[0].ID) {
		t.Errorf("receipt = %+v", r)
	}

	// A retry of the same delivery returns the same statuses.
	again, err := c.Publish(ctx, post)
	if err != nil || again.IDs[0] != r.IDs[0] || len(srv.Statuses()) != 2 {
		t.Errorf("retry posted again: %+v, %d statuses, %v", again, len(srv.Statuses()), err)
	}

	r2, err := c.Update(ctx, r, channel.Post{Parts: []string{"Schools reopen"}, Languages: []string{"en"}, IdempotencyKey: "n1r2-masto"})
	if err != nil {
		t.Fatal(err)
	}
	got = srv.Statuses()
	if len(r2.IDs) != 1 || r2.IDs[0] != r.IDs[0] || got[0].Text != "Schools reopen" || got[0].Edits != 1 || !got[1].Deleted {
		t.Errorf("after update: receipt %+v, statuses %+v", r2, got)
	}
	if err := c.Delete(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, r2); err != nil {
		t.Errorf("deleting again: %v", err)
	}
	if !srv.Statuses()[0].Deleted {
		t.Error("status not deleted")
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      fake.Fault
		permanent  bool
		retryAfter time.Duration
	}{
		{"rate limited", fake.RateLimited, false, fake.RetryAfter * time.Second},
		{"server error", fake.ServerError, false, 0},
		{"bad gateway", fake.BadGateway, false, 0},
		{"unavailable", fake.Unavailable, false, fake.RetryAfter * time.Second},
		{"revoked token", fake.Unauthorized, true, 0},
		{"timeout", fake.Hang, false, 0},
		{"connection reset", fake.Reset, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := newConnector(t, "good-token")
			srv.Fail(1, tt.fault)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			_, err := c.Publish(ctx, channel.Post{Parts: []string{"hello"}})
			if channel.IsPermanent(err) != tt.permanent || channel.IsRetryable(err) == tt.permanent {
				t.Fatalf("err = %v; want permanent=%v", err, tt.permanent)
			}
			if d, _ := channel.RetryAfter(err); d < tt.retryAfter-time.Second || d > tt.retryAfter {
				t.Errorf("RetryAfter = %v, want about %v", d, tt.retryAfter)
			}
			// The fault was one call only: the next succeeds.
			if _, err := c.Publish(context.Background(), channel.Post{Parts: []string{"hello"}}); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

func TestRejections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bad, _ := newConnector(t, "wrong")
	if err := bad.Health(ctx); !channel.IsPermanent(err) || channel.Status(err) != 401 {
		t.Errorf("wrong token: %v", err)
	}
	c, srv := newConnector(t, "good-token")
	_, err := c.Publish(ctx, channel.Post{Parts: []string{strings.Repeat("a ", 251)}})
	if !channel.IsPermanent(err) || !strings.Contains(err.Error(), "character limit") {
		t.Errorf("too long: %v", err)
	}
	// 23 per URL: a 600-character link still fits.
	long := "https://northdale.gov.uk/" + strings.Repeat("x", 600)
	if _, err := c.Publish(ctx, channel.Post{Parts: []string{"See " + long}}); err != nil {
		t.Errorf("long URL: %v", err)
	}
	if n := len(srv.Statuses()); n != 1 {
		t.Errorf("%d statuses", n)
	}
	if _, err := New(Config{Server: "ftp://x", Token: "t", Client: fake.Client()}); err == nil {
		t.Error("accepted an ftp server URL")
	}
}

func TestUpdateGrowsThread(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "good-token")
	// With no earlier receipt, Update posts.
	r, err := c.Update(ctx, channel.Receipt{}, channel.Post{Parts: []string{"Roads icy"}})
	if err != nil || len(r.IDs) != 1 {
		t.Fatalf("update without receipt: %+v, %v", r, err)
	}
	r2, err := c.Update(ctx, r, channel.Post{Parts: []string{"1/2 Roads icy", "2/2 Gritters out"}})
	if err != nil {
		t.Fatal(err)
	}
	st := srv.Statuses()
	if len(st) != 2 || r2.IDs[0] != r.IDs[0] || st[0].Edits != 1 || st[1].InReplyToID != st[0].ID {
		t.Errorf("grown thread: %+v, statuses %+v", r2, st)
	}
}
