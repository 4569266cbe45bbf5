package fake

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/signpost-uk/signpost/channel/render"
)

// MastodonStatus is a status as the fake stores it.
type MastodonStatus struct {
	ID          string
	Text        string
	Visibility  string
	InReplyToID string
	Language    string
	Edits       int
	Deleted     bool
	// Acct is the author: empty for the council's own account, user or
	// user@instance for residents' statuses made by Mention.
	Acct string
}

// Mastodon fakes a Mastodon server's statuses API (POST, GET, PUT and
// DELETE /api/v1/statuses, GET /api/v1/accounts/verify_credentials) with a
// 500-character limit counted as Mastodon does (grapheme clusters, every
// URL as 23) and Idempotency-Key support, and the notifications API (GET
// /api/v1/notifications) for mentions residents make with Mention.
type Mastodon struct {
	*httptest.Server
	faults
	Token string

	mu            sync.Mutex
	statuses      []*MastodonStatus
	byKey         map[string]*MastodonStatus
	notifications []mastodonNotification
	names         map[string]string // acct → display name of residents
}

// NewMastodon starts a fake Mastodon server accepting token. Close it
// when done.
func NewMastodon(token string) *Mastodon {
	m := &Mastodon{Token: token, byKey: map[string]*MastodonStatus{}, names: map[string]string{}}
	m.faults.now = time.Now
	m.Server = newServer(http.HandlerFunc(m.serve))
	return m
}

// Statuses returns a copy of every status created, deleted ones included.
func (m *Mastodon) Statuses() []MastodonStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]MastodonStatus, len(m.statuses))
	for i, s := range m.statuses {
		out[i] = *s
	}
	return out
}

func (m *Mastodon) rateHeaders(h http.Header, reset time.Time) {
	h.Set("X-RateLimit-Limit", "300")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", reset.UTC().Format(time.RFC3339Nano))
}

func (m *Mastodon) authFail(w http.ResponseWriter, _ Fault) {
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "The access token is invalid"})
}

func (m *Mastodon) serve(w http.ResponseWriter, r *http.Request) {
	if m.inject(w, r, m.rateHeaders, m.authFail) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+m.Token {
		m.authFail(w, Unauthorized)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/accounts/verify_credentials":
		writeJSON(w, http.StatusOK, map[string]any{"id": "1", "username": "northdale", "acct": "northdale", "display_name": "Northdale Council"})
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses":
		m.create(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/notifications":
		m.listNotifications(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/v1/statuses/"):
		id := strings.TrimPrefix(r.URL.Path, "/api/v1/statuses/")
		st := m.find(id)
		if st == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "Record not found"})
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, m.entity(r, st, false))
		case http.MethodPut:
			params, err := mastodonParams(r)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			if msg := mastodonValidate(params.Status); msg != "" {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": msg})
				return
			}
			st.Text, st.Edits = params.Status, st.Edits+1
			if params.Language != "" {
				st.Language = params.Language
			}
			writeJSON(w, http.StatusOK, m.entity(r, st, true))
		case http.MethodDelete:
			st.Deleted = true
			e := m.entity(r, st, false)
			e["text"] = st.Text // DELETE returns the source text for redrafting
			writeJSON(w, http.StatusOK, e)
		default:
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		}
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
	}
}

type mastodonStatusParams struct {
	Status      string `json:"status"`
	Visibility  string `json:"visibility"`
	InReplyToID string `json:"in_reply_to_id"`
	Language    string `json:"language"`
}

// mastodonParams reads parameters as Mastodon does: a JSON body or a form.
func mastodonParams(r *http.Request) (mastodonStatusParams, error) {
	var p mastodonStatusParams
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&p)
		return p, err
	}
	if err := r.ParseForm(); err != nil {
		return p, err
	}
	p.Status, p.Visibility = r.PostForm.Get("status"), r.PostForm.Get("visibility")
	p.InReplyToID, p.Language = r.PostForm.Get("in_reply_to_id"), r.PostForm.Get("language")
	return p, nil
}

func mastodonValidate(text string) string {
	if strings.TrimSpace(text) == "" {
		return "Validation failed: Text can't be blank"
	}
	if render.Length(text, render.Limit{Max: 500, URLLength: 23, Counting: render.Graphemes}) > 500 {
		return "Validation failed: Text character limit of 500 exceeded"
	}
	return ""
}

func (m *Mastodon) create(w http.ResponseWriter, r *http.Request) {
	params, err := mastodonParams(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if st := m.byKey[key]; key != "" && st != nil {
		// Mastodon returns the status created by the first request.
		writeJSON(w, http.StatusOK, m.entity(r, st, false))
		return
	}
	if msg := mastodonValidate(params.Status); msg != "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": msg})
		return
	}
	switch params.Visibility {
	case "", "public", "unlisted", "private", "direct":
	default:
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "Validation failed: Visibility is not included in the list"})
		return
	}
	if params.Language != "" && len(params.Language) != 2 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "Validation failed: Language is not a valid ISO 639 code"})
		return
	}
	if params.InReplyToID != "" && m.find(params.InReplyToID) == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Record not found"})
		return
	}
	if params.Visibility == "" {
		params.Visibility = "public"
	}
	st := &MastodonStatus{ID: m.nextStatusID(), Text: params.Status,
		Visibility: params.Visibility, InReplyToID: params.InReplyToID, Language: params.Language}
	m.statuses = append(m.statuses, st)
	if key != "" {
		m.byKey[key] = st
	}
	writeJSON(w, http.StatusOK, m.entity(r, st, false))
}

func (m *Mastodon) find(id string) *MastodonStatus {
	for _, s := range m.statuses {
		if s.ID == id && !s.Deleted {
			return s
		}
	}
	return nil
}

func (m *Mastodon) entity(r *http.Request, st *MastodonStatus, edited bool) map[string]any {
	base := "http://" + r.Host
	acct := m.account(st.Acct)
	e := map[string]any{
		"id": st.ID, "created_at": time.Now().UTC().Format(time.RFC3339Nano),
		"in_reply_to_id": nil, "in_reply_to_account_id": nil, "visibility": st.Visibility, "language": st.Language,
		"uri":     base + "/users/" + acct["username"] + "/statuses/" + st.ID,
		"url":     base + "/@" + acct["acct"] + "/" + st.ID,
		"content": mastodonContent(st.Text),
		"account": acct,
	}
	if st.InReplyToID != "" {
		e["in_reply_to_id"] = st.InReplyToID
		if parent := m.find(st.InReplyToID); parent != nil {
			e["in_reply_to_account_id"] = m.account(parent.Acct)["id"]
		}
	}
	if edited {
		e["edited_at"] = time.Now().UTC().Format(time.RFC3339Nano)
	}
	return e
}
