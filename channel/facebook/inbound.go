package facebook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/signpost-uk/signpost/channel"
)

// ReplyToComment answers a comment in its thread (POST
// /{comment-id}/comments) and returns the reply's id. Graph has no
// idempotency key, so when retry says an earlier attempt may have
// reached Facebook, the thread is read first and a reply from the Page
// with exactly this text is returned instead of posting again.
func (c *Connector) ReplyToComment(ctx context.Context, commentID, text string, retry bool) (string, error) {
	if retry {
		var out struct {
			Data []struct {
				ID      string `json:"id"`
				Message string `json:"message"`
				From    struct {
					ID string `json:"id"`
				} `json:"from"`
			} `json:"data"`
		}
		err := c.call(ctx, http.MethodGet, commentID+"/comments", url.Values{"fields": {"id,message,from"}, "limit": {"100"}}, &out)
		if err != nil {
			return "", fmt.Errorf("facebook: look for an earlier reply: %w", err)
		}
		for _, r := range out.Data {
			if r.From.ID == c.cfg.PageID && r.Message == text {
				return r.ID, nil
			}
		}
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, http.MethodPost, commentID+"/comments", url.Values{"message": {text}}, &out); err != nil {
		if channel.Code(err) == "100/33" {
			return "", channel.Permanent("facebook: the comment being answered was deleted")
		}
		return "", fmt.Errorf("facebook: reply to comment: %w", err)
	}
	if out.ID == "" {
		return "", channel.Retryable(0, "facebook: reply answered without an id")
	}
	return out.ID, nil
}

// SendMessage answers a person who wrote to the Page on Messenger
// (POST /{page-id}/messages, messaging_type RESPONSE, allowed within
// Messenger's 24-hour window) and returns the message's mid. On a retry
// the conversation is read first, as for comments.
func (c *Connector) SendMessage(ctx context.Context, psid, text string, retry bool) (string, error) {
	if retry {
		var out struct {
			Data []struct {
				Messages struct {
					Data []struct {
						ID      string `json:"id"`
						Message string `json:"message"`
						From    struct {
							ID string `json:"id"`
						} `json:"from"`
					} `json:"data"`
				} `json:"messages"`
			} `json:"data"`
		}
		q := url.Values{"platform": {"messenger"}, "user_id": {psid}, "fields": {"messages.limit(25){id,message,from}"}}
		if err := c.call(ctx, http.MethodGet, c.cfg.PageID+"/conversations", q, &out); err != nil {
			return "", fmt.Errorf("facebook: look for an earlier message: %w", err)
		}
		for _, conv := range out.Data {
			for _, m := range conv.Messages.Data {
				if m.From.ID == c.cfg.PageID && m.Message == text {
					return m.ID, nil
				}
			}
		}
	}
	to, _ := json.Marshal(map[string]string{"id": psid})
	msg, _ := json.Marshal(map[string]string{"text": text})
	var out struct {
		MessageID string `json:"message_id"`
	}
	form := url.Values{"recipient": {string(to)}, "message": {string(msg)}, "messaging_type": {"RESPONSE"}}
	if err := c.call(ctx, http.MethodPost, c.cfg.PageID+"/messages", form, &out); err != nil {
		return "", fmt.Errorf("facebook: send message: %w", err)
	}
	if out.MessageID == "" {
		return "", channel.Retryable(0, "facebook: send answered without a message id")
	}
	return out.MessageID, nil
}
