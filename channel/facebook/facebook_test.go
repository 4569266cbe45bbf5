package facebook

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
)

func newConnector(t *testing.T, token string) (*Connector, *fake.Facebook) {
	t.Helper()
	srv := fake.NewFacebook("104729", "page-token")
	t.Cleanup(srv.Close)
	c, err := New(Config{PageID: "104729", Token: token, Graph: srv.URL, Version: fake.GraphVersion, Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestPublishUpdateDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "page-token")
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := c.Publish(ctx, channel.Post{Parts: []string{"1/2 Schools closed", "2/2 Buses off"}, Link: "https://n.gov.uk/n/1"})
	if err != nil {
		t.Fatal(err)
	}
	posts := srv.Posts()
	if len(posts) != 1 || posts[0].Message != "1/2 Schools closed\n\n2/2 Buses off" || posts[0].Link != "https://n.gov.uk/n/1" {
		t.Fatalf("posts = %+v", posts)
	}
	if r.IDs[0] != posts[0].ID || !strings.HasPrefix(r.URLs[0], "https://www.facebook.com/104729/posts/") {
		t.Errorf("receipt = %+v", r)
	}
	if _, err := c.Update(ctx, r, channel.Post{Parts: []string{"Schools reopen"}}); err != nil {
		t.Fatal(err)
	}
	if p := srv.Posts()[0]; p.Message != "Schools reopen" || p.Edits != 1 {
		t.Errorf("after edit: %+v", p)
	}
	if err := c.Delete(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, r); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if !srv.Posts()[0].Deleted {
		t.Error("not deleted")
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		inject     func(*fake.Facebook)
		permanent  bool
		retryAfter time.Duration
	}{
		{"page throttled (code 32)", func(f *fake.Facebook) { f.Throttle(1) }, false, time.Minute},
		{"expired token (code 190)", func(f *fake.Facebook) { f.Fail(1, fake.Expired) }, true, 0},
		{"invalidated token (code 190)", func(f *fake.Facebook) { f.Fail(1, fake.Unauthorized) }, true, 0},
		{"server error", func(f *fake.Facebook) { f.Fail(1, fake.ServerError) }, false, 0},
		{"bad gateway", func(f *fake.Facebook) { f.Fail(1, fake.BadGateway) }, false, 0},
		{"timeout", func(f *fake.Facebook) { f.Fail(1, fake.Hang) }, false, 0},
		{"connection reset", func(f *fake.Facebook) { f.Fail(1, fake.Reset) }, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := newConnector(t, "page-token")
			tt.inject(srv)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			_, err := c.Publish(ctx, channel.Post{Parts: []string{"hello"}})
			if channel.IsPermanent(err) != tt.permanent || channel.IsRetryable(err) == tt.permanent {
				t.Fatalf("err = %v; want permanent=%v", err, tt.permanent)
			}
			if d, _ := channel.RetryAfter(err); d != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", d, tt.retryAfter)
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
	if err := bad.Health(ctx); !channel.IsPermanent(err) || channel.Code(err) != "190/0" {
		t.Errorf("wrong token: %v", err)
	}
	c, _ := newConnector(t, "page-token")
	if _, err := c.Publish(ctx, channel.Post{Parts: []string{strings.Repeat("x", 63207)}}); !channel.IsPermanent(err) {
		t.Errorf("over 63206 characters: %v", err)
	}
	if _, err := New(Config{PageID: "1/feed", Token: "t", Client: fake.Client()}); err == nil {
		t.Error("accepted a page id with a slash")
	}
}

func TestRetryFindsEarlierPost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "page-token")
	post := channel.Post{Parts: []string{"Schools closed"}, Link: "https://n.gov.uk/n/1"}
	first, err := c.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	// The first answer was lost; the retry finds the post.
	post.Retry = true
	again, err := c.Publish(ctx, post)
	if err != nil || again.IDs[0] != first.IDs[0] || len(srv.Posts()) != 1 {
		t.Errorf("retry: %+v, %v, %d posts", again, err, len(srv.Posts()))
	}
	// A retry whose first attempt never arrived posts.
	other := channel.Post{Parts: []string{"Roads gritted"}, Retry: true}
	if r, err := c.Publish(ctx, other); err != nil || r.IDs[0] == first.IDs[0] || len(srv.Posts()) != 2 {
		t.Errorf("retry of a lost attempt: %+v, %v", r, err)
	}
}

func TestRetryLooksPastOnePage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "page-token")
	first, err := c.Publish(ctx, channel.Post{Parts: []string{"Notice 0"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 130; i++ {
		if _, err := c.Publish(ctx, channel.Post{Parts: []string{"Notice " + strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	// 130 newer posts push the first onto the second page of 100.
	again, err := c.Publish(ctx, channel.Post{Parts: []string{"Notice 0"}, Retry: true, CreatedAt: time.Now().Add(-time.Hour)})
	if err != nil || again.IDs[0] != first.IDs[0] || len(srv.Posts()) != 131 {
		t.Errorf("retry: %+v, %v, %d posts", again, err, len(srv.Posts()))
	}
	// since excludes posts older than the revision: an identical message
	// from long before is not taken for this delivery's post.
	if _, err := c.Publish(ctx, channel.Post{Parts: []string{"Notice 0"}, Retry: true, CreatedAt: time.Now().Add(time.Hour)}); err != nil || len(srv.Posts()) != 132 {
		t.Errorf("old identical post matched: %v, %d posts", err, len(srv.Posts()))
	}
}
