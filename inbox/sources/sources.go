// Package sources connects the inbox to the networks: pollers read new
// mentions and messages from Mastodon, Bluesky and the monitored mailbox,
// a webhook receives Facebook Page comments and Messenger messages, and
// Replier sends the council's answers back the way each message came.
//
// Every source is incremental and idempotent. A poller reads from its
// cursor, hands each message to the store's Ingest, and saves the new
// cursor only after the whole batch is in; a crash in between re-reads the
// batch, and Ingest (unique on channel and external id) ignores the
// repeats. Two serve processes polling the same channel therefore need no
// lease: both may ingest the same message, and the second changes
// nothing; a cursor saved by the slower one can only move back, which
// costs a re-read and loses nothing.
package sources

import (
	"context"
	"fmt"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/bluesky"
	"github.com/signpost-uk/signpost/channel/email"
	"github.com/signpost-uk/signpost/channel/mastodon"
	"github.com/signpost-uk/signpost/inbox"
)

// Sink takes messages in; the store's Ingest is one. It must be
// idempotent on (Channel, ExternalID).
type Sink interface {
	Ingest(ctx context.Context, in inbox.Incoming) (id int64, created bool, err error)
}

// Cursors keeps where each source got to.
type Cursors interface {
	SourceCursor(ctx context.Context, source string) (string, error)
	SaveSourceCursor(ctx context.Context, source, cursor string) error
}

// Result is what one poll of one source did.
type Result struct {
	Source  string // e.g. mastodon:northdale
	Read    int    // messages read from the network
	New     int    // of which the store did not have yet
	Skipped int    // unreadable mail and automatic replies, passed over
	Err     error
}

// poller reads one source from its cursor to now.
type poller interface {
	poll(ctx context.Context, sink Sink, cursors Cursors) (Result, error)
}

// ingest hands one message to the sink and counts it.
func ingest(ctx context.Context, sink Sink, r *Result, in inbox.Incoming) error {
	_, created, err := sink.Ingest(ctx, in)
	if err != nil {
		// Ingest refuses a message only if it lacks what every message
		// has; that is a network answering nonsense, not a reason to
		// stop the channel, but saying which message lets it be found.
		return fmt.Errorf("ingest %s message %s: %w", in.Channel, in.ExternalID, err)
	}
	r.Read++
	if created {
		r.New++
	}
	return nil
}

// maxPagesPerPoll bounds one poll, so one busy channel cannot hold the
// others up; the next poll continues from the saved cursor.
const maxPagesPerPoll = 20

type mastodonPoller struct {
	channel string
	conn    *mastodon.Connector
}

func (p mastodonPoller) poll(ctx context.Context, sink Sink, cursors Cursors) (Result, error) {
	r := Result{Source: "mastodon:" + p.channel}
	cursor, err := cursors.SourceCursor(ctx, r.Source)
	if err != nil {
		return r, err
	}
	for range maxPagesPerPoll {
		page, err := p.conn.Mentions(ctx, cursor)
		if err != nil {
			return r, err
		}
		for _, m := range page.Mentions {
			in := inbox.Incoming{Channel: p.channel, Kind: inbox.KindMention, ExternalID: m.StatusID, ThreadRef: m.InReplyToID,
				Author: m.Acct, AuthorName: m.DisplayName, Text: m.Text, ReceivedAt: m.CreatedAt}
			switch {
			case m.Visibility == "direct":
				in.Kind = inbox.KindDirect
			case m.Reply:
				in.Kind = inbox.KindReply
			}
			if in.ThreadRef == "" {
				in.ThreadRef = m.StatusID // it starts a conversation
			}
			if err := ingest(ctx, sink, &r, in); err != nil {
				return r, err
			}
		}
		if page.Cursor != cursor {
			if err := cursors.SaveSourceCursor(ctx, r.Source, page.Cursor); err != nil {
				return r, err
			}
			cursor = page.Cursor
		}
		if !page.More {
			break
		}
	}
	return r, nil
}

type blueskyPoller struct {
	channel string
	conn    *bluesky.Connector
}

func (p blueskyPoller) poll(ctx context.Context, sink Sink, cursors Cursors) (Result, error) {
	r := Result{Source: "bluesky:" + p.channel}
	cursor, err := cursors.SourceCursor(ctx, r.Source)
	if err != nil {
		return r, err
	}
	var since time.Time
	if cursor != "" {
		if since, err = time.Parse(time.RFC3339Nano, cursor); err != nil {
			return r, fmt.Errorf("%s: stored cursor %q is not a time: %w", r.Source, cursor, err)
		}
	}
	ms, mark, err := p.conn.Mentions(ctx, since)
	if err != nil {
		return r, err
	}
	for _, m := range ms {
		kind := inbox.KindMention
		if m.Reason == "reply" {
			kind = inbox.KindReply
		}
		in := inbox.Incoming{Channel: p.channel, Kind: kind, ExternalID: m.URI, ThreadRef: m.RootURI,
			Author: m.Handle, AuthorName: m.DisplayName, Text: m.Text, ReceivedAt: m.IndexedAt}
		if err := ingest(ctx, sink, &r, in); err != nil {
			return r, err
		}
	}
	if mark.Equal(since) {
		return r, nil
	}
	if err := cursors.SaveSourceCursor(ctx, r.Source, mark.UTC().Format(time.RFC3339Nano)); err != nil {
		return r, err
	}
	// Only once everything is safely stored does the account's own app
	// stop showing these as unread.
	return r, p.conn.MarkSeen(ctx, mark)
}

// pollerFor returns the poller for a channel's connector, or nil when the
// channel has nothing to poll (Facebook pushes by webhook; X and webhooks
// receive nothing; e-mail channels only when they have a monitored
// mailbox).
func pollerFor(name string, conn channel.Connector) poller {
	switch c := conn.(type) {
	case *mastodon.Connector:
		return mastodonPoller{channel: name, conn: c}
	case *bluesky.Connector:
		return blueskyPoller{channel: name, conn: c}
	case *email.Connector:
		if mb := c.Inbox(); mb != nil {
			return mailboxPoller{channel: name, mb: mb}
		}
	}
	return nil
}
