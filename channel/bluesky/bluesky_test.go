package bluesky

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
)

func newConnector(t *testing.T, password string) (*Connector, *fake.Bluesky) {
	t.Helper()
	srv := fake.NewBluesky("northdale.gov.uk", "app-pass-1234")
	t.Cleanup(srv.Close)
	c, err := New(Config{Service: srv.URL, Identifier: "northdale.gov.uk", AppPassword: password, Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestFacets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want []string // the facetted text, in order: links then tags
	}{
		{"See https://n.gov.uk/x.", []string{"https://n.gov.uk/x"}},
		{"Ysgol ar gau 🏴\U000E0067\U000E0062\U000E0077\U000E006C\U000E0073\U000E007F https://n.gov.uk/ŵ #Eira", []string{"https://n.gov.uk/ŵ", "#Eira"}},
		{"👩\u200d👩\u200d👧\u200d👦 café\u0301 https://a.uk/1 and https://b.uk/2 #snow #2026", []string{"https://a.uk/1", "https://b.uk/2", "#snow"}},
		{"no links here#not", nil},
	}
	for _, tt := range tests {
		fs := Facets(tt.text)
		if len(fs) != len(tt.want) {
			t.Errorf("%q: %d facets, want %d", tt.text, len(fs), len(tt.want))
			continue
		}
		for i, f := range fs {
			if got := tt.text[f.Index.ByteStart:f.Index.ByteEnd]; got != tt.want[i] {
				t.Errorf("%q: facet %d covers %q, want %q", tt.text, i, got, tt.want[i])
			}
		}
	}
}

func TestPublishThreadAndDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "app-pass-1234")
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	post := channel.Post{Parts: []string{"1/2 Ysgol ar gau ❄️ https://n.gov.uk/n/1 #Eira", "2/2 School closed"}, Languages: []string{"cy", "en"}}
	r, err := c.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	posts := srv.Posts()
	if len(posts) != 2 || len(r.IDs) != 2 || r.IDs[0] != posts[0].URI || r.CIDs[1] != posts[1].CID {
		t.Fatalf("receipt %+v, posts %+v", r, posts)
	}
	first, second := posts[0].Record, posts[1].Record
	if first.Text != post.Parts[0] || strings.Join(first.Langs, ",") != "cy,en" || len(first.Facets) != 2 || first.Reply != nil {
		t.Errorf("first record = %+v", first)
	}
	if second.Reply == nil || second.Reply.Root.URI != posts[0].URI || second.Reply.Parent.CID != posts[0].CID {
		t.Errorf("second record's reply = %+v", second.Reply)
	}
	if !strings.HasPrefix(r.URLs[0], "https://bsky.app/profile/did:plc:") {
		t.Errorf("URL = %q", r.URLs[0])
	}

	r2, err := c.Update(ctx, r, channel.Post{Parts: []string{"Schools reopen"}})
	if err != nil {
		t.Fatal(err)
	}
	// The update is a reply under the thread, and the receipt covers all
	// of it.
	posts = srv.Posts()
	if posts[0].Deleted || len(posts) != 3 || len(r2.IDs) != 3 || r2.IDs[2] != posts[2].URI {
		t.Fatalf("update did not reply under the thread: %+v, receipt %+v", posts, r2)
	}
	if reply := posts[2].Record.Reply; reply == nil || reply.Root.URI != posts[0].URI || reply.Parent.URI != posts[1].URI {
		t.Errorf("update's reply refs = %+v", reply)
	}
	if err := c.Delete(ctx, r2); err != nil {
		t.Fatal(err)
	}
	for i, p := range srv.Posts() {
		if !p.Deleted {
			t.Errorf("part %d not deleted", i+1)
		}
	}
	if err := c.Delete(ctx, r2); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if srv.Sessions() != 1 {
		t.Errorf("logged in %d times; the session should be reused", srv.Sessions())
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "app-pass-1234")
	if _, err := c.Publish(ctx, channel.Post{Parts: []string{"one"}}); err != nil {
		t.Fatal(err)
	}
	// The access token expires: the connector refreshes, without logging
	// in again, and the post goes through once.
	srv.ExpireAccessTokens()
	if _, err := c.Publish(ctx, channel.Post{Parts: []string{"two"}}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	// An injected ExpiredToken answer is handled the same way.
	srv.Fail(1, fake.Expired)
	if _, err := c.Publish(ctx, channel.Post{Parts: []string{"three"}}); err != nil {
		t.Fatalf("after injected expiry: %v", err)
	}
	if n := len(srv.Posts()); n != 3 || srv.Sessions() != 1 {
		t.Errorf("%d posts, %d logins; want 3 posts, 1 login", n, srv.Sessions())
	}
}

// TestExpiryAtLogin injects an expiry into a fresh connector's first call,
// its login, as a restarted process meets it: a login carries no token to
// be expired, so it succeeds, the session then meets ExpiredToken and is
// refreshed, and the post goes through; nothing is taken for a revoked
// app password.
func TestExpiryAtLogin(t *testing.T) {
	t.Parallel()
	c, srv := newConnector(t, "app-pass-1234")
	srv.Fail(1, fake.Expired)
	if _, err := c.Publish(context.Background(), channel.Post{Parts: []string{"one"}}); err != nil {
		t.Fatalf("publish after an expiry at login: %v", err)
	}
	if n := len(srv.Posts()); n != 1 || srv.Sessions() != 1 {
		t.Errorf("%d posts, %d logins; want 1 post, 1 login", n, srv.Sessions())
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      fake.Fault
		n          int
		permanent  bool
		retryAfter time.Duration
	}{
		{"rate limited", fake.RateLimited, 1, false, fake.RetryAfter * time.Second},
		{"server error", fake.ServerError, 1, false, 0},
		{"unavailable", fake.Unavailable, 1, false, fake.RetryAfter * time.Second},
		{"revoked app password", fake.Unauthorized, 2, true, 0},
		{"timeout", fake.Hang, 1, false, 0},
		{"connection reset", fake.Reset, 1, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := newConnector(t, "app-pass-1234")
			if err := c.Health(context.Background()); err != nil {
				t.Fatal(err)
			}
			srv.Fail(tt.n, tt.fault)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			_, err := c.Publish(ctx, channel.Post{Parts: []string{"hello"}})
			if channel.IsPermanent(err) != tt.permanent || channel.IsRetryable(err) == tt.permanent {
				t.Fatalf("err = %v; want permanent=%v", err, tt.permanent)
			}
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
	if err := bad.Health(ctx); !channel.IsPermanent(err) {
		t.Errorf("wrong app password: %v", err)
	}
	c, srv := newConnector(t, "app-pass-1234")
	_, err := c.Publish(ctx, channel.Post{Parts: []string{strings.Repeat("👍", 301)}})
	if !channel.IsPermanent(err) || !strings.Contains(err.Error(), "300 graphemes") {
		t.Errorf("301 graphemes: %v", err)
	}
	if _, err := c.Publish(ctx, channel.Post{Parts: []string{strings.Repeat("👩\u200d👩\u200d👧\u200d👦", 120)}}); err != nil {
		t.Errorf("120 ZWJ families (840 runes, 120 graphemes): %v", err)
	}
	_, err = c.Publish(ctx, channel.Post{Parts: []string{strings.Repeat("👩\u200d👩\u200d👧\u200d👦", 121)}})
	if !channel.IsPermanent(err) || !strings.Contains(err.Error(), "3000") {
		t.Errorf("121 ZWJ families (3025 bytes): %v", err)
	}
	if n := len(srv.Posts()); n != 1 {
		t.Errorf("%d posts", n)
	}
}

func TestIdempotentPublish(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv := newConnector(t, "app-pass-1234")
	made := time.Date(2026, 1, 6, 6, 45, 0, 0, time.UTC)
	post := channel.Post{Parts: []string{"1/2 Schools closed", "2/2 Buses off"}, IdempotencyKey: "signpost-n1-r1-sky-publish", CreatedAt: made}
	first, err := c.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	// The answer was lost, say: the retry rewrites the same records.
	again, err := c.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	posts := srv.Posts()
	if len(posts) != 2 || posts[0].Writes != 1 || posts[1].Writes != 1 {
		t.Fatalf("posts = %+v", posts)
	}
	for i := range first.IDs {
		if first.IDs[i] != again.IDs[i] || first.CIDs[i] != again.CIDs[i] {
			t.Errorf("part %d: %s/%s then %s/%s", i, first.IDs[i], first.CIDs[i], again.IDs[i], again.CIDs[i])
		}
	}
	if posts[0].Record.CreatedAt != "2026-01-06T06:45:00.000Z" || posts[1].Record.CreatedAt != "2026-01-06T06:45:00.001Z" {
		t.Errorf("createdAt = %s, %s", posts[0].Record.CreatedAt, posts[1].Record.CreatedAt)
	}
	// Another delivery at the same instant gets other records.
	other := post
	other.IdempotencyKey = "signpost-n2-r1-sky-publish"
	other.Parts = []string{"Roads gritted"}
	if _, err := c.Publish(ctx, other); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Posts()); n != 3 {
		t.Errorf("%d posts after a second delivery, want 3", n)
	}
}

func TestTID(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 6, 6, 45, 0, 0, time.UTC)
	// Records only need distinct keys within one account, and deliveries
	// sharing an instant are the channels of one revision: a few, not
	// thousands. 200 is far more than happens.
	seen := map[string]bool{}
	for i := range 200 {
		key := "signpost-n" + strconv.Itoa(i) + "-r1-sky-publish"
		tid := TID(at, key)
		if len(tid) != 13 || !strings.ContainsRune("234567abcdefghij", rune(tid[0])) || strings.Trim(tid, "234567abcdefghijklmnopqrstuvwxyz") != "" {
			t.Fatalf("TID %q is not TID syntax", tid)
		}
		if TID(at, key) != tid {
			t.Fatal("TID is not deterministic")
		}
		if seen[tid] {
			t.Fatalf("TID collision at %d keys", i)
		}
		seen[tid] = true
	}
	// Later times sort later, as TIDs must.
	if TID(at.Add(time.Second), "a") <= TID(at, "a") {
		t.Error("TIDs do not sort by time")
	}
}

func FuzzFacets(f *testing.F) {
	f.Add("See https://n.gov.uk/x. #Eira")
	f.Add("👩\u200d👩\u200d👧\u200d👦 https://a.uk/ŵ\u0301 #tag_1 #123")
	f.Fuzz(func(t *testing.T, text string) {
		for _, fc := range Facets(text) {
			s, e := fc.Index.ByteStart, fc.Index.ByteEnd
			if s < 0 || e > len(text) || s >= e {
				t.Fatalf("facet %d–%d outside %d bytes", s, e, len(text))
			}
			if utf8.ValidString(text) && !utf8.ValidString(text[s:e]) {
				t.Fatalf("facet %d–%d splits a character in %q", s, e, text)
			}
		}
	})
}
