package fake

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

type blueskyAuthor struct {
	DID         string `json:"did"`
	Handle      string `json:"handle"`
	DisplayName string `json:"displayName,omitempty"`
}

type blueskyNotification struct {
	post      *BlueskyPost
	reason    string
	indexedAt time.Time
}

// Mention makes a resident's post, by handle, and the notification the
// council's account gets for it: a reply when parent names one of the
// council's posts (by URI; the thread's root is taken from it), else a
// mention. It returns the post's URI.
func (b *Bluesky) Mention(handle, displayName, text, parent string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	sum := sha256.Sum256([]byte(handle))
	did := "did:plc:" + strings.ToLower(base32.StdEncoding.EncodeToString(sum[:15]))
	b.people[did] = blueskyAuthor{DID: did, Handle: handle, DisplayName: displayName}
	rkey := b.tid()
	rec := BlueskyRecord{Type: "app.bsky.feed.post", Text: text, CreatedAt: time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
	reason := "mention"
	if parent != "" {
		for _, p := range b.posts {
			if p.URI != parent {
				continue
			}
			root := StrongRef{URI: p.URI, CID: p.CID}
			if p.Record.Reply != nil {
				root = p.Record.Reply.Root
			}
			rec.Reply = &struct {
				Root   StrongRef `json:"root"`
				Parent StrongRef `json:"parent"`
			}{root, StrongRef{URI: p.URI, CID: p.CID}}
		}
		reason = "reply"
	}
	raw, _ := json.Marshal(rec)
	p := &BlueskyPost{URI: "at://" + did + "/app.bsky.feed.post/" + rkey, RKey: rkey, CID: b.cid(string(raw)), Record: rec, Author: did}
	b.posts = append(b.posts, p)
	b.notify(p, reason)
	return p.URI
}

// Renotify delivers the notification for a post again, as an AppView
// does when it re-indexes a post.
func (b *Bluesky) Renotify(uri string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range b.notes {
		if n.post.URI == uri {
			b.notify(n.post, n.reason)
			return
		}
	}
}

// SeenAt is the time updateSeen last set.
func (b *Bluesky) SeenAt() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seenAt
}

func (b *Bluesky) notify(p *BlueskyPost, reason string) {
	at := time.Now().UTC().Truncate(time.Millisecond)
	if n := len(b.notes); n > 0 && !at.After(b.notes[n-1].indexedAt) {
		at = b.notes[n-1].indexedAt.Add(time.Millisecond)
	}
	b.notes = append(b.notes, blueskyNotification{post: p, reason: reason, indexedAt: at})
}

// listNotifications serves app.bsky.notification.listNotifications:
// newest first, limit 1–100 (default 50), reasons to filter, and an
// opaque cursor for the next (older) page.
func (b *Bluesky) listNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "limit must be an integer between 1 and 100")
			return
		}
		limit = n
	}
	start := len(b.notes) - 1
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "n"))
		if err != nil || !strings.HasPrefix(c, "n") {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "malformed cursor")
			return
		}
		start = n - 1
	}
	reasons := q["reasons"]
	out := []map[string]any{}
	i := start
	for ; i >= 0 && len(out) < limit; i-- {
		n := b.notes[i]
		if (len(reasons) > 0 && !slices.Contains(reasons, n.reason)) || n.post.Deleted {
			continue
		}
		out = append(out, map[string]any{"uri": n.post.URI, "cid": n.post.CID, "author": b.people[n.post.Author],
			"reason": n.reason, "record": n.post.Record, "isRead": !n.indexedAt.After(b.seenAt),
			"indexedAt": n.indexedAt.Format("2006-01-02T15:04:05.000Z"), "labels": []any{}})
	}
	resp := map[string]any{"notifications": out, "priority": false}
	if !b.seenAt.IsZero() {
		resp["seenAt"] = b.seenAt.Format("2006-01-02T15:04:05.000Z")
	}
	if i >= 0 {
		resp["cursor"] = "n" + strconv.Itoa(i+1)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (b *Bluesky) updateSeen(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SeenAt string `json:"seenAt"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&in) != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Input must have the property \"seenAt\"")
		return
	}
	t, err := time.Parse(time.RFC3339Nano, in.SeenAt)
	if err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Input/seenAt must be an valid atproto datetime")
		return
	}
	b.seenAt = t.UTC()
	w.WriteHeader(http.StatusOK)
}

// getPosts serves app.bsky.feed.getPosts: up to 25 uris; posts that do
// not exist are left out, as the AppView does.
func (b *Bluesky) getPosts(w http.ResponseWriter, r *http.Request) {
	uris := r.URL.Query()["uris"]
	if len(uris) == 0 || len(uris) > 25 {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "uris must have between 1 and 25 items")
		return
	}
	out := []map[string]any{}
	for _, u := range uris {
		for _, p := range b.posts {
			if p.URI == u && !p.Deleted {
				author := b.people[p.Author]
				if p.Author == b.DID {
					author = blueskyAuthor{DID: b.DID, Handle: b.Handle}
				}
				out = append(out, map[string]any{"uri": p.URI, "cid": p.CID, "author": author, "record": p.Record,
					"indexedAt": time.Now().UTC().Format("2006-01-02T15:04:05.000Z")})
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"posts": out})
}
