package mailpit

import (
	"context"
	"fmt"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

// TestRoundTrip sends through the real server and reads back through the
// API what a test of a sender would check: envelope, headers, body.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := Start(t)
	ctx := context.Background()
	const n = 3
	for i := range n {
		send(t, s, fmt.Sprintf("r%d@example.org", i), fmt.Sprintf("Subject: Bins %d\r\nMessage-ID: <m%d@northdale.test>\r\nList-Unsubscribe: <https://northdale.test/u/%d>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nCollected tomorrow.\r\n", i, i, i))
	}
	msgs := s.WaitCount(t, n, 10*time.Second)
	if len(msgs) != n {
		t.Fatalf("%d messages, want %d", len(msgs), n)
	}
	found, err := s.Search(ctx, "to:r1@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Subject != "Bins 1" || found[0].MessageID != "m1@northdale.test" || found[0].From.Address != "alerts@northdale.test" {
		t.Fatalf("search = %+v", found)
	}
	m, err := s.Message(ctx, found[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "Collected tomorrow.") || len(m.ListUnsubscribe.Links) != 1 || m.ListUnsubscribe.Links[0] != "https://northdale.test/u/1" || m.ListUnsubscribe.HeaderPost != "List-Unsubscribe=One-Click" {
		t.Errorf("message = %+v", m)
	}
	h, err := s.Headers(ctx, found[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("List-Unsubscribe") != "<https://northdale.test/u/1>" {
		t.Errorf("headers = %v", h)
	}
	raw, err := s.Raw(ctx, found[0].ID)
	if err != nil || !strings.Contains(string(raw), "Subject: Bins 1\r\n") {
		t.Errorf("raw = %q, %v", raw, err)
	}
	if err := s.DeleteAll(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Count(ctx); err != nil || c != 0 {
		t.Errorf("after DeleteAll: %d messages, %v", c, err)
	}
	if _, err := s.Message(ctx, "no-such-id"); err == nil {
		t.Error("reading a missing message succeeded")
	}
}

// TestRequiresSTARTTLS checks that the server refuses mail in clear, as
// the connectors expect of a real submission server.
func TestRequiresSTARTTLS(t *testing.T) {
	t.Parallel()
	s := Start(t)
	c, err := smtp.Dial(s.SMTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("alerts@northdale.test"); err == nil {
		t.Error("MAIL FROM accepted without STARTTLS")
	}
}

func TestLocateHonoursEnv(t *testing.T) {
	t.Setenv("SIGNPOST_MAILPIT", "/nonexistent/mailpit")
	if _, err := Locate(); err == nil || !strings.Contains(err.Error(), "SIGNPOST_MAILPIT") {
		t.Errorf("Locate() error = %v; want one naming SIGNPOST_MAILPIT", err)
	}
}

func send(t *testing.T, s *Server, to, msg string) {
	t.Helper()
	c, err := smtp.Dial(s.SMTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(s.TLS()); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alerts@northdale.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(to); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("From: Northdale <alerts@northdale.test>\r\nTo: <" + to + ">\r\n" + msg)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}
