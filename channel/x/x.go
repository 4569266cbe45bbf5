// Package x publishes notices to an X account through API v2: POST
// /2/tweets with {"text"} (threads reply with {"reply":
// {"in_reply_to_tweet_id"}}), DELETE /2/tweets/:id, and GET /2/users/me as
// the health check, with an OAuth 2.0 user-context access token (scopes
// tweet.read tweet.write users.read) as the Bearer token.
//
// Most accounts cannot edit posts through the API, so Update deletes the
// old thread and posts the new one. X sends no Retry-After on 429; the
// wait comes from x-rate-limit-reset (Unix seconds).
//
// Delivery guarantee: when a post is a retry, the connector first reads
// the account's recent posts (GET /2/users/:id/tweets) and reuses any part
// already posted with the same text, so a thread half-posted before a
// crash is completed rather than repeated. As a last line, X itself
// refuses a repeated text with 403 "duplicate content", reported as a
// permanent error with code "duplicate".
package x

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/signpost-uk/signpost/channel"
)

// CodeDuplicate marks X's refusal of repeated text.
const CodeDuplicate = "duplicate"

// Config is what an X channel needs.
type Config struct {
	// API is the base URL; default https://api.x.com.
	API string
	// Token is an OAuth 2.0 user-context access token.
	Token  string
	Client channel.Doer
	Now    func() time.Time
}

// Connector posts to one X account.
type Connector struct {
	cfg  Config
	base *url.URL
}

// New checks the configuration and returns a connector.
func New(cfg Config) (*Connector, error) {
	if cfg.API == "" {
		cfg.API = "https://api.x.com"
	}
	u, err := url.Parse(strings.TrimRight(cfg.API, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("x: API URL %q is not an http(s) URL", cfg.API)
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("x: no access token")
	}
	if cfg.Client == nil {
		return nil, fmt.Errorf("x: no HTTP client")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Connector{cfg: cfg, base: u}, nil
}

type tweetIn struct {
	Text  string `json:"text"`
	Reply *reply `json:"reply,omitempty"`
}

type reply struct {
	InReplyToTweetID string `json:"in_reply_to_tweet_id"`
}

// Publish posts each part, each replying to the one before.
func (c *Connector) Publish(ctx context.Context, p channel.Post) (channel.Receipt, error) {
	var r channel.Receipt
	var earlier map[string]string
	if p.Retry {
		var err error
		if earlier, err = c.recent(ctx); err != nil {
			return r, fmt.Errorf("x: look for an earlier attempt: %w", err)
		}
	}
	for i, text := range p.Parts {
		if id, ok := earlier[text]; ok {
			r.IDs = append(r.IDs, id)
			r.URLs = append(r.URLs, "https://x.com/i/web/status/"+id)
			continue
		}
		in := tweetIn{Text: text}
		if i > 0 {
			in.Reply = &reply{InReplyToTweetID: r.IDs[i-1]}
		} else if p.ReplyTo != nil && len(p.ReplyTo.IDs) > 0 {
			in.Reply = &reply{InReplyToTweetID: p.ReplyTo.IDs[len(p.ReplyTo.IDs)-1]}
		}
		var out struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := c.call(ctx, http.MethodPost, "/2/tweets", in, &out); err != nil {
			return r, fmt.Errorf("x: post part %d of %d: %w", i+1, len(p.Parts), err)
		}
		if out.Data.ID == "" {
			return r, channel.Retryable(0, "x: post answered without an id")
		}
		r.IDs = append(r.IDs, out.Data.ID)
		r.URLs = append(r.URLs, "https://x.com/i/web/status/"+out.Data.ID)
	}
	return r, nil
}

// recent maps the text of the account's last 100 posts to their ids.
func (c *Connector) recent(ctx context.Context) (map[string]string, error) {
	var me struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := c.call(ctx, http.MethodGet, "/2/users/me", nil, &me); err != nil {
		return nil, err
	}
	if me.Data.ID == "" {
		return nil, channel.Retryable(0, "x: users/me returned no user")
	}
	var tl struct {
		Data []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"data"`
	}
	if err := c.call(ctx, http.MethodGet, "/2/users/"+url.PathEscape(me.Data.ID)+"/tweets?max_results=100", nil, &tl); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(tl.Data))
	for _, t := range tl.Data {
		if _, seen := out[t.Text]; !seen {
			out[t.Text] = t.ID
		}
	}
	return out, nil
}

// Update posts p as a reply under the earlier thread: posts on X cannot
// be edited through the API. The receipt covers the whole thread, so a
// retraction deletes all of it.
func (c *Connector) Update(ctx context.Context, r channel.Receipt, p channel.Post) (channel.Receipt, error) {
	p.ReplyTo = &r
	more, err := c.Publish(ctx, p)
	if err != nil {
		return r, err
	}
	return channel.Receipt{IDs: append(slices.Clip(r.IDs), more.IDs...), URLs: append(slices.Clip(r.URLs), more.URLs...)}, nil
}

// Delete removes every part, last first; posts already gone count as
// deleted.
func (c *Connector) Delete(ctx context.Context, r channel.Receipt) error {
	for i := len(r.IDs) - 1; i >= 0; i-- {
		err := c.call(ctx, http.MethodDelete, "/2/tweets/"+url.PathEscape(r.IDs[i]), nil, nil)
		if err != nil && channel.Status(err) != http.StatusNotFound {
			return fmt.Errorf("x: delete %s: %w", r.IDs[i], err)
		}
	}
	return nil
}

// Health reads the account the token belongs to.
func (c *Connector) Health(ctx context.Context) error {
	var out struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := c.call(ctx, http.MethodGet, "/2/users/me", nil, &out); err != nil {
		return fmt.Errorf("x: users/me: %w", err)
	}
	if out.Data.ID == "" {
		return channel.Permanent("x: users/me returned no user")
	}
	return nil
}

func (c *Connector) call(ctx context.Context, method, path string, in, out any) error {
	p, query, _ := strings.Cut(path, "?")
	full := c.base.JoinPath(p)
	full.RawQuery = query
	u := full.String()
	var req *http.Request
	var err error
	if in != nil {
		body, err := channel.JSONBody(in)
		if err != nil {
			return err
		}
		if req, err = http.NewRequestWithContext(ctx, method, u, body); err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
	} else if req, err = http.NewRequestWithContext(ctx, method, u, nil); err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	return channel.Call(c.cfg.Client, req, method+" "+p, out, c.classify)
}

// classify reads X's problem bodies ({"title", "detail", "errors"}).
func (c *Connector) classify(resp *http.Response, body []byte) *channel.Error {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	json.Unmarshal(body, &p)
	msg := p.Detail
	if len(p.Errors) > 0 && p.Errors[0].Message != "" {
		msg = p.Errors[0].Message
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	code := ""
	if resp.StatusCode == http.StatusForbidden && strings.Contains(strings.ToLower(msg), "duplicate content") {
		code = CodeDuplicate
	}
	return channel.HTTPError(resp, c.cfg.Now(), msg, code)
}
