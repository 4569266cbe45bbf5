package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/email"
	"github.com/signpost-uk/signpost/channel/fake"
)

func newFake(t *testing.T) *fake.Notify {
	t.Helper()
	srv := fake.NewNotify()
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, srv *fake.Notify, edit func(*Config)) *Client {
	t.Helper()
	cfg := Config{APIKey: srv.Key("signpost_live"), TemplateID: srv.TemplateID, ReplyToID: srv.ReplyToID, API: srv.URL, Client: fake.Client()}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var post = channel.Post{Subject: "Bins late\r\nBcc: evil@example.org", Parts: []string{"Greenbank bins are a day late."},
	Link: "https://northdale.gov.uk/notices/7", IdempotencyKey: "signpost-subscription-n7-r1"}

const unsub = "https://northdale.gov.uk/unsubscribe/abc"

func send(ctx context.Context, c *Client, to string, p channel.Post, unsubscribe string) (string, error) {
	s, err := c.Open(ctx)
	if err != nil {
		return "", err
	}
	defer s.Close()
	return s.Send(ctx, to, p, unsubscribe)
}

func TestSend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t)
	c := newClient(t, srv, nil)
	id, err := send(ctx, c, "Ann <ann@example.org>", post, unsub)
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Emails()
	if len(got) != 1 {
		t.Fatalf("Notify took %d e-mails, want 1", len(got))
	}
	e := got[0]
	if e.ID != id || e.To != "ann@example.org" || e.TemplateID != srv.TemplateID || e.ReplyToID != srv.ReplyToID || e.Unsubscribe != unsub {
		t.Errorf("e-mail = %+v, id %q", e, id)
	}
	if e.Subject != "Bins late Bcc: evil@example.org" {
		t.Errorf("subject = %q", e.Subject)
	}
	if e.Body != email.Body(post, unsub) || !strings.Contains(e.Body, post.Link) || !strings.Contains(e.Body, unsub) {
		t.Errorf("body = %q", e.Body)
	}
	if e.Reference != reference(post.IdempotencyKey, "ann@example.org") || strings.Contains(e.Reference, "ann") {
		t.Errorf("reference = %q: want one derived from the key and address, naming neither", e.Reference)
	}
	if r2 := reference(post.IdempotencyKey, "bob@example.org"); r2 == e.Reference {
		t.Error("two addresses share a reference")
	}
}

// TestSendFailures checks each of Notify's answers is classified as
// delivery needs: permanent, retryable and when, or this recipient's alone.
func TestSendFailures(t *testing.T) {
	t.Parallel()
	// 23:00 UK time in summer: the daily limit lifts in an hour.
	night := time.Date(2026, 7, 1, 22, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name        string
		to          string
		unsubscribe string
		fault       func(*fake.Notify)
		edit        func(*Config)
		fakeNow     func() time.Time
		retryable   bool
		code        string
		after       time.Duration
	}{
		{name: "not an address", to: "not an address", code: "recipient"},
		{name: "address Notify refuses", to: "ann@localhost", code: "recipient"},
		{name: "unsubscribe link not https", to: "ann@example.org", unsubscribe: "http://northdale.gov.uk/u", code: "ValidationError"},
		{name: "unknown template", to: "ann@example.org", edit: func(c *Config) { c.TemplateID = "f33517ff-2a88-4f6e-b855-c550268ce08a" }, code: "BadRequestError"},
		{name: "unknown reply-to", to: "ann@example.org", edit: func(c *Config) { c.ReplyToID = "8e222534-7f05-4972-86e3-17c5d9f894e2" }, code: "BadRequestError"},
		{name: "wrong secret", to: "ann@example.org", edit: func(c *Config) { c.APIKey = c.APIKey[:len(c.APIKey)-36] + secret }, code: "AuthError"},
		{name: "another service's key", to: "ann@example.org", edit: func(c *Config) { c.APIKey = "live-" + service + "-" + secret }, code: "AuthError"},
		{name: "our clock 31 s slow", to: "ann@example.org", fakeNow: func() time.Time { return time.Now().Add(31 * time.Second) }, code: "AuthError"},
		{name: "our clock 31 s fast", to: "ann@example.org", fakeNow: func() time.Time { return time.Now().Add(-31 * time.Second) }, code: "AuthError"},
		{name: "key revoked", to: "ann@example.org", fault: func(n *fake.Notify) { n.Fail(1, fake.Unauthorized) }, code: "AuthError"},
		{name: "rate limit", to: "ann@example.org", fault: func(n *fake.Notify) { n.Fail(1, fake.RateLimited) }, retryable: true, code: "RateLimitError"},
		{name: "daily limit", to: "ann@example.org", fault: func(n *fake.Notify) { n.ExceedDailyLimit(1) }, edit: func(c *Config) { c.Now = func() time.Time { return night } },
			fakeNow: func() time.Time { return night }, retryable: true, code: "TooManyRequestsError", after: time.Hour},
		{name: "server error", to: "ann@example.org", fault: func(n *fake.Notify) { n.Fail(1, fake.ServerError) }, retryable: true, code: "Exception"},
		{name: "bad gateway", to: "ann@example.org", fault: func(n *fake.Notify) { n.Fail(1, fake.BadGateway) }, retryable: true},
		{name: "connection reset", to: "ann@example.org", fault: func(n *fake.Notify) { n.Fail(1, fake.Reset) }, retryable: true},
		{name: "timeout", to: "ann@example.org", fault: func(n *fake.Notify) { n.Fail(1, fake.Hang) }, retryable: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t)
			if tt.fakeNow != nil {
				srv.Now = tt.fakeNow
			}
			if tt.fault != nil {
				tt.fault(srv)
			}
			c := newClient(t, srv, tt.edit)
			u := tt.unsubscribe
			if u == "" {
				u = unsub
			}
			_, err := send(context.Background(), c, tt.to, post, u)
			if err == nil {
				t.Fatal("sent")
			}
			if channel.IsRetryable(err) != tt.retryable || channel.IsPermanent(err) == tt.retryable {
				t.Errorf("err = %v; want retryable %v", err, tt.retryable)
			}
			if channel.Code(err) != tt.code {
				t.Errorf("code = %q, want %q (%v)", channel.Code(err), tt.code, err)
			}
			if d, _ := channel.RetryAfter(err); d != tt.after {
				t.Errorf("retry after %v, want %v", d, tt.after)
			}
			if n := len(srv.Emails()); n != 0 {
				t.Errorf("Notify took %d e-mails", n)
			}
		})
	}
}

// TestClockWithinLeeway: 29 seconds out is still accepted, as by Notify.
func TestClockWithinLeeway(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{-29 * time.Second, 29 * time.Second} {
		srv := newFake(t)
		srv.Now = func() time.Time { return time.Now().Add(skew) }
		if _, err := send(context.Background(), newClient(t, srv, nil), "ann@example.org", post, unsub); err != nil {
			t.Errorf("skew %v: %v", skew, err)
		}
	}
}

// TestLostAnswer: Notify takes the e-mail and the connection drops before
// its answer. The retry finds the e-mail by its reference and does not
// send it again; without the look-up it would.
func TestLostAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		retry  bool
		status string // set on the first e-mail before the retry
		want   int
	}{
		{name: "retry looks first", retry: true, want: 1},
		{name: "a plain resend duplicates", retry: false, want: 2},
		{name: "Notify's own failure is sent again", retry: true, status: "technical-failure", want: 2},
		{name: "a bounce is not sent again", retry: true, status: "permanent-failure", want: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t)
			c := newClient(t, srv, nil)
			srv.LoseAnswers(1)
			_, err := send(ctx, c, "ann@example.org", post, unsub)
			if !channel.IsRetryable(err) {
				t.Fatalf("lost answer: %v, want a retryable error", err)
			}
			first := srv.Emails()
			if len(first) != 1 {
				t.Fatalf("Notify took %d e-mails before the answer was lost", len(first))
			}
			if tt.status != "" {
				srv.SetStatus(first[0].Reference, tt.status)
			}
			p := post
			p.Retry = tt.retry
			id, err := send(ctx, c, "ann@example.org", p, unsub)
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Emails()
			if len(got) != tt.want {
				t.Fatalf("Notify took %d e-mails, want %d", len(got), tt.want)
			}
			if want := got[len(got)-1].ID; id != want {
				t.Errorf("id = %q, want %q", id, want)
			}
		})
	}
}

// TestRetryLookupFails: when the look-up itself fails nothing is sent, so
// the next retry can look again.
func TestRetryLookupFails(t *testing.T) {
	t.Parallel()
	srv := newFake(t)
	c := newClient(t, srv, nil)
	srv.Fail(1, fake.ServerError)
	p := post
	p.Retry = true
	if _, err := send(context.Background(), c, "ann@example.org", p, unsub); !channel.IsRetryable(err) {
		t.Fatalf("err = %v, want retryable", err)
	}
	if n := len(srv.Emails()); n != 0 {
		t.Errorf("Notify took %d e-mails after a failed look-up", n)
	}
}

// TestSentPages: the look-up reads the newest page, which holds a message
// just sent, among many with other references.
func TestSentPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t)
	c := newClient(t, srv, nil)
	for i := range 300 {
		p := post
		p.IdempotencyKey = "k" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		if _, err := send(ctx, c, "ann@example.org", p, unsub); err != nil {
			t.Fatal(err)
		}
	}
	last := srv.Emails()[299]
	if id, err := c.Sent(ctx, last.Reference); err != nil || id != last.ID {
		t.Errorf("Sent(last) = %q, %v; want %q", id, err, last.ID)
	}
	if id, err := c.Sent(ctx, "signpost-nothing"); err != nil || id != "" {
		t.Errorf("Sent(unknown) = %q, %v", id, err)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	srv := newFake(t)
	for _, tt := range []struct {
		name     string
		template string
		edit     func(*Config)
		ok       bool
	}{
		{name: "the template", template: srv.TemplateID, ok: true},
		{name: "an e-mail template without placeholders", template: srv.AddTemplate("email", "Bins", "Bins are late")},
		{name: "a text message template", template: srv.AddTemplate("sms", "", "((body))")},
		{name: "no such template", template: "f33517ff-2a88-4f6e-b855-c550268ce08a"},
		{name: "wrong key", template: srv.TemplateID, edit: func(c *Config) { c.APIKey = "live-" + srv.ServiceID + "-" + secret }},
	} {
		c := newClient(t, srv, func(c *Config) {
			c.TemplateID = tt.template
			if tt.edit != nil {
				tt.edit(c)
			}
		})
		err := c.Health(context.Background())
		if (err == nil) != tt.ok || (err != nil && !channel.IsPermanent(err)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if n := len(srv.Emails()); n != 0 {
		t.Errorf("health checks sent %d e-mails", n)
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	key := "live-" + service + "-" + secret
	tmpl := "f33517ff-2a88-4f6e-b855-c550268ce08a"
	for _, cfg := range []Config{
		{APIKey: "live-" + service, TemplateID: tmpl, Client: fake.Client()},
		{APIKey: key, TemplateID: "welcome", Client: fake.Client()},
		{APIKey: key, TemplateID: tmpl, ReplyToID: "me@northdale.gov.uk", Client: fake.Client()},
		{APIKey: key, TemplateID: tmpl, API: "ftp://notify", Client: fake.Client()},
		{APIKey: key, TemplateID: tmpl},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
}

// TestConnector is the e-mail channel with Notify as its transport: every
// subscriber gets a message with their own unsubscribe link, an address
// Notify refuses is skipped, and a retried delivery sends nothing twice.
func TestConnector(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t)
	conn, err := email.New(email.Config{Transport: newClient(t, srv, nil),
		Subscribers: []string{"ann@example.org", "Bob <bob@example.org>", "carol@localhost"},
		Unsubscribe: func(a string) string { return "https://northdale.gov.uk/unsubscribe?a=" + a }})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Health(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := conn.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	sent := srv.Emails()
	if len(r.IDs) != 2 || len(sent) != 2 {
		t.Fatalf("%d ids, %d e-mails; want 2 (carol's address refused)", len(r.IDs), len(sent))
	}
	for i, who := range []string{"ann@example.org", "bob@example.org"} {
		if sent[i].To != who || sent[i].Unsubscribe != "https://northdale.gov.uk/unsubscribe?a="+who || sent[i].ID != r.IDs[i] {
			t.Errorf("e-mail %d = %+v", i, sent[i])
		}
	}
	retry := post
	retry.Retry = true
	if r2, err := conn.Publish(ctx, retry); err != nil || len(r2.IDs) != 2 || len(srv.Emails()) != 2 {
		t.Errorf("retry: %v, %v, Notify holds %d e-mails; want the same 2", r2, err, len(srv.Emails()))
	}
	update := post
	update.IdempotencyKey = "signpost-subscription-n7-r2"
	if _, err := conn.Update(ctx, r, update); err != nil {
		t.Fatal(err)
	}
	if got := srv.Emails(); len(got) != 4 || !strings.HasPrefix(got[3].Subject, "Update: Bins late") {
		t.Errorf("after update: %d e-mails, last subject %q", len(got), got[len(got)-1].Subject)
	}
	if _, err := conn.Reply(ctx, email.ReplyMail{Key: "r1", To: "ann@example.org", Text: "Thanks"}); !channel.IsPermanent(err) {
		t.Errorf("reply through Notify: %v, want a permanent error (replies need SMTP)", err)
	}
}

func TestUntilMidnight(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone database")
	}
	for _, tt := range []struct {
		now  time.Time
		want time.Duration
	}{
		{time.Date(2026, 1, 5, 23, 30, 0, 0, time.UTC), 30 * time.Minute},              // GMT
		{time.Date(2026, 7, 5, 22, 30, 0, 0, time.UTC), 30 * time.Minute},              // BST: 23:30 in London
		{time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), 12 * time.Hour},                // the clocks go forward at 01:00 tomorrow, after midnight
		{time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC), 22*time.Hour + 30*time.Minute}, // 01:30 BST
	} {
		if got := untilMidnight(tt.now.In(london)); got != tt.want {
			t.Errorf("untilMidnight(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

func FuzzParseError(f *testing.F) {
	f.Add([]byte(`{"errors":[{"error":"RateLimitError","message":"Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"}],"status_code":429}`))
	f.Add([]byte(`{"errors":[]}`))
	f.Add([]byte(`<html>502</html>`))
	f.Add([]byte(`{"errors":[{"error":1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg := parseError(body)
		if code == "" && msg != "" {
			// A message without a code is fine; the reverse is checked below.
			return
		}
		if len(msg) > maxMessage+len("…") || strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("parseError(%q) message %q: too long or on several lines", body, msg)
		}
	})
}
