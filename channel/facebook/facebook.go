// Package facebook publishes notices to a council's Facebook Page through
// the Graph API with a Page access token: POST /{page-id}/feed with
// message and link, POST /{post-id} with a new message to edit, DELETE
// /{post-id} to retract, and GET /{page-id} as the health check.
//
// Graph reports failures in the body, often with HTTP 400 whatever the
// cause: {"error": {"message", "type", "code", "error_subcode"}}. Code 190
// is an invalid or expired token (permanent: someone must issue a new Page
// token); codes 4, 17, 32, 613 and 80001 are rate limits (retryable, after
// the estimated_time_to_regain_access of X-Business-Use-Case-Usage when
// given); codes 1 and 2 and is_transient errors are temporary.
//
// Facebook has no threads: the parts are joined into one message.
// Delivery guarantee: the feed endpoint has no idempotency key, so when a
// post is a retry the connector first reads the Page's recent posts
// (GET /{page-id}/posts) and, if one has exactly this message, returns it
// instead of posting again.
package facebook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost/channel"
)

// Config is what a Facebook Page channel needs.
type Config struct {
	PageID string
	// Token is a Page access token with pages_manage_posts.
	Token string
	// Graph is the API's base URL; default https://graph.facebook.com.
	Graph string
	// Version is the Graph API version; default v21.0.
	Version string
	Client  channel.Doer
	Now     func() time.Time
}

// Connector posts to one Page.
type Connector struct {
	cfg  Config
	base *url.URL
}

// New checks the configuration and returns a connector.
func New(cfg Config) (*Connector, error) {
	if cfg.Graph == "" {
		cfg.Graph = "https://graph.facebook.com"
	}
	if cfg.Version == "" {
		cfg.Version = "v21.0"
	}
	u, err := url.Parse(strings.TrimRight(cfg.Graph, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("facebook: graph URL %q is not an http(s) URL", cfg.Graph)
	}
	if cfg.PageID == "" || strings.ContainsAny(cfg.PageID, "/?#") {
		return nil, fmt.Errorf("facebook: page id %q is not valid", cfg.PageID)
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("facebook: no Page access token")
	}
	if cfg.Client == nil {
		return nil, fmt.Errorf("facebook: no HTTP client")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Connector{cfg: cfg, base: u.JoinPath(cfg.Version)}, nil
}

// Publish posts the parts as one message with the notice's link.
func (c *Connector) Publish(ctx context.Context, p channel.Post) (channel.Receipt, error) {
	if p.Retry {
		id, err := c.find(ctx, p.Text(), p.CreatedAt)
		if err != nil {
			return channel.Receipt{}, fmt.Errorf("facebook: look for an earlier attempt: %w", err)
		}
		if id != "" {
			return channel.Receipt{IDs: []string{id}, URLs: []string{permalink(id)}}, nil
		}
	}
	form := url.Values{"message": {p.Text()}}
	if p.Link != "" {
		form.Set("link", p.Link)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, http.MethodPost, c.cfg.PageID+"/feed", form, &out); err != nil {
		return channel.Receipt{}, fmt.Errorf("facebook: post: %w", err)
	}
	if out.ID == "" {
		return channel.Receipt{}, channel.Retryable(0, "facebook: post answered without an id")
	}
	return channel.Receipt{IDs: []string{out.ID}, URLs: []string{permalink(out.ID)}}, nil
}

// find returns the id of a Page post with exactly this message, made
// since the revision was (when the post says when), reading at most five
// pages of 100 posts, newest first.
func (c *Connector) find(ctx context.Context, message string, since time.Time) (string, error) {
	params := url.Values{"fields": {"id,message,created_time"}, "limit": {"100"}}
	if !since.IsZero() {
		// A minute's slack for clocks that disagree.
		params.Set("since", strconv.FormatInt(since.Add(-time.Minute).Unix(), 10))
	}
	for range 5 {
		var out struct {
			Data []struct {
				ID      string `json:"id"`
				Message string `json:"message"`
			} `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := c.call(ctx, http.MethodGet, c.cfg.PageID+"/posts", params, &out); err != nil {
			return "", err
		}
		for _, p := range out.Data {
			if p.Message == message {
				return p.ID, nil
			}
		}
		if out.Paging.Next == "" || out.Paging.Cursors.After == "" {
			return "", nil
		}
		// Follow the cursor rather than the next URL, so the request
		// keeps going to the configured Graph host.
		params.Set("after", out.Paging.Cursors.After)
	}
	return "", nil
}

// permalink turns {page-id}_{post-id} into the post's address.
func permalink(id string) string {
	page, post, ok := strings.Cut(id, "_")
	if !ok {
		return "https://www.facebook.com/" + id
	}
	return "https://www.facebook.com/" + page + "/posts/" + post
}

// Update edits the post's message in place; the link preview stays.
func (c *Connector) Update(ctx context.Context, r channel.Receipt, p channel.Post) (channel.Receipt, error) {
	if len(r.IDs) == 0 {
		return c.Publish(ctx, p)
	}
	var out struct {
		Success bool `json:"success"`
	}
	if err := c.call(ctx, http.MethodPost, r.IDs[0], url.Values{"message": {p.Text()}}, &out); err != nil {
		return r, fmt.Errorf("facebook: edit %s: %w", r.IDs[0], err)
	}
	if !out.Success {
		return r, channel.Retryable(0, "facebook: edit %s was not confirmed", r.IDs[0])
	}
	return r, nil
}

// Delete removes the post; a post already gone counts as deleted.
func (c *Connector) Delete(ctx context.Context, r channel.Receipt) error {
	for _, id := range r.IDs {
		err := c.call(ctx, http.MethodDelete, id, nil, nil)
		if err != nil && channel.Code(err) != "100/33" {
			return fmt.Errorf("facebook: delete %s: %w", id, err)
		}
	}
	return nil
}

// Health reads the Page with the token.
func (c *Connector) Health(ctx context.Context) error {
	var out struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, http.MethodGet, c.cfg.PageID, url.Values{"fields": {"id,name"}}, &out); err != nil {
		return fmt.Errorf("facebook: read page: %w", err)
	}
	if out.ID != c.cfg.PageID {
		return channel.Permanent("facebook: token reads page %q, not %q", out.ID, c.cfg.PageID)
	}
	return nil
}

func (c *Connector) call(ctx context.Context, method, path string, params url.Values, out any) error {
	u := c.base.JoinPath(path)
	var req *http.Request
	var err error
	if method == http.MethodPost {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), strings.NewReader(params.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		u.RawQuery = params.Encode()
		if req, err = http.NewRequestWithContext(ctx, method, u.String(), nil); err != nil {
			return err
		}
	}
	// The token goes in a header, not the URL, so it stays out of logs.
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	return channel.Call(c.cfg.Client, req, method+" /"+path, out, c.classify)
}

type graphError struct {
	Error struct {
		Message     string `json:"message"`
		Type        string `json:"type"`
		Code        int    `json:"code"`
		Subcode     int    `json:"error_subcode"`
		IsTransient bool   `json:"is_transient"`
	} `json:"error"`
}

func (c *Connector) classify(resp *http.Response, body []byte) *channel.Error {
	var g graphError
	json.Unmarshal(body, &g)
	e := channel.HTTPError(resp, c.cfg.Now(), g.Error.Message, fmt.Sprintf("%d/%d", g.Error.Code, g.Error.Subcode))
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	switch g.Error.Code {
	case 190, 102, 10, 200:
		// Invalid or expired token, or a missing permission.
		e.Class = channel.ErrPermanent
	case 4, 17, 32, 613, 80001:
		e.Class = channel.ErrRetryable
		if e.RetryAfter == 0 {
			e.RetryAfter = usageDelay(resp.Header.Get("X-Business-Use-Case-Usage"))
		}
	case 1, 2:
		e.Class = channel.ErrRetryable
	}
	if g.Error.IsTransient {
		e.Class = channel.ErrRetryable
	}
	return e
}

// usageDelay reads the longest estimated_time_to_regain_access (minutes)
// from X-Business-Use-Case-Usage.
func usageDelay(h string) time.Duration {
	if h == "" {
		return 0
	}
	var usage map[string][]struct {
		Minutes int `json:"estimated_time_to_regain_access"`
	}
	if json.Unmarshal([]byte(h), &usage) != nil {
		return 0
	}
	longest := 0
	for _, entries := range usage {
		for _, u := range entries {
			longest = max(longest, u.Minutes)
		}
	}
	return time.Duration(min(longest, 24*60)) * time.Minute
}
