package fake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FacebookComment is a comment on a Page post.
type FacebookComment struct {
	ID, PostID, ParentID string
	From, FromName       string
	Message              string
}

// FacebookMessage is a Messenger message between a person and the Page.
type FacebookMessage struct {
	MID  string
	PSID string // the person, page-scoped
	// FromPage says the Page sent it (a reply), else the person did.
	FromPage bool
	Text     string
}

// FacebookSignature is the X-Hub-Signature-256 Facebook sends with a
// webhook delivery: the hex HMAC-SHA256 of the body keyed with the app
// secret.
func FacebookSignature(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Comment records a resident's comment on a Page post (or, with parentID,
// a reply to another comment) and returns its id and the webhook body
// Facebook delivers for it (the feed field, item comment, verb add).
func (f *Facebook) Comment(postID, fromID, fromName, message, parentID string) (string, []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, postNum, _ := strings.Cut(postID, "_")
	c := &FacebookComment{ID: fmt.Sprintf("%s_%d", postNum, 2000000+len(f.comments)), PostID: postID, ParentID: parentID,
		From: fromID, FromName: fromName, Message: message}
	if parentID == "" {
		c.ParentID = postID
	}
	f.comments = append(f.comments, c)
	now := f.faults.now()
	body, _ := json.Marshal(map[string]any{"object": "page", "entry": []any{map[string]any{
		"id": f.PageID, "time": now.Unix(), "changes": []any{map[string]any{"field": "feed", "value": map[string]any{
			"from": map[string]string{"id": fromID, "name": fromName}, "message": message, "post_id": postID,
			"comment_id": c.ID, "created_time": now.Unix(), "item": "comment", "parent_id": c.ParentID, "verb": "add",
			"post": map[string]any{"id": postID, "status_type": "mobile_status_update", "is_published": true},
		}}},
	}}})
	return c.ID, body
}

// Message records a Messenger message from a person to the Page and
// returns its mid and the webhook body Facebook delivers for it.
func (f *Facebook) Message(psid, text string) (string, []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := &FacebookMessage{MID: fmt.Sprintf("m_%022d", len(f.messages)+1), PSID: psid, Text: text}
	f.messages = append(f.messages, m)
	ms := f.faults.now().UnixMilli()
	body, _ := json.Marshal(map[string]any{"object": "page", "entry": []any{map[string]any{
		"id": f.PageID, "time": ms, "messaging": []any{map[string]any{
			"sender": map[string]string{"id": psid}, "recipient": map[string]string{"id": f.PageID}, "timestamp": ms,
			"message": map[string]string{"mid": m.MID, "text": text},
		}},
	}}})
	return m.MID, body
}

// Comments returns a copy of every comment, the Page's replies included.
func (f *Facebook) Comments() []FacebookComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FacebookComment, len(f.comments))
	for i, c := range f.comments {
		out[i] = *c
	}
	return out
}

// Messages returns a copy of every Messenger message, both ways.
func (f *Facebook) Messages() []FacebookMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FacebookMessage, len(f.messages))
	for i, m := range f.messages {
		out[i] = *m
	}
	return out
}

// serveInbound answers the comment and Messenger calls; it reports
// whether the path was one of them. f.mu is held.
func (f *Facebook) serveInbound(w http.ResponseWriter, r *http.Request, path string) bool {
	switch {
	case path == f.PageID+"/messages" && r.Method == http.MethodPost:
		f.send(w, r)
	case path == f.PageID+"/conversations" && r.Method == http.MethodGet:
		f.conversations(w, r)
	case strings.HasSuffix(path, "/comments"):
		parent := f.comment(strings.TrimSuffix(path, "/comments"))
		if parent == nil {
			graphError(w, http.StatusBadRequest, "GraphMethodException", 100, 33, fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", r.Method, strings.TrimSuffix(path, "/comments")))
			return true
		}
		if r.Method == http.MethodGet {
			data := []map[string]any{}
			for _, c := range f.comments {
				if c.ParentID == parent.ID {
					data = append(data, map[string]any{"id": c.ID, "message": c.Message, "from": map[string]string{"id": c.From, "name": c.FromName}})
				}
			}
			writeJSON(w, http.StatusOK, map[string]any{"data": data})
			return true
		}
		msg := r.PostForm.Get("message")
		if msg == "" || utf8.RuneCountInString(msg) > 8000 {
			graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Invalid parameter: message")
			return true
		}
		_, postNum, _ := strings.Cut(parent.PostID, "_")
		c := &FacebookComment{ID: fmt.Sprintf("%s_%d", postNum, 2000000+len(f.comments)), PostID: parent.PostID, ParentID: parent.ID,
			From: f.PageID, FromName: "Northdale Council", Message: msg}
		f.comments = append(f.comments, c)
		writeJSON(w, http.StatusOK, map[string]string{"id": c.ID})
	default:
		return false
	}
	return true
}

func (f *Facebook) comment(id string) *FacebookComment {
	for _, c := range f.comments {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// send serves the Send API: recipient and message as JSON values,
// messaging_type RESPONSE; only people who have written to the Page can
// be answered, as Messenger's policy requires.
func (f *Facebook) send(w http.ResponseWriter, r *http.Request) {
	var to struct {
		ID string `json:"id"`
	}
	var msg struct {
		Text string `json:"text"`
	}
	if json.Unmarshal([]byte(r.PostForm.Get("recipient")), &to) != nil || to.ID == "" ||
		json.Unmarshal([]byte(r.PostForm.Get("message")), &msg) != nil || msg.Text == "" {
		graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) param recipient and message must be non-empty")
		return
	}
	if r.PostForm.Get("messaging_type") != "RESPONSE" {
		graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Invalid messaging_type")
		return
	}
	if utf8.RuneCountInString(msg.Text) > 2000 {
		graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Length of param message[text] must be less than or equal to 2000")
		return
	}
	known := false
	for _, m := range f.messages {
		known = known || (m.PSID == to.ID && !m.FromPage)
	}
	if !known {
		graphError(w, http.StatusBadRequest, "OAuthException", 100, 2018001, "(#100) No matching user found")
		return
	}
	m := &FacebookMessage{MID: fmt.Sprintf("m_%022d", len(f.messages)+1), PSID: to.ID, FromPage: true, Text: msg.Text}
	f.messages = append(f.messages, m)
	writeJSON(w, http.StatusOK, map[string]string{"recipient_id": to.ID, "message_id": m.MID})
}

// conversations serves GET /{page-id}/conversations?platform=messenger
// &user_id=PSID with fields=messages{…}: the one conversation with that
// person, newest message first.
func (f *Facebook) conversations(w http.ResponseWriter, r *http.Request) {
	psid := r.Form.Get("user_id")
	if r.Form.Get("platform") != "messenger" || psid == "" {
		graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) platform and user_id are required")
		return
	}
	var msgs []map[string]any
	for i := len(f.messages) - 1; i >= 0; i-- {
		m := f.messages[i]
		if m.PSID != psid {
			continue
		}
		from := psid
		if m.FromPage {
			from = f.PageID
		}
		msgs = append(msgs, map[string]any{"id": m.MID, "message": m.Text, "from": map[string]string{"id": from}})
	}
	data := []map[string]any{}
	if len(msgs) > 0 {
		data = append(data, map[string]any{"id": "t_" + strconv.Itoa(len(psid)) + psid, "messages": map[string]any{"data": msgs}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}
