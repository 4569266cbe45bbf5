package x

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
)

func newConnector(t *testing.T, token string) (*Connector, *fake.X) {
	t.Helper()
	srv := fake.NewX("user-token")
	t.Cleanup(srv.Close)
	c, err := New(Config{API: srv.URL, Token: token, Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestPublishThreadUpdateDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "user-token")
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	long := "https://northdale.gov.uk/" + strings.Repeat("x", 400)
	post := channel.Post{Parts: []string{"1/2 Schools closed " + long, "2/2 Buses off"}}
	r, err := c.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	tw := srv.Tweets()
	if len(tw) != 2 || tw[1].InReplyTo != tw[0].ID || r.IDs[1] != tw[1].ID || !strings.HasSuffix(r.URLs[0], tw[0].ID) {
		t.Fatalf("tweets %+v, receipt %+v", tw, r)
	}
	// The same text again is refused as a duplicate, not posted twice.
	_, err = c.Publish(ctx, post)
	if !channel.IsPermanent(err) || channel.Code(err) != CodeDuplicate || len(srv.Tweets()) != 2 {
		t.Errorf("repeat: %v, %d tweets", err, len(srv.Tweets()))
	}
	r2, err := c.Update(ctx, r, channel.Post{Parts: []string{"Schools reopen"}})
	if err != nil {
		t.Fatal(err)
	}
	// The update replies under the thread; the receipt covers all of it.
	tw = srv.Tweets()
	if tw[0].Deleted || len(tw) != 3 || len(r2.IDs) != 3 || r2.IDs[2] != tw[2].ID || tw[2].InReplyTo != tw[1].ID {
		t.Errorf("update: %+v, receipt %+v", tw, r2)
	}
	if err := c.Delete(ctx, r2); err != nil {
		t.Fatal(err)
	}
	for i, x := range srv.Tweets() {
		if !x.Deleted {
			t.Errorf("part %d not deleted", i+1)
		}
	}
	if err := c.Delete(ctx, r2); err != nil {
		t.Errorf("second delete: %v", err)
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
		{"rate limited, reset header only", fake.RateLimited, false, fake.RetryAfter * time.Second},
		{"server error", fake.ServerError, false, 0},
		{"unavailable", fake.Unavailable, false, fake.RetryAfter * time.Second},
		{"revoked token", fake.Unauthorized, true, 0},
		{"expired token", fake.Expired, true, 0},
		{"timeout", fake.Hang, false, 0},
		{"connection reset", fake.Reset, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := newConnector(t, "user-token")
			srv.Fail(1, tt.fault)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			_, err := c.Publish(ctx, channel.Post{Parts: []string{"hello"}})
			if channel.IsPermanent(err) != tt.permanent || channel.IsRetryable(err) == tt.permanent {
				t.Fatalf("err = %v; want permanent=%v", err, tt.permanent)
			}
			// x-rate-limit-reset has whole seconds, so allow one less.
			if d, _ := channel.RetryAfter(err); d < tt.retryAfter-time.Second || d > tt.retryAfter {
				t.Errorf("RetryAfter = %v, want about %v", d, tt.retryAfter)
			}
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
	c, _ := newConnector(t, "user-token")
	if _, err := c.Publish(ctx, channel.Post{Parts: []string{strings.Repeat("a", 281)}}); !channel.IsPermanent(err) || !strings.Contains(err.Error(), "too long") {
		t.Errorf("281 characters: %v", err)
	}
	if _, err := c.Publish(ctx, channel.Post{Parts: []string{strings.Repeat("雪", 141)}}); !channel.IsPermanent(err) {
		t.Errorf("141 CJK characters weigh 282: %v", err)
	}
	if _, err := c.Publish(ctx, channel.Post{Parts: []string{strings.Repeat("雪", 140)}}); err != nil {
		t.Errorf("140 CJK characters weigh 280: %v", err)
	}
}

func TestRetryCompletesHalfPostedThread(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "user-token")
	post := channel.Post{Parts: []string{"1/3 Roads icy", "2/3 Gritters out", "3/3 Take care"}}
	// The first attempt died after part 1 went out.
	first, err := c.Publish(ctx, channel.Post{Parts: post.Parts[:1]})
	if err != nil {
		t.Fatal(err)
	}
	post.Retry = true
	r, err := c.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	tw := srv.Tweets()
	if len(tw) != 3 || r.IDs[0] != first.IDs[0] || tw[1].InReplyTo != first.IDs[0] || tw[2].InReplyTo != tw[1].ID {
		t.Errorf("receipt %+v, tweets %+v", r, tw)
	}
	// Retrying the whole thread again posts nothing new.
	if again, err := c.Publish(ctx, post); err != nil || len(srv.Tweets()) != 3 || again.IDs[2] != r.IDs[2] {
		t.Errorf("second retry: %+v, %v, %d tweets", again, err, len(srv.Tweets()))
	}
}
