package facebook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrSignature is returned for a webhook delivery whose
// X-Hub-Signature-256 is missing or does not match its body.
var ErrSignature = errors.New("facebook webhook: signature missing or wrong")

// VerifySignature checks a webhook delivery's X-Hub-Signature-256 header,
// "sha256=" and the hex HMAC-SHA256 of the raw body keyed with the app
// secret, in constant time.
func VerifySignature(appSecret, body []byte, header string) error {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(appSecret) == 0 {
		return ErrSignature
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return ErrSignature
	}
	mac := hmac.New(sha256.New, appSecret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrSignature
	}
	return nil
}

// Event is one thing a resident did that a Page's webhook reports: a
// comment on one of the Page's posts, or a Messenger message to it.
type Event struct {
	PageID string
	// Kind is "comment" or "message".
	Kind string
	// ID is the comment's id, or the message's mid (m_…).
	ID string
	// PostID is the Page post a comment is on; ParentID is the comment
	// it answers, or the post for a top-level comment.
	PostID, ParentID string
	// From is the page-scoped id of the person; FromName is their name
	// where Facebook gives it (comments only).
	From, FromName string
	Text           string
	At             time.Time
}

type webhookBody struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Time    int64  `json:"time"`
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Item      string `json:"item"`
				Verb      string `json:"verb"`
				CommentID string `json:"comment_id"`
				PostID    string `json:"post_id"`
				ParentID  string `json:"parent_id"`
				Message   string `json:"message"`
				From      struct {
					ID   string `json:"id"`
					Name string `json:"name"`
				} `json:"from"`
				CreatedTime json.Number `json:"created_time"`
			} `json:"value"`
		} `json:"changes"`
		Messaging []struct {
			Sender    struct{ ID string } `json:"sender"`
			Recipient struct{ ID string } `json:"recipient"`
			Timestamp int64               `json:"timestamp"`
			Message   *struct {
				MID         string `json:"mid"`
				Text        string `json:"text"`
				IsEcho      bool   `json:"is_echo"`
				Attachments []struct {
					Type string `json:"type"`
				} `json:"attachments"`
			} `json:"message"`
		} `json:"messaging"`
	} `json:"entry"`
}

// ParseWebhook reads a Page webhook delivery: new comments from the feed
// field's changes (item "comment", verb "add") and Messenger messages
// from messaging. Everything else (likes, edits, deletions, delivery and
// read receipts, the Page's own comments and the echoes of its own
// messages) is left out. A body that is not a page delivery is an error.
func ParseWebhook(body []byte) ([]Event, error) {
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("facebook webhook: body is not JSON: %w", err)
	}
	if b.Object != "page" {
		return nil, fmt.Errorf("facebook webhook: object %q is not page", b.Object)
	}
	var out []Event
	for _, e := range b.Entry {
		if e.ID == "" {
			return nil, fmt.Errorf("facebook webhook: an entry has no page id")
		}
		for _, c := range e.Changes {
			v := c.Value
			if c.Field != "feed" || v.Item != "comment" || v.Verb != "add" || v.CommentID == "" || v.From.ID == e.ID {
				continue
			}
			at := time.Unix(e.Time, 0)
			if sec, err := v.CreatedTime.Int64(); err == nil && sec > 0 {
				at = time.Unix(sec, 0)
			}
			out = append(out, Event{PageID: e.ID, Kind: "comment", ID: v.CommentID, PostID: v.PostID, ParentID: v.ParentID,
				From: v.From.ID, FromName: v.From.Name, Text: v.Message, At: at.UTC()})
		}
		for _, m := range e.Messaging {
			if m.Message == nil || m.Message.IsEcho || m.Message.MID == "" || m.Sender.ID == "" || m.Sender.ID == e.ID {
				continue
			}
			text := m.Message.Text
			if text == "" && len(m.Message.Attachments) > 0 {
				// Staff see that something was sent; Signpost does not
				// fetch or keep attachments.
				kinds := make([]string, len(m.Message.Attachments))
				for i, a := range m.Message.Attachments {
					kinds[i] = a.Type
				}
				text = "[attachment: " + strings.Join(kinds, ", ") + "]"
			}
			out = append(out, Event{PageID: e.ID, Kind: "message", ID: m.Message.MID, From: m.Sender.ID, Text: text,
				At: time.UnixMilli(m.Timestamp).UTC()})
		}
	}
	return out, nil
}
