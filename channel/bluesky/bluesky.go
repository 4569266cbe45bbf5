// Package bluesky publishes notices to a Bluesky account over the AT
// Protocol: a session from com.atproto.server.createSession with the
// account's handle and an app password (refreshed with
// com.atproto.server.refreshSession when the PDS answers ExpiredToken),
// posts as app.bsky.feed.post records through com.atproto.repo.createRecord
// with link and hashtag facets (byte ranges into the UTF-8 text) and reply
// references for threads, and com.atproto.repo.deleteRecord to retract.
//
// Bluesky has no editing: Update deletes the old thread and posts the new
// text, so followers see a new post and the old one's likes and reposts are
// lost.
//
// Delivery guarantee: when a post has an idempotency key and a creation
// time, each part is written with com.atproto.repo.putRecord under a
// record key (a TID) derived from them, with createdAt set from the same
// time, so a retry after a lost answer rewrites the identical record
// instead of posting again. Without them, createRecord is used and a retry
// can post twice.
package bluesky

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/render"
)

// Config is what a Bluesky channel needs.
type Config struct {
	// Service is the account's PDS; default https://bsky.social.
	Service string
	// Identifier is the handle (northdale.gov.uk) or DID.
	Identifier string
	// AppPassword is an app password, never the account password.
	AppPassword string
	// Client sends the requests; production passes netsafe's client.
	Client channel.Doer
	// Now stamps createdAt and reads rate-limit resets; default time.Now.
	Now func() time.Time
}

// Connector posts to one Bluesky account. It keeps its session between
// calls and is safe for concurrent use.
type Connector struct {
	cfg  Config
	base *url.URL

	mu      sync.Mutex
	access  string
	refresh string
	did     string
}

// New checks the configuration and returns a connector; it does not log
// in until the first call.
func New(cfg Config) (*Connector, error) {
	if cfg.Service == "" {
		cfg.Service = "https://bsky.social"
	}
	u, err := url.Parse(strings.TrimRight(cfg.Service, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("bluesky: service %q is not an http(s) URL", cfg.Service)
	}
	if cfg.Identifier == "" || cfg.AppPassword == "" {
		return nil, fmt.Errorf("bluesky: identifier and app password are required")
	}
	if cfg.Client == nil {
		return nil, fmt.Errorf("bluesky: no HTTP client")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Connector{cfg: cfg, base: u}, nil
}

type strongRef struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

type replyRef struct {
	Root   strongRef `json:"root"`
	Parent strongRef `json:"parent"`
}

type facet struct {
	Index    byteSlice `json:"index"`
	Features []any     `json:"features"`
}

type byteSlice struct {
	ByteStart int `json:"byteStart"`
	ByteEnd   int `json:"byteEnd"`
}

type linkFeature struct {
	Type string `json:"$type"`
	URI  string `json:"uri"`
}

type tagFeature struct {
	Type string `json:"$type"`
	Tag  string `json:"tag"`
}

type postRecord struct {
	Type      string    `json:"$type"`
	Text      string    `json:"text"`
	CreatedAt string    `json:"createdAt"`
	Langs     []string  `json:"langs,omitempty"`
	Facets    []facet   `json:"facets,omitempty"`
	Reply     *replyRef `json:"reply,omitempty"`
}

// hashtag matches #tags after a space or at the start, as Bluesky's own
// client detects them (letters, digits and underscores, not only digits).
var hashtag = regexp.MustCompile(`(?:^|\s)(#[\p{L}\p{M}\p{N}_]*[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*)`)

// Facets returns the link and hashtag facets of text. Offsets are bytes of
// the UTF-8 text, which is what Go string indexes are.
func Facets(text string) []facet {
	var out []facet
	for _, r := range render.FindURLs(text) {
		out = append(out, facet{Index: byteSlice{r[0], r[1]}, Features: []any{linkFeature{"app.bsky.richtext.facet#link", text[r[0]:r[1]]}}})
	}
	for _, m := range hashtag.FindAllStringSubmatchIndex(text, -1) {
		tag := text[m[2]+1 : m[3]]
		if len(tag) > 64 {
			continue
		}
		out = append(out, facet{Index: byteSlice{m[2], m[3]}, Features: []any{tagFeature{"app.bsky.richtext.facet#tag", tag}}})
	}
	return out
}

// Publish posts each part, each replying to the previous with the first
// as the thread's root.
func (c *Connector) Publish(ctx context.Context, p channel.Post) (channel.Receipt, error) {
	var r channel.Receipt
	var root, parent strongRef
	langs := p.Languages
	if len(langs) > 3 {
		langs = langs[:3]
	}
	idempotent := p.IdempotencyKey != "" && !p.CreatedAt.IsZero()
	if to := p.ReplyTo; to != nil && len(to.IDs) > 0 && len(to.CIDs) == len(to.IDs) {
		root = strongRef{URI: to.IDs[0], CID: to.CIDs[0]}
		parent = strongRef{URI: to.IDs[len(to.IDs)-1], CID: to.CIDs[len(to.CIDs)-1]}
	}
	for i, text := range p.Parts {
		created := c.cfg.Now()
		if idempotent {
			// A millisecond apart keeps the thread's parts in order.
			created = p.CreatedAt.Add(time.Duration(i) * time.Millisecond)
		}
		rec := postRecord{Type: "app.bsky.feed.post", Text: text, CreatedAt: created.UTC().Format("2006-01-02T15:04:05.000Z"),
			Langs: langs, Facets: Facets(text)}
		if parent.URI != "" {
			rec.Reply = &replyRef{Root: root, Parent: parent}
		}
		rkey := ""
		if idempotent {
			rkey = TID(created, p.IdempotencyKey)
		}
		out, err := c.write(ctx, rec, rkey)
		if err != nil {
			return r, fmt.Errorf("bluesky: post part %d of %d: %w", i+1, len(p.Parts), err)
		}
		if root.URI == "" {
			root = out
		}
		parent = out
		r.IDs = append(r.IDs, out.URI)
		r.CIDs = append(r.CIDs, out.CID)
		r.URLs = append(r.URLs, webURL(out.URI))
	}
	return r, nil
}

// write stores a post record: with putRecord under rkey when one is
// given, so that writing it again replaces it, else with createRecord.
func (c *Connector) write(ctx context.Context, rec postRecord, rkey string) (strongRef, error) {
	var out strongRef
	nsid := "com.atproto.repo.createRecord"
	if rkey != "" {
		nsid = "com.atproto.repo.putRecord"
	}
	err := c.xrpc(ctx, nsid, func(did string) any {
		in := map[string]any{"repo": did, "collection": "app.bsky.feed.post", "record": rec}
		if rkey != "" {
			in["rkey"] = rkey
		}
		return in
	}, &out)
	return out, err
}

// TID derives a record key in the AT Protocol's TID syntax (13
// characters of base32-sortable: a 53-bit microsecond timestamp and a
// 10-bit clock id) from a time and a delivery key, so the same delivery
// always names the same record.
func TID(t time.Time, key string) string {
	const alphabet = "234567abcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(key))
	// Twenty bits of the key (the clock id and the timestamp's lowest ten
	// bits, about a millisecond) keep deliveries made in the same instant
	// apart.
	h := uint64(sum[0])<<12 | uint64(sum[1])<<4 | uint64(sum[2]>>4)
	micros := uint64(t.UnixMicro())&^1023 | h>>10
	v := (micros&(1<<53-1))<<10 | h&1023
	out := make([]byte, 13)
	for i := 12; i >= 0; i-- {
		out[i] = alphabet[v&31]
		v >>= 5
	}
	return string(out)
}

// webURL turns at://did/app.bsky.feed.post/rkey into the bsky.app address.
func webURL(uri string) string {
	parts := strings.Split(strings.TrimPrefix(uri, "at://"), "/")
	if len(parts) != 3 {
		return ""
	}
	return "https://bsky.app/profile/" + parts[0] + "/post/" + parts[2]
}

// Update posts p as a reply under the earlier thread: Bluesky posts
// cannot be edited, and followers who saw the original see the update
// beneath it. The receipt covers the whole thread, so a retraction
// deletes all of it.
func (c *Connector) Update(ctx context.Context, r channel.Receipt, p channel.Post) (channel.Receipt, error) {
	p.ReplyTo = &r
	more, err := c.Publish(ctx, p)
	if err != nil {
		return r, err
	}
	return channel.Receipt{IDs: append(slices.Clip(r.IDs), more.IDs...), URLs: append(slices.Clip(r.URLs), more.URLs...), CIDs: append(slices.Clip(r.CIDs), more.CIDs...)}, nil
}

// Delete removes every part, last first. Deleting a record that is gone
// succeeds on a PDS, so a retried delete is harmless.
func (c *Connector) Delete(ctx context.Context, r channel.Receipt) error {
	for i := len(r.IDs) - 1; i >= 0; i-- {
		rkey := r.IDs[i][strings.LastIndex(r.IDs[i], "/")+1:]
		if rkey == "" {
			return channel.Permanent("bluesky: %q is not a post URI", r.IDs[i])
		}
		err := c.xrpc(ctx, "com.atproto.repo.deleteRecord", func(did string) any {
			return map[string]string{"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey}
		}, nil)
		if err != nil {
			return fmt.Errorf("bluesky: delete %s: %w", rkey, err)
		}
	}
	return nil
}

// Health logs in if needed and reads the session.
func (c *Connector) Health(ctx context.Context) error {
	if err := c.xrpc(ctx, "com.atproto.server.getSession", nil, nil); err != nil {
		return fmt.Errorf("bluesky: session: %w", err)
	}
	return nil
}

// xrpcError is the body of an XRPC failure.
type xrpcError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// xrpc calls a procedure (or, with a nil body, a query) with the session,
// logging in first if needed. On ExpiredToken it refreshes the session
// (or logs in again when the refresh token has expired too) and tries once
// more; on AuthenticationRequired it logs in again once.
func (c *Connector) xrpc(ctx context.Context, nsid string, body func(did string) any, out any) error {
	for attempt := 0; ; attempt++ {
		access, did, err := c.session(ctx)
		if err != nil {
			return err
		}
		var in any
		if body != nil {
			in = body(did)
		}
		err = c.send(ctx, nsid, access, in, out)
		var e *channel.Error
		if err == nil || !errors.As(err, &e) {
			return err
		}
		if attempt > 0 {
			if e.Code == "ExpiredToken" {
				// Expired again straight after a refresh: the session
				// raced another refresh or the server's clock; the next
				// attempt refreshes again. A revoked app password shows
				// at refresh or login, which is permanent.
				e.Class = channel.ErrRetryable
			}
			return err
		}
		switch {
		case e.Code == "ExpiredToken":
			if err := c.refreshSession(ctx, access); err != nil {
				return err
			}
		case e.Status == http.StatusUnauthorized:
			c.dropSession(access)
		default:
			return err
		}
	}
}

func (c *Connector) session(ctx context.Context) (access, did string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.access != "" {
		return c.access, c.did, nil
	}
	if err := c.login(ctx); err != nil {
		return "", "", err
	}
	return c.access, c.did, nil
}

type sessionOut struct {
	AccessJwt  string `json:"accessJwt"`
	RefreshJwt string `json:"refreshJwt"`
	DID        string `json:"did"`
}

// login must be called with c.mu held.
func (c *Connector) login(ctx context.Context) error {
	var s sessionOut
	in := map[string]string{"identifier": c.cfg.Identifier, "password": c.cfg.AppPassword}
	if err := c.send(ctx, "com.atproto.server.createSession", "", in, &s); err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	if s.AccessJwt == "" || s.DID == "" {
		return channel.Retryable(0, "createSession answered without a session")
	}
	c.access, c.refresh, c.did = s.AccessJwt, s.RefreshJwt, s.DID
	return nil
}

func (c *Connector) dropSession(stale string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.access == stale {
		c.access = ""
	}
}

// refreshSession replaces the session whose access token was stale; if
// another call already replaced it, there is nothing to do.
func (c *Connector) refreshSession(ctx context.Context, stale string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.access != stale {
		return nil
	}
	var s sessionOut
	err := c.send(ctx, "com.atproto.server.refreshSession", c.refresh, struct{}{}, &s)
	if err == nil && s.AccessJwt != "" {
		c.access, c.refresh = s.AccessJwt, s.RefreshJwt
		if s.DID != "" {
			c.did = s.DID
		}
		return nil
	}
	if channel.IsRetryable(err) {
		return fmt.Errorf("refresh session: %w", err)
	}
	// The refresh token expired or was revoked: log in afresh.
	c.access = ""
	return c.login(ctx)
}

// send calls nsid, which may carry a query string for queries.
func (c *Connector) send(ctx context.Context, nsid, token string, in, out any) error {
	nsid, query, _ := strings.Cut(nsid, "?")
	pu := c.base.JoinPath("xrpc", nsid)
	pu.RawQuery = query
	u := pu.String()
	var req *http.Request
	var err error
	if in != nil {
		body, err := channel.JSONBody(in)
		if err != nil {
			return err
		}
		if req, err = http.NewRequestWithContext(ctx, http.MethodPost, u, body); err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
	} else if req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil); err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	return channel.Call(c.cfg.Client, req, nsid, out, c.classify)
}

// classify reads XRPC's {"error", "message"}. ExpiredToken comes as 400
// and is retryable after a refresh, which xrpc does; other 400s are invalid
// records; 401 means the app password was revoked.
func (c *Connector) classify(resp *http.Response, body []byte) *channel.Error {
	var e xrpcError
	json.Unmarshal(body, &e)
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return channel.HTTPError(resp, c.cfg.Now(), msg, e.Error)
}
