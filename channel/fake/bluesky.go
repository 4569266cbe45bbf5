package fake

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// BlueskyPost is a post record as the fake stores it.
type BlueskyPost struct {
	URI, CID, RKey string
	Author         string // the DID of the repo it is in
	Record         BlueskyRecord
	Deleted        bool
	Writes         int // rewrites by putRecord after the first write
}

// BlueskyRecord is an app.bsky.feed.post record.
type BlueskyRecord struct {
	Type      string         `json:"$type"`
	Text      string         `json:"text"`
	CreatedAt string         `json:"createdAt"`
	Langs     []string       `json:"langs,omitempty"`
	Facets    []BlueskyFacet `json:"facets,omitempty"`
	Reply     *struct {
		Root   StrongRef `json:"root"`
		Parent StrongRef `json:"parent"`
	} `json:"reply,omitempty"`
}

// StrongRef is com.atproto.repo.strongRef.
type StrongRef struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

// BlueskyFacet is app.bsky.richtext.facet.
type BlueskyFacet struct {
	Index struct {
		ByteStart int `json:"byteStart"`
		ByteEnd   int `json:"byteEnd"`
	} `json:"index"`
	Features []map[string]any `json:"features"`
}

// Bluesky fakes a PDS's XRPC endpoints that Signpost uses: sessions by
// app password (createSession, refreshSession, getSession), posts
// (createRecord, putRecord, deleteRecord of app.bsky.feed.post), and the
// AppView queries a PDS proxies (app.bsky.notification.listNotifications
// and updateSeen, app.bsky.feed.getPosts) for mentions and replies that
// residents make with Mention, validating records
// as the lexicon says: 300 graphemes and 3000 bytes of text, an RFC 3339
// createdAt, at most 3 langs, facets within the text's bytes, and replies
// naming existing posts by uri and cid.
type Bluesky struct {
	*httptest.Server
	faults
	Handle, DID, Password string

	mu       sync.Mutex
	posts    []*BlueskyPost
	notes    []blueskyNotification
	seenAt   time.Time
	people   map[string]blueskyAuthor // did → profile
	access   map[string]bool          // token → still valid
	refresh  map[string]bool
	sessions int
	seq      int
}

// NewBluesky starts a fake PDS for one account.
func NewBluesky(handle, password string) *Bluesky {
	b := &Bluesky{Handle: handle, DID: "did:plc:" + strings.Repeat("n", 24), Password: password,
		access: map[string]bool{}, refresh: map[string]bool{}, people: map[string]blueskyAuthor{}}
	b.faults.now = time.Now
	b.Server = newServer(http.HandlerFunc(b.serve))
	return b
}

// Posts returns a copy of every post created, deleted ones included.
func (b *Bluesky) Posts() []BlueskyPost {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BlueskyPost, len(b.posts))
	for i, p := range b.posts {
		out[i] = *p
	}
	return out
}

// Sessions is how many times createSession succeeded.
func (b *Bluesky) Sessions() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions
}

// ExpireAccessTokens makes every issued access token expired, as happens
// after two hours on a real PDS.
func (b *Bluesky) ExpireAccessTokens() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.access {
		b.access[k] = false
	}
}

func xrpcError(w http.ResponseWriter, status int, name, msg string) {
	writeJSON(w, status, map[string]string{"error": name, "message": msg})
}

func (b *Bluesky) rateHeaders(h http.Header, reset time.Time) {
	h.Set("RateLimit-Limit", "5000")
	h.Set("RateLimit-Remaining", "0")
	h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("RateLimit-Policy", "5000;w=3600")
}

// authFail answers as the PDS does for a revoked app password or, with
// Expired, an expired token. A call that carries no token
// (createSession) has none to expire: it is served, and the sessions
// expire so that the next call meets ExpiredToken.
func (b *Bluesky) authFail(w http.ResponseWriter, r *http.Request, f Fault) {
	if f == Expired {
		b.ExpireAccessTokens()
		if bearer(r) == "" {
			b.handle(w, r)
			return
		}
		xrpcError(w, http.StatusBadRequest, "ExpiredToken", "Token has expired")
		return
	}
	xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Invalid identifier or password")
}

func (b *Bluesky) serve(w http.ResponseWriter, r *http.Request) {
	authFail := func(w http.ResponseWriter, f Fault) { b.authFail(w, r, f) }
	if b.inject(w, r, b.rateHeaders, authFail) {
		return
	}
	b.handle(w, r)
}

// handle serves a call that no fault was injected into.
func (b *Bluesky) handle(w http.ResponseWriter, r *http.Request) {
	nsid, ok := strings.CutPrefix(r.URL.Path, "/xrpc/")
	if !ok {
		xrpcError(w, http.StatusNotFound, "NotFound", "not found")
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch nsid {
	case "com.atproto.server.createSession":
		var in struct{ Identifier, Password string }
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&in) != nil {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Input must have the property \"identifier\"")
			return
		}
		if (in.Identifier != b.Handle && in.Identifier != b.DID) || in.Password != b.Password {
			xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Invalid identifier or password")
			return
		}
		b.sessions++
		b.issue(w)
	case "com.atproto.server.refreshSession":
		tok := bearer(r)
		if !b.refresh[tok] {
			xrpcError(w, http.StatusBadRequest, "ExpiredToken", "Token has been revoked")
			return
		}
		delete(b.refresh, tok)
		b.issue(w)
	case "com.atproto.server.getSession":
		if !b.authorised(w, r) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"handle": b.Handle, "did": b.DID, "active": true})
	case "com.atproto.repo.createRecord":
		if !b.authorised(w, r) {
			return
		}
		b.createRecord(w, r, false)
	case "com.atproto.repo.putRecord":
		if !b.authorised(w, r) {
			return
		}
		b.createRecord(w, r, true)
	case "com.atproto.repo.deleteRecord":
		if !b.authorised(w, r) {
			return
		}
		var in struct{ Repo, Collection, Rkey string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Rkey == "" {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Input must have the property \"rkey\"")
			return
		}
		if in.Repo != b.DID && in.Repo != b.Handle {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid repo")
			return
		}
		for _, p := range b.posts {
			if p.RKey == in.Rkey && in.Collection == "app.bsky.feed.post" {
				p.Deleted = true
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"commit": map[string]string{"cid": b.cid("commit" + in.Rkey), "rev": b.tid()}})
	case "app.bsky.notification.listNotifications":
		if !b.authorised(w, r) {
			return
		}
		b.listNotifications(w, r)
	case "app.bsky.notification.updateSeen":
		if !b.authorised(w, r) {
			return
		}
		b.updateSeen(w, r)
	case "app.bsky.feed.getPosts":
		if !b.authorised(w, r) {
			return
		}
		b.getPosts(w, r)
	default:
		xrpcError(w, http.StatusNotImplemented, "MethodNotImplemented", "Method Not Implemented")
	}
}

func bearer(r *http.Request) string {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return tok
}

func (b *Bluesky) authorised(w http.ResponseWriter, r *http.Request) bool {
	valid, known := b.access[bearer(r)]
	switch {
	case !known:
		xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Authentication Required")
		return false
	case !valid:
		xrpcError(w, http.StatusBadRequest, "ExpiredToken", "Token has expired")
		return false
	}
	return true
}

func (b *Bluesky) issue(w http.ResponseWriter) {
	b.seq++
	access, refresh := fmt.Sprintf("access-%d", b.seq), fmt.Sprintf("refresh-%d", b.seq)
	b.access[access], b.refresh[refresh] = true, true
	writeJSON(w, http.StatusOK, map[string]any{"accessJwt": access, "refreshJwt": refresh, "handle": b.Handle, "did": b.DID, "active": true})
}

// tidSyntax is the TID format: 13 base32-sortable characters, the first
// limited so the top bit is zero.
var tidSyntax = regexp.MustCompile(`^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$`)

// createRecord serves createRecord and, with put, putRecord: put writes
// the record under the given key whether or not it exists.
func (b *Bluesky) createRecord(w http.ResponseWriter, r *http.Request, put bool) {
	var in struct {
		Repo       string          `json:"repo"`
		Collection string          `json:"collection"`
		Rkey       string          `json:"rkey"`
		Record     json.RawMessage `json:"record"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid JSON: "+err.Error())
		return
	}
	if in.Repo != b.DID && in.Repo != b.Handle {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Input/repo must be a valid did or handle")
		return
	}
	if in.Collection != "app.bsky.feed.post" {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid collection")
		return
	}
	var rec BlueskyRecord
	if err := json.Unmarshal(in.Record, &rec); err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid app.bsky.feed.post record: "+err.Error())
		return
	}
	if msg := b.validate(rec); msg != "" {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid app.bsky.feed.post record: "+msg)
		return
	}
	rkey := in.Rkey
	if rkey == "" && put {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Input must have the property \"rkey\"")
		return
	}
	if rkey == "" {
		rkey = b.tid()
	}
	if !tidSyntax.MatchString(rkey) {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid record key for app.bsky.feed.post: must be a TID")
		return
	}
	var p *BlueskyPost
	for _, old := range b.posts {
		if old.RKey == rkey && !old.Deleted {
			if !put {
				xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Record already exists")
				return
			}
			p = old
		}
	}
	if p == nil {
		p = &BlueskyPost{URI: "at://" + b.DID + "/app.bsky.feed.post/" + rkey, RKey: rkey, Author: b.DID}
		b.posts = append(b.posts, p)
	} else {
		p.Writes++
	}
	// The CID is the content's hash: rewriting the same record keeps it.
	p.CID, p.Record = b.cid(string(in.Record)), rec
	writeJSON(w, http.StatusOK, map[string]any{"uri": p.URI, "cid": p.CID,
		"commit": map[string]string{"cid": b.cid("commit" + rkey), "rev": b.tid()}, "validationStatus": "valid"})
}

func (b *Bluesky) validate(rec BlueskyRecord) string {
	switch {
	case rec.Type != "app.bsky.feed.post":
		return "Record/$type must be app.bsky.feed.post"
	case uniseg.GraphemeClusterCount(rec.Text) > 300:
		return "Record/text must not be longer than 300 graphemes"
	case len(rec.Text) > 3000:
		return "Record/text must not be longer than 3000 characters"
	case len(rec.Langs) > 3:
		return "Record/langs must not have more than 3 elements"
	}
	if _, err := time.Parse(time.RFC3339Nano, rec.CreatedAt); err != nil {
		return "Record/createdAt must be an valid atproto datetime"
	}
	for i, f := range rec.Facets {
		s, e := f.Index.ByteStart, f.Index.ByteEnd
		if s < 0 || e > len(rec.Text) || s >= e {
			return fmt.Sprintf("Record/facets/%d/index is outside the text (%d–%d of %d bytes)", i, s, e, len(rec.Text))
		}
		// Not checked by a PDS, but a range that splits a character is
		// always a client bug: clients then highlight the wrong text.
		if !utf8.ValidString(rec.Text[s:e]) {
			return fmt.Sprintf("Record/facets/%d/index splits a UTF-8 character", i)
		}
		if len(f.Features) == 0 {
			return fmt.Sprintf("Record/facets/%d/features must not be empty", i)
		}
		for _, feat := range f.Features {
			switch feat["$type"] {
			case "app.bsky.richtext.facet#link":
				if u, _ := feat["uri"].(string); u == "" {
					return fmt.Sprintf("Record/facets/%d/features/0/uri must be a uri", i)
				}
			case "app.bsky.richtext.facet#tag":
				if t, _ := feat["tag"].(string); t == "" || strings.HasPrefix(t, "#") {
					return fmt.Sprintf("Record/facets/%d/features/0/tag must be a tag without #", i)
				}
			case "app.bsky.richtext.facet#mention":
			default:
				return fmt.Sprintf("Record/facets/%d/features/0 has unknown $type %v", i, feat["$type"])
			}
		}
	}
	if rec.Reply != nil {
		for _, ref := range []StrongRef{rec.Reply.Root, rec.Reply.Parent} {
			if !b.exists(ref) {
				return "Record/reply refers to a post that does not exist: " + ref.URI
			}
		}
	}
	return ""
}

func (b *Bluesky) exists(ref StrongRef) bool {
	for _, p := range b.posts {
		if p.URI == ref.URI && p.CID == ref.CID && !p.Deleted {
			return true
		}
	}
	return false
}

// tid makes a record key in the TID form: 13 characters of
// base32-sortable, time-ordered.
func (b *Bluesky) tid() string {
	b.seq++
	const alphabet = "234567abcdefghijklmnopqrstuvwxyz"
	v := uint64(time.Now().UnixMicro())<<10 | uint64(b.seq&1023)
	out := make([]byte, 13)
	for i := 12; i >= 0; i-- {
		out[i] = alphabet[v&31]
		v >>= 5
	}
	return string(out)
}

func (b *Bluesky) cid(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "bafyrei" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))[:52]
}
