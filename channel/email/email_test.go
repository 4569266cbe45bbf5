package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/internal/mailpit"
)

func newServer(t *testing.T) *fake.SMTP {
	t.Helper()
	srv, err := fake.NewSMTP("alerts", "smtp-pass")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func newConnector(t *testing.T, srv *fake.SMTP, password string, subs ...string) *Connector {
	t.Helper()
	c, err := New(Config{Addr: srv.Addr, Username: "alerts", Password: password, From: "Northdale Council <alerts@northdale.gov.uk>",
		Subscribers: subs, TLS: &tls.Config{RootCAs: srv.RootCAs()},
		Unsubscribe: func(a string) string { return "https://northdale.gov.uk/unsubscribe?a=" + url.QueryEscape(a) }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPublish(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Reject["gone@example.org"] = true
	c := newConnector(t, srv, "smtp-pass", "ann@example.org", "gone@example.org", "Bryn <bryn@example.org>")
	ctx := context.Background()
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	post := channel.Post{Parts: []string{"Ysgol ar gau heddiw – Welsh ŵ ŷ\n\nSchool closed today"}, Subject: "Ysgol ar gau / School closed\r\nBcc: evil@example.org",
		Link: "https://northdale.gov.uk/n/1", Languages: []string{"cy", "en"}, IdempotencyKey: "n1r1-email"}
	r, err := c.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	mails := srv.Mails()
	if len(mails) != 2 || len(r.IDs) != 2 {
		t.Fatalf("%d mails, %d ids; want 2 (one address refused)", len(mails), len(r.IDs))
	}
	m := mails[0]
	if !m.TLS || m.Auth != "alerts" || m.From != "alerts@northdale.gov.uk" || len(m.To) != 1 || m.To[0] != "ann@example.org" {
		t.Errorf("envelope = %+v", m)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Ysgol ar gau / School closed Bcc: evil@example.org" || msg.Header.Get("Bcc") != "" {
		t.Errorf("subject = %q, Bcc = %q: header injection", subject, msg.Header.Get("Bcc"))
	}
	if got := msg.Header.Get("List-Unsubscribe"); got != "<https://northdale.gov.uk/unsubscribe?a=ann%40example.org>" {
		t.Errorf("List-Unsubscribe = %q", got)
	}
	if msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || msg.Header.Get("Content-Language") != "cy, en" {
		t.Errorf("headers = %v", msg.Header)
	}
	if msg.Header.Get("Message-Id") != "<"+r.IDs[0]+">" {
		t.Errorf("Message-ID %q vs receipt %q", msg.Header.Get("Message-Id"), r.IDs[0])
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if !strings.Contains(string(body), "Ysgol ar gau heddiw – Welsh ŵ ŷ\r\n\r\nSchool closed today") || !strings.Contains(string(body), post.Link) {
		t.Errorf("body = %q", body)
	}
	// A resend of the same delivery has the same Message-ID.
	r2, _ := c.Publish(ctx, post)
	if r2.IDs[0] != r.IDs[0] || r2.IDs[0] == r2.IDs[1] {
		t.Errorf("message ids not stable per (delivery, address): %v %v", r.IDs, r2.IDs)
	}
	if _, err := c.Update(ctx, r, post); err != nil {
		t.Fatal(err)
	}
	last, _ := mail.ReadMessage(bytes.NewReader(srv.Mails()[len(srv.Mails())-1].Data))
	if s, _ := new(mime.WordDecoder).DecodeHeader(last.Header.Get("Subject")); !strings.HasPrefix(s, "Update: ") {
		t.Errorf("update subject = %q", s)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		setup     func(*fake.SMTP)
		password  string
		untrusted bool
		permanent bool
	}{
		{"server busy (421)", func(s *fake.SMTP) { s.Fail(1, fake.SMTPUnavailable) }, "smtp-pass", false, false},
		{"temporary failure (451)", func(s *fake.SMTP) { s.Fail(1, fake.SMTPTempFail) }, "smtp-pass", false, false},
		{"wrong password (535)", func(*fake.SMTP) {}, "nope", false, true},
		{"untrusted certificate", func(*fake.SMTP) {}, "smtp-pass", true, true},
		{"every recipient refused", func(s *fake.SMTP) { s.Reject["ann@example.org"] = true }, "smtp-pass", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			tt.setup(srv)
			c := newConnector(t, srv, tt.password, "ann@example.org")
			if tt.untrusted {
				c.cfg.TLS = &tls.Config{ServerName: "127.0.0.1"}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := c.Publish(ctx, channel.Post{Parts: []string{"x"}, Subject: "x"})
			if channel.IsPermanent(err) != tt.permanent || channel.IsRetryable(err) == tt.permanent {
				t.Fatalf("err = %v; want permanent=%v", err, tt.permanent)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	unsub := func(string) string { return "https://x" }
	for _, cfg := range []Config{
		{Addr: "smtp.example.org", From: "a@b.c", Unsubscribe: unsub},
		{Addr: "smtp.example.org:587", From: "not an address", Unsubscribe: unsub},
		{Addr: "smtp.example.org:587", From: "a@b.c", Subscribers: []string{"ann@example.org"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// TestPublishMailpit sends through a real SMTP server and checks what it
// received: one message per subscriber over STARTTLS, each with its own
// unsubscribe link and the one-click header, and the text intact.
func TestPublishMailpit(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	subs := []string{"ann@example.org", "Bryn <bryn@example.org>"}
	c, err := New(Config{Addr: mp.SMTPAddr, Username: "alerts", Password: "smtp-pass", From: "Northdale Council <alerts@northdale.gov.uk>",
		Subscribers: subs, TLS: mp.TLS(),
		Unsubscribe: func(a string) string { return "https://northdale.gov.uk/unsubscribe?a=" + url.QueryEscape(a) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	post := channel.Post{Parts: []string{"Ysgol ar gau heddiw – ŵ ŷ\n\nSchool closed today"}, Subject: "Ysgol ar gau / School closed",
		Link: "https://northdale.gov.uk/n/1", Languages: []string{"cy", "en"}, IdempotencyKey: "n1r1-email"}
	r, err := c.Publish(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	msgs := mp.WaitCount(t, 2, 10*time.Second)
	if len(msgs) != 2 {
		t.Fatalf("mailpit got %d messages, want 2", len(msgs))
	}
	for _, want := range []string{"ann@example.org", "bryn@example.org"} {
		found, err := mp.Search(ctx, "to:"+want)
		if err != nil || len(found) != 1 {
			t.Fatalf("messages to %s: %v, %v", want, found, err)
		}
		m, err := mp.Message(ctx, found[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		unsub := "https://northdale.gov.uk/unsubscribe?a=" + url.QueryEscape(want)
		if m.Subject != post.Subject || m.From.Address != "alerts@northdale.gov.uk" || len(m.To) != 1 || m.To[0].Address != want {
			t.Errorf("%s: subject %q from %v to %v", want, m.Subject, m.From, m.To)
		}
		if len(m.ListUnsubscribe.Links) != 1 || m.ListUnsubscribe.Links[0] != unsub || m.ListUnsubscribe.HeaderPost != "List-Unsubscribe=One-Click" || m.ListUnsubscribe.Errors != "" {
			t.Errorf("%s: List-Unsubscribe = %+v", want, m.ListUnsubscribe)
		}
		if !strings.Contains(m.Text, "Ysgol ar gau heddiw – ŵ ŷ") || !strings.Contains(m.Text, post.Link) || !strings.Contains(m.Text, unsub) {
			t.Errorf("%s: text = %q", want, m.Text)
		}
		if !slices.Contains(r.IDs, m.MessageID) {
			t.Errorf("%s: Message-ID %q not among the receipt's %v", want, m.MessageID, r.IDs)
		}
		h, err := mp.Headers(ctx, found[0].ID)
		if err != nil || h.Get("Content-Language") != "cy, en" {
			t.Errorf("%s: headers %v, %v", want, h, err)
		}
	}
}

// TestSessionMailpit sends several messages over one session, each with its
// own unsubscribe link; a bad address fails alone and the session goes on.
func TestSessionMailpit(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	c, err := New(Config{Addr: mp.SMTPAddr, From: "alerts@northdale.gov.uk", TLS: mp.TLS()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	post := channel.Post{Parts: []string{"Bins late"}, Subject: "Bins late", IdempotencyKey: "sub-n1-r1"}
	for i, to := range []string{"a@example.org", "not an address", "b@example.org"} {
		_, err := s.Send(ctx, to, post, fmt.Sprintf("https://northdale.gov.uk/u/%d", i))
		if bad := to == "not an address"; bad != (err != nil) || (bad && channel.Code(err) != "recipient") {
			t.Errorf("send to %q: %v", to, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mp.WaitCount(t, 2, 10*time.Second)
	found, err := mp.Search(ctx, "to:b@example.org")
	if err != nil || len(found) != 1 {
		t.Fatalf("to b: %v, %v", found, err)
	}
	m, err := mp.Message(ctx, found[0].ID)
	if err != nil || len(m.ListUnsubscribe.Links) != 1 || m.ListUnsubscribe.Links[0] != "https://northdale.gov.uk/u/2" {
		t.Errorf("b's List-Unsubscribe = %+v, %v", m.ListUnsubscribe, err)
	}
}
