package sources

import (
	"context"
	"time"

	"github.com/signpost-uk/signpost/channel/email"
	"github.com/signpost-uk/signpost/inbox"
)

// mailboxPoller reads the monitored mailbox of an e-mail channel into
// the inbox's "email" channel.
type mailboxPoller struct {
	channel string // the e-mail channel whose mailbox it is
	mb      *email.Mailbox
}

func (p mailboxPoller) poll(ctx context.Context, sink Sink, cursors Cursors) (Result, error) {
	r := Result{Source: "email:" + p.channel}
	cursor, err := cursors.SourceCursor(ctx, r.Source)
	if err != nil {
		return r, err
	}
	for range maxPagesPerPoll {
		got, next, more, err := p.mb.Fetch(ctx, cursor)
		if err != nil {
			return r, err
		}
		for _, m := range got {
			// Unreadable mail and machines' replies (out of office,
			// bounces) are passed over: nobody can answer them, and a
			// message that cannot be read must not stop the ones after it.
			if m.Err != nil || m.AutoReply {
				r.Skipped++
				continue
			}
			in := inbox.Incoming{Channel: inbox.ChannelEmail, Kind: inbox.KindEmail, ExternalID: m.ID, ThreadRef: m.ID,
				Author: m.From, AuthorName: m.FromName, Text: m.Text, ReceivedAt: m.Date}
			switch {
			case len(m.References) > 0:
				in.ThreadRef = m.References[0]
			case m.InReplyTo != "":
				in.ThreadRef = m.InReplyTo
			}
			if m.Subject != "" {
				in.Text = "Subject: " + m.Subject + "\n\n" + m.Text
			}
			if in.ReceivedAt.IsZero() {
				in.ReceivedAt = time.Now()
			}
			if err := ingest(ctx, sink, &r, in); err != nil {
				return r, err
			}
		}
		if next != cursor {
			if err := cursors.SaveSourceCursor(ctx, r.Source, next); err != nil {
				return r, err
			}
			cursor = next
		}
		if !more {
			break
		}
	}
	return r, nil
}
