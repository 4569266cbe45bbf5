package email

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
)

func question(n int) []byte {
	return fmt.Appendf(nil, "From: Resident %d <r%d@example.org>\r\nTo: enquiries@northdale.gov.uk\r\nSubject: Question %d\r\n"+
		"Message-ID: <q%d@example.org>\r\nDate: Tue, 06 Jan 2026 07:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIs road %d gritted?\r\n", n, n, n, n, n)
}

func newMailbox(t *testing.T, implicitTLS bool) (*Mailbox, *fake.IMAP) {
	t.Helper()
	srv, err := fake.NewIMAP("enquiries", "imap-pass", implicitTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	mb, err := NewMailbox(MailboxConfig{Addr: srv.Addr, ImplicitTLS: implicitTLS, Username: "enquiries", Password: "imap-pass",
		TLS: &tls.Config{RootCAs: srv.RootCAs(), ServerName: "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	return mb, srv
}

func TestMailboxFetchFromCursor(t *testing.T) {
	t.Parallel()
	for _, implicit := range []bool{true, false} {
		t.Run(fmt.Sprintf("implicit TLS %v", implicit), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mb, srv := newMailbox(t, implicit)
			for i := 1; i <= Batch+10; i++ {
				if err := srv.Deliver(question(i)); err != nil {
					t.Fatal(err)
				}
			}
			// A new mailbox starts with the newest Batch messages.
			got, cursor, more, err := mb.Fetch(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != Batch || more || got[0].ID != "q11@example.org" || got[Batch-1].ID != fmt.Sprintf("q%d@example.org", Batch+10) {
				t.Fatalf("first fetch: %d messages, more %v, first %q", len(got), more, got[0].ID)
			}
			m := got[0]
			if m.From != "r11@example.org" || m.FromName != "Resident 11" || m.Subject != "Question 11" || m.Text != "Is road 11 gritted?" || m.Err != nil {
				t.Errorf("message = %+v", m)
			}
			// Nothing new: nothing read, the cursor stays.
			if again, c2, _, err := mb.Fetch(ctx, cursor); err != nil || len(again) != 0 || c2 != cursor {
				t.Errorf("caught up: %d, %q, %v", len(again), c2, err)
			}
			// More than a batch arrives: it comes in order over two calls.
			for i := Batch + 11; i <= 2*Batch+15; i++ {
				srv.Deliver(question(i))
			}
			first, c3, more, err := mb.Fetch(ctx, cursor)
			if err != nil || len(first) != Batch || !more || first[0].ID != fmt.Sprintf("q%d@example.org", Batch+11) {
				t.Fatalf("next batch: %d, more %v, %v", len(first), more, err)
			}
			rest, _, more, err := mb.Fetch(ctx, c3)
			if err != nil || len(rest) != 5 || more || rest[4].ID != fmt.Sprintf("q%d@example.org", 2*Batch+15) {
				t.Fatalf("last batch: %d, more %v, %v", len(rest), more, err)
			}
			// A message is found by its Message-ID, to thread a reply.
			if orig, ok, err := mb.Find(ctx, "q12@example.org"); err != nil || !ok || orig.Subject != "Question 12" {
				t.Errorf("Find: %+v, %v, %v", orig, ok, err)
			}
			if _, ok, err := mb.Find(ctx, "nope@example.org"); err != nil || ok {
				t.Errorf("Find missing: %v, %v", ok, err)
			}

			// The server renumbers the mailbox: the old cursor is for
			// another UIDVALIDITY, so reading starts again from the newest
			// messages, whose ids are unchanged.
			if err := srv.Renumber(question(1), question(2)); err != nil {
				t.Fatal(err)
			}
			re, _, _, err := mb.Fetch(ctx, c3)
			if err != nil || len(re) != 2 || re[0].ID != "q1@example.org" {
				t.Errorf("after renumbering: %d, %v", len(re), err)
			}
		})
	}
}

func TestMailboxFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mb, srv := newMailbox(t, true)
	srv.Deliver([]byte("this is not a message"))
	srv.Deliver(question(2))
	got, _, _, err := mb.Fetch(ctx, "")
	if err != nil || len(got) != 2 || got[0].Err == nil || got[1].Err != nil || !strings.HasPrefix(got[0].ID, "uid:") {
		t.Errorf("an unreadable message is reported and skipped, not fatal: %+v, %v", got, err)
	}

	wrong, _ := NewMailbox(MailboxConfig{Addr: srv.Addr, ImplicitTLS: true, Username: "enquiries", Password: "wrong",
		TLS: &tls.Config{RootCAs: srv.RootCAs(), ServerName: "127.0.0.1"}})
	if _, _, _, err := wrong.Fetch(ctx, ""); !channel.IsPermanent(err) {
		t.Errorf("wrong password: %v, want permanent", err)
	}
	untrusted, _ := NewMailbox(MailboxConfig{Addr: srv.Addr, ImplicitTLS: true, Username: "enquiries", Password: "imap-pass"})
	if _, _, _, err := untrusted.Fetch(ctx, ""); !channel.IsPermanent(err) {
		t.Errorf("untrusted certificate: %v, want permanent", err)
	}
	missing, _ := NewMailbox(MailboxConfig{Addr: srv.Addr, ImplicitTLS: true, Username: "enquiries", Password: "imap-pass", Mailbox: "Enquiries",
		TLS: &tls.Config{RootCAs: srv.RootCAs(), ServerName: "127.0.0.1"}})
	if _, _, _, err := missing.Fetch(ctx, ""); !channel.IsPermanent(err) {
		t.Errorf("no such folder: %v, want permanent", err)
	}
	srv.Close()
	if _, _, _, err := mb.Fetch(ctx, ""); !channel.IsRetryable(err) {
		t.Errorf("server down: %v, want retryable", err)
	}
}
