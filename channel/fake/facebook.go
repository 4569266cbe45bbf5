package fake

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// GraphVersion is the Graph API version the fake serves under.
const GraphVersion = "v21.0"

// FacebookPost is a Page post as the fake stores it.
type FacebookPost struct {
	ID      string // {page-id}_{post-id}
	Message string
	Link    string
	Edits   int
	Deleted bool
	created time.Time
}

// Facebook fakes the Graph API calls a Page makes: POST /{page-id}/feed
// with message and link, POST /{post-id} to edit the message, DELETE
// /{post-id}, and GET /{page-id} to check the token; for the inbox,
// comments (GET and POST /{comment-id}/comments), Messenger's Send API
// (POST /{page-id}/messages) and conversations (GET
// /{page-id}/conversations), with the webhook deliveries residents'
// comments and messages cause (Comment, Message). The Page access token
// may come as the access_token parameter or a Bearer header. Errors use
// Graph's body {"error": {"message", "type", "code", "error_subcode",
// "fbtrace_id"}}: code 190 for invalid or expired tokens and code 32
// (page-level throttling) for rate limits, both with HTTP 400 as Graph
// sends them.
type Facebook struct {
	*httptest.Server
	faults
	PageID, Token string

	mu       sync.Mutex
	posts    []*FacebookPost
	comments []*FacebookComment
	messages []*FacebookMessage
}

// NewFacebook starts a fake Graph API for one Page.
func NewFacebook(pageID, token string) *Facebook {
	f := &Facebook{PageID: pageID, Token: token}
	f.faults.now = time.Now
	f.Server = newServer(http.HandlerFunc(f.serve))
	return f
}

// Posts returns a copy of every post created, deleted ones included.
func (f *Facebook) Posts() []FacebookPost {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FacebookPost, len(f.posts))
	for i, p := range f.posts {
		out[i] = *p
	}
	return out
}

func graphError(w http.ResponseWriter, status int, typ string, code, subcode int, msg string) {
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "AbCdEf123"}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func (f *Facebook) authFail(w http.ResponseWriter, fault Fault) {
	if fault == pageThrottled {
		f.serveThrottle(w)
		return
	}
	if fault == Expired {
		graphError(w, http.StatusBadRequest, "OAuthException", 190, 463, "Error validating access token: Session has expired on Tuesday, 06-Jan-26 07:00:00 PST.")
		return
	}
	graphError(w, http.StatusBadRequest, "OAuthException", 190, 460, "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.")
}

func (f *Facebook) serve(w http.ResponseWriter, r *http.Request) {
	// Graph signals throttling in the body, not with 429.
	if f.inject(w, r, nil, f.authFail) {
		return
	}
	if err := r.ParseForm(); err != nil {
		graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Invalid parameter")
		return
	}
	tok := r.Form.Get("access_token")
	if tok == "" {
		tok = bearer(r)
	}
	if tok == "" {
		graphError(w, http.StatusBadRequest, "OAuthException", 2500, 0, "An active access token must be used to query information about the current user.")
		return
	}
	if tok != f.Token {
		graphError(w, http.StatusBadRequest, "OAuthException", 190, 0, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/"+GraphVersion+"/")
	if !ok {
		graphError(w, http.StatusBadRequest, "GraphMethodException", 100, 0, "Unknown path components")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.serveInbound(w, r, path) {
		return
	}
	switch {
	case path == f.PageID+"/feed" && r.Method == http.MethodPost:
		msg, link := r.PostForm.Get("message"), r.PostForm.Get("link")
		if msg == "" && link == "" {
			graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Missing message or attachment")
			return
		}
		if utf8.RuneCountInString(msg) > 63206 {
			graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Param message must be at most 63206 characters long")
			return
		}
		p := &FacebookPost{ID: fmt.Sprintf("%s_%d", f.PageID, 1000000+len(f.posts)), Message: msg, Link: link, created: f.faults.now()}
		f.posts = append(f.posts, p)
		writeJSON(w, http.StatusOK, map[string]string{"id": p.ID})
	case path == f.PageID+"/posts" && r.Method == http.MethodGet:
		f.listPosts(w, r)
	case path == f.PageID && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]string{"id": f.PageID, "name": "Northdale Council"})
	default:
		p := f.find(path)
		if p == nil {
			graphError(w, http.StatusBadRequest, "GraphMethodException", 100, 33, fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", r.Method, path))
			return
		}
		switch r.Method {
		case http.MethodPost:
			msg := r.PostForm.Get("message")
			if msg == "" || utf8.RuneCountInString(msg) > 63206 {
				graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Invalid message")
				return
			}
			p.Message, p.Edits = msg, p.Edits+1
			writeJSON(w, http.StatusOK, map[string]bool{"success": true})
		case http.MethodDelete:
			p.Deleted = true
			writeJSON(w, http.StatusOK, map[string]bool{"success": true})
		default:
			graphError(w, http.StatusBadRequest, "GraphMethodException", 100, 0, "Unsupported method")
		}
	}
}

// listPosts serves GET /{page-id}/posts newest first, with Graph's limit
// (default 25, at most 100), since (Unix seconds) and cursor paging.
func (f *Facebook) listPosts(w http.ResponseWriter, r *http.Request) {
	limit, err := strconv.Atoi(r.Form.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 25
	}
	limit = min(limit, 100)
	var since time.Time
	if v := r.Form.Get("since"); v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Invalid since")
			return
		}
		since = time.Unix(sec, 0)
	}
	var live []*FacebookPost
	for i := len(f.posts) - 1; i >= 0; i-- {
		if p := f.posts[i]; !p.Deleted && !p.created.Before(since) {
			live = append(live, p)
		}
	}
	start := 0
	if after := r.Form.Get("after"); after != "" {
		start, _ = strconv.Atoi(after)
	}
	start = min(max(start, 0), len(live))
	end := min(start+limit, len(live))
	data := []map[string]string{}
	for _, p := range live[start:end] {
		data = append(data, map[string]string{"id": p.ID, "message": p.Message, "created_time": p.created.UTC().Format("2006-01-02T15:04:05-0700")})
	}
	out := map[string]any{"data": data}
	if end < len(live) {
		next := *r.URL
		q := next.Query()
		q.Del("access_token")
		q.Set("after", strconv.Itoa(end))
		next.RawQuery = q.Encode()
		next.Scheme, next.Host = "http", r.Host
		out["paging"] = map[string]any{"cursors": map[string]string{"after": strconv.Itoa(end)}, "next": next.String()}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Facebook) find(id string) *FacebookPost {
	for _, p := range f.posts {
		if p.ID == id && !p.Deleted {
			return p
		}
	}
	return nil
}

// Throttle makes the next n calls fail as Graph does when a Page is
// rate-limited: HTTP 400 with error code 32.
func (f *Facebook) Throttle(n int) { f.Fail(n, pageThrottled) }

// pageThrottled is Facebook-only, so it is not exported as a Fault.
const pageThrottled Fault = 100

func (f *Facebook) serveThrottle(w http.ResponseWriter) {
	// Graph says how long a throttled Page must wait, in minutes, in this
	// header rather than in Retry-After.
	w.Header().Set("X-Business-Use-Case-Usage", fmt.Sprintf(`{"%s":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":1}]}`, f.PageID))
	graphError(w, http.StatusBadRequest, "OAuthException", 32, 0, "(#32) Page request limit reached")
}
