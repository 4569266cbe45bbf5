package email

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/internal/mailpit"
)

// A reply reaches a real SMTP server threaded under the resident's
// message, and a resend is the same message.
func TestReplyMailpit(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	c, err := New(Config{Addr: mp.SMTPAddr, Username: "enquiries", Password: "smtp-pass", From: "Northdale Council <enquiries@northdale.gov.uk>",
		TLS: mp.TLS(), Unsubscribe: func(a string) string { return "https://northdale.gov.uk/unsubscribe?a=" + url.QueryEscape(a) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := ReplyMail{Key: "reply-77", To: "Ann <ann@example.org>", Subject: "Missed bin on Oak Road", InReplyTo: "q2@example.org",
		References: []string{"q1@example.org"}, Text: "Sorry, Ann – the crew will be back today.\nNorthdale Council",
		Date: time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC)}
	id, err := c.Reply(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Reply(ctx, r)
	if err != nil || again != id {
		t.Fatalf("resend: %q, %v; want the same Message-ID %q", again, err, id)
	}
	msgs := mp.WaitCount(t, 2, 10*time.Second)
	raw, err := mp.Raw(ctx, msgs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageID != id || got.InReplyTo != "q2@example.org" || !slices.Equal(got.References, []string{"q1@example.org", "q2@example.org"}) ||
		got.Subject != "Re: Missed bin on Oak Road" || got.From != "enquiries@northdale.gov.uk" || got.Text != r.Text || !got.Date.Equal(r.Date) {
		t.Errorf("sent %+v", got)
	}

	if _, err := c.Reply(ctx, ReplyMail{Key: "x", To: "not an address", Text: "x"}); !channel.IsPermanent(err) {
		t.Errorf("bad address: %v, want permanent", err)
	}
}
