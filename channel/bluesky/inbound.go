package bluesky

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/signpost-uk/signpost/channel"
)

// Mention is a post that mentioned the account or replied to one of its
// posts.
type Mention struct {
	URI, CID string
	// Reason is "mention" or "reply", as Bluesky gives it.
	Reason      string
	Handle      string
	DisplayName string
	Text        string
	// RootURI is the first post of the thread it belongs to: the
	// council's post for a reply, the mention itself for a new thread.
	RootURI   string
	IndexedAt time.Time
}

type notificationPage struct {
	Cursor        string `json:"cursor"`
	SeenAt        string `json:"seenAt"`
	Notifications []struct {
		URI    string `json:"uri"`
		CID    string `json:"cid"`
		Reason string `json:"reason"`
		Author struct {
			DID         string `json:"did"`
			Handle      string `json:"handle"`
			DisplayName string `json:"displayName"`
		} `json:"author"`
		Record    postRecord `json:"record"`
		IndexedAt time.Time  `json:"indexedAt"`
	} `json:"notifications"`
}

// notificationPages bounds how far back one call reads: 5,000 mentions
// and replies is weeks of a busy council's traffic, and a watermark
// further back than that means the channel was off for long enough that
// starting again from recent messages is the useful thing to do.
const notificationPages = 50

// Mentions reads the mentions and replies indexed at or after since,
// oldest first, and returns the newest indexedAt read as the next since.
// Bluesky's notifications page backwards from the newest with an opaque
// cursor, so this reads pages until it passes since; the watermark is
// inclusive because several notifications can share a timestamp, and
// reading one twice is harmless to an idempotent sink. With since zero
// it reads the newest page only.
func (c *Connector) Mentions(ctx context.Context, since time.Time) ([]Mention, time.Time, error) {
	var out []Mention
	newest := since
	cursor := ""
	for page := 0; page < notificationPages; page++ {
		q := url.Values{"limit": {"100"}, "reasons": {"mention", "reply"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p notificationPage
		if err := c.xrpc(ctx, "app.bsky.notification.listNotifications?"+q.Encode(), nil, &p); err != nil {
			return nil, since, fmt.Errorf("bluesky: read notifications: %w", err)
		}
		passed := false
		for _, n := range p.Notifications {
			if n.IndexedAt.Before(since) {
				passed = true
				break
			}
			// Older servers ignore the reasons filter.
			if n.Reason != "mention" && n.Reason != "reply" {
				continue
			}
			m := Mention{URI: n.URI, CID: n.CID, Reason: n.Reason, Handle: n.Author.Handle, DisplayName: n.Author.DisplayName,
				Text: n.Record.Text, RootURI: n.URI, IndexedAt: n.IndexedAt}
			if n.Record.Reply != nil && n.Record.Reply.Root.URI != "" {
				m.RootURI = n.Record.Reply.Root.URI
			}
			if n.IndexedAt.After(newest) {
				newest = n.IndexedAt
			}
			out = append(out, m)
		}
		if passed || since.IsZero() || p.Cursor == "" || len(p.Notifications) == 0 {
			break
		}
		cursor = p.Cursor
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, newest, nil
}

// MarkSeen tells Bluesky the account's notifications up to t have been
// seen, so the council's app shows as unread only what Signpost has not
// taken in yet.
func (c *Connector) MarkSeen(ctx context.Context, t time.Time) error {
	err := c.xrpc(ctx, "app.bsky.notification.updateSeen", func(string) any {
		return map[string]string{"seenAt": t.UTC().Format(time.RFC3339Nano)}
	}, nil)
	if err != nil {
		return fmt.Errorf("bluesky: mark notifications seen: %w", err)
	}
	return nil
}

// Reply answers the post parentURI in its thread. The record key is
// derived from key and at, and the record's createdAt is at, so a retry
// with the same key and time rewrites the same record instead of
// replying twice. It returns the reply's URI.
func (c *Connector) Reply(ctx context.Context, key string, at time.Time, parentURI, text string) (string, error) {
	var got struct {
		Posts []struct {
			URI    string     `json:"uri"`
			CID    string     `json:"cid"`
			Record postRecord `json:"record"`
		} `json:"posts"`
	}
	q := url.Values{"uris": {parentURI}}
	if err := c.xrpc(ctx, "app.bsky.feed.getPosts?"+q.Encode(), nil, &got); err != nil {
		return "", fmt.Errorf("bluesky: read the post being answered: %w", err)
	}
	if len(got.Posts) == 0 {
		return "", channel.Permanent("bluesky: the post being answered was deleted")
	}
	parent := strongRef{URI: got.Posts[0].URI, CID: got.Posts[0].CID}
	root := parent
	if r := got.Posts[0].Record.Reply; r != nil && r.Root.URI != "" {
		root = r.Root
	}
	rec := postRecord{Type: "app.bsky.feed.post", Text: text, CreatedAt: at.UTC().Format("2006-01-02T15:04:05.000Z"),
		Facets: Facets(text), Reply: &replyRef{Root: root, Parent: parent}}
	out, err := c.write(ctx, rec, TID(at, key))
	if err != nil {
		return "", fmt.Errorf("bluesky: reply: %w", err)
	}
	return out.URI, nil
}
