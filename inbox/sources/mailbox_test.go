package sources

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel/email"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/internal/mailpit"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// Mail to the monitored mailbox (a real IMAP server) reaches the inbox
// once across a crash, and the answer goes out over SMTP (mailpit)
// threaded under it.
func TestMailboxInAndReplyOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	imapSrv, err := fake.NewIMAP("enquiries@northdale.gov.uk", "pass", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	mp := mailpit.Start(t)
	conn, err := email.New(email.Config{Addr: mp.SMTPAddr, Username: "enquiries@northdale.gov.uk", Password: "pass",
		From: "Northdale Council <enquiries@northdale.gov.uk>", TLS: mp.TLS(),
		Unsubscribe: func(a string) string { return "https://northdale.gov.uk/subscriptions?a=" + url.QueryEscape(a) },
		Inbox: &email.MailboxConfig{Addr: imapSrv.Addr, Username: "enquiries@northdale.gov.uk", Password: "pass",
			TLS: &tls.Config{RootCAs: imapSrv.RootCAs(), ServerName: "127.0.0.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, store.SQLite)
	crash := &failingCursors{DB: db}
	chans := conns{"enquiries": conn}
	r := &Runner{Channels: mailChannels{chans}, Connectors: chans, Sink: db, Cursors: crash, Interval: time.Minute}

	deliver := func(raw string) {
		t.Helper()
		if err := imapSrv.Deliver([]byte(strings.ReplaceAll(raw, "\n", "\r\n"))); err != nil {
			t.Fatal(err)
		}
	}
	deliver("From: Ann <ann@example.org>\nSubject: Missed bin\nMessage-ID: <q1@example.org>\nDate: Tue, 06 Jan 2026 07:00:00 +0000\n\nOak Road, grey bin.\n")
	deliver("From: Ann <ann@example.org>\nSubject: Automatic reply: Missed bin\nAuto-Submitted: auto-replied\nMessage-ID: <ooo@example.org>\n\nAway.\n")
	deliver("not a message at all")
	deliver("From: Bob <bob@example.org>\nSubject: Re: Missed bin\nMessage-ID: <q2@example.org>\nIn-Reply-To: <q1@example.org>\nReferences: <q1@example.org>\n\nMe too.\n")

	crash.fail = 1 // dies after ingesting, before saving the cursor
	res, _ := r.PollOnce(ctx)
	if len(res) != 1 || res[0].Err == nil || res[0].New != 2 || res[0].Skipped != 2 {
		t.Fatalf("crashing poll: %+v", res)
	}
	r2 := &Runner{Channels: mailChannels{chans}, Connectors: chans, Sink: db, Cursors: db, Interval: time.Minute}
	res = pollOK(t, r2)
	if res[0].Read != 2 || res[0].New != 0 {
		t.Fatalf("after restart: %+v", res[0])
	}
	id, created, err := db.Ingest(ctx, inbox.Incoming{Channel: inbox.ChannelEmail, Kind: inbox.KindEmail, ExternalID: "q2@example.org", Author: "bob@example.org"})
	if err != nil || created {
		t.Fatalf("q2 not ingested by the poller: %v", err)
	}
	m, err := db.Message(ctx, id)
	if err != nil || m.ThreadRef != "q1@example.org" || m.AuthorName != "Bob" || m.Text != "Subject: Re: Missed bin\n\nMe too." {
		t.Errorf("stored %+v, %v", m.Incoming, err)
	}

	rp := &Replier{Channels: mailChannels{chans}, Connectors: chans, Log: db}
	sent, err := rp.Reply(ctx, inbox.ChannelEmail, inbox.OutgoingReply{Key: "reply-1", InReplyTo: "q2@example.org", ThreadRef: "q1@example.org",
		To: "bob@example.org", Text: "The crew will be back today."})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := rp.Reply(ctx, inbox.ChannelEmail, inbox.OutgoingReply{Key: "reply-1", InReplyTo: "q2@example.org", To: "bob@example.org", Text: "The crew will be back today."}); err != nil || again != sent {
		t.Errorf("retry: %q, %v", again, err)
	}
	if _, err := rp.Reply(ctx, inbox.ChannelForm, inbox.OutgoingReply{Key: "reply-2", InReplyTo: "form-17", To: "cat@example.org", Text: "Thanks for asking."}); err != nil {
		t.Fatal(err)
	}
	msgs := mp.WaitCount(t, 2, 10*time.Second)
	if len(msgs) != 2 {
		t.Fatalf("%d mails sent, want 2 (the retry sends nothing)", len(msgs))
	}
	for _, s := range msgs {
		raw, err := mp.Raw(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := email.ParseMessage(raw)
		if err != nil {
			t.Fatal(err)
		}
		switch got.MessageID {
		case sent:
			if got.Subject != "Re: Missed bin" || got.InReplyTo != "q2@example.org" || !slices.Equal(got.References, []string{"q1@example.org", "q2@example.org"}) {
				t.Errorf("reply to e-mail: %+v", got)
			}
		default:
			if got.Subject != "Re: Your enquiry" || got.InReplyTo != "" || len(got.References) != 0 {
				t.Errorf("reply to the form: %+v", got)
			}
		}
	}
}

// failingCursors is the store with the next cursor saves failing.
type failingCursors struct {
	*store.DB
	fail int
}

func (f *failingCursors) SaveSourceCursor(ctx context.Context, source, cursor string) error {
	if f.fail > 0 {
		f.fail--
		return fmt.Errorf("killed")
	}
	return f.DB.SaveSourceCursor(ctx, source, cursor)
}

// mailChannels lists the connectors as e-mail channels.
type mailChannels struct{ conns }

func (m mailChannels) Channels(context.Context) ([]store.Channel, error) {
	var out []store.Channel
	for name := range m.conns {
		out = append(out, store.Channel{Name: name, Type: "email"})
	}
	return out, nil
}
