package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signpost-uk/signpost/channel/render"
)

// Tweet is a post as the X fake stores it.
type Tweet struct {
	ID, Text, InReplyTo string
	Deleted             bool
}

// X fakes the X API v2 endpoints Signpost uses: POST /2/tweets with
// {"text", "reply": {"in_reply_to_tweet_id"}}, DELETE /2/tweets/:id and
// GET /2/users/me, with an OAuth 2.0 user-context Bearer token. Text is
// limited to 280 as X weighs it (URLs 23); unknown body fields are
// rejected; repeating the text of a live post is refused with 403
// "duplicate content" as X does; 429s carry x-rate-limit-reset (epoch
// seconds) and no Retry-After.
type X struct {
	*httptest.Server
	faults
	Token string

	mu     sync.Mutex
	tweets []*Tweet
}

// NewX starts a fake X API accepting token.
func NewX(token string) *X {
	x := &X{Token: token}
	x.faults.now = time.Now
	x.Server = newServer(http.HandlerFunc(x.serve))
	return x
}

// Tweets returns a copy of every post created, deleted ones included.
func (x *X) Tweets() []Tweet {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]Tweet, len(x.tweets))
	for i, t := range x.tweets {
		out[i] = *t
	}
	return out
}

func problem(w http.ResponseWriter, status int, title, detail string) {
	writeJSON(w, status, map[string]any{"title": title, "detail": detail, "type": "about:blank", "status": status})
}

func (x *X) rateHeaders(h http.Header, reset time.Time) {
	h.Del("Retry-After")
	h.Set("x-rate-limit-limit", "100")
	h.Set("x-rate-limit-remaining", "0")
	h.Set("x-rate-limit-reset", strconv.FormatInt(reset.Unix(), 10))
}

func (x *X) authFail(w http.ResponseWriter, _ Fault) {
	problem(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
}

func (x *X) serve(w http.ResponseWriter, r *http.Request) {
	if x.inject(w, r, x.rateHeaders, x.authFail) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+x.Token {
		x.authFail(w, Unauthorized)
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/2/users/me":
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"id": "2244994945", "name": "Northdale Council", "username": "NorthdaleCC"}})
	case r.Method == http.MethodGet && r.URL.Path == "/2/users/2244994945/tweets":
		// The user's timeline, newest first; max_results 5–100, default 10.
		n, err := strconv.Atoi(r.URL.Query().Get("max_results"))
		if r.URL.Query().Has("max_results") && (err != nil || n < 5 || n > 100) {
			problem(w, http.StatusBadRequest, "Invalid Request", "The `max_results` query parameter value is not between 5 and 100")
			return
		}
		if n == 0 {
			n = 10
		}
		data := []map[string]string{}
		for i := len(x.tweets) - 1; i >= 0 && len(data) < n; i-- {
			if t := x.tweets[i]; !t.Deleted {
				data = append(data, map[string]string{"id": t.ID, "text": t.Text})
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": data, "meta": map[string]any{"result_count": len(data)}})
	case r.Method == http.MethodPost && r.URL.Path == "/2/tweets":
		x.create(w, r)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/2/tweets/"):
		id := strings.TrimPrefix(r.URL.Path, "/2/tweets/")
		t := x.find(id)
		if t != nil {
			t.Deleted = true
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]bool{"deleted": t != nil}})
	default:
		problem(w, http.StatusNotFound, "Not Found Error", "Sorry, that page does not exist.")
	}
}

func (x *X) create(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		problem(w, http.StatusBadRequest, "Invalid Request", "Content-Type must be application/json")
		return
	}
	var in struct {
		Text  *string `json:"text"`
		Reply *struct {
			InReplyToTweetID string `json:"in_reply_to_tweet_id"`
		} `json:"reply"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]string{{"message": err.Error()}},
			"title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"})
		return
	}
	if in.Text == nil || *in.Text == "" {
		problem(w, http.StatusBadRequest, "Invalid Request", "One or more parameters to your request was invalid.")
		return
	}
	if n := render.Length(*in.Text, render.LimitFor("x")); n > 280 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]string{{"message": fmt.Sprintf("Your Tweet text is too long (%d > 280).", n)}},
			"title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"})
		return
	}
	for _, t := range x.tweets {
		if t.Text == *in.Text && !t.Deleted {
			problem(w, http.StatusForbidden, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
			return
		}
	}
	t := &Tweet{ID: strconv.Itoa(1870000000000000000 + len(x.tweets) + 1), Text: *in.Text}
	if in.Reply != nil {
		if x.find(in.Reply.InReplyToTweetID) == nil {
			problem(w, http.StatusForbidden, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you.")
			return
		}
		t.InReplyTo = in.Reply.InReplyToTweetID
	}
	x.tweets = append(x.tweets, t)
	writeJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{"id": t.ID, "text": t.Text, "edit_history_tweet_ids": []string{t.ID}}})
}

func (x *X) find(id string) *Tweet {
	for _, t := range x.tweets {
		if t.ID == id && !t.Deleted {
			return t
		}
	}
	return nil
}
