// Package mastodon publishes notices to a Mastodon account through the
// statuses API: POST /api/v1/statuses (threads by in_reply_to_id), PUT
// /api/v1/statuses/:id to edit, DELETE to retract, and
// GET /api/v1/accounts/verify_credentials as the health check, all with
// the account's access token as a Bearer token.
//
// Delivery guarantee: each post carries an Idempotency-Key derived from
// the delivery key and the part number, and Mastodon returns the status
// created by an earlier request with the same key (kept for an hour), so a
// retry after a lost answer does not post twice.
package mastodon

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

// Config is what a Mastodon channel needs.
type Config struct {
	// Server is the instance's base URL, e.g. https://mastodon.social.
	Server string
	// Token is the access token of an application with write:statuses
	// and read:accounts scopes.
	Token string
	// Visibility is public (default), unlisted, private or direct.
	Visibility string
	// Client sends the requests; production passes netsafe's client.
	Client channel.Doer
	// Now is the clock used for rate-limit resets; default time.Now.
	Now func() time.Time
}

// Connector posts to one Mastodon account.
type Connector struct {
	cfg  Config
	base *url.URL
	selfCache
}

// New checks the configuration and returns a connector.
func New(cfg Config) (*Connector, error) {
	u, err := url.Parse(strings.TrimRight(cfg.Server, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("mastodon: server %q is not an http(s) URL", cfg.Server)
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("mastodon: no access token")
	}
	if cfg.Visibility == "" {
		cfg.Visibility = "public"
	}
	if cfg.Client == nil {
		return nil, fmt.Errorf("mastodon: no HTTP client")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Connector{cfg: cfg, base: u}, nil
}

// status is the part of Mastodon's Status entity Signpost reads.
type status struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

type statusParams struct {
	Status      string `json:"status"`
	Visibility  string `json:"visibility,omitempty"`
	InReplyToID string `json:"in_reply_to_id,omitempty"`
	Language    string `json:"language,omitempty"`
}

// Publish posts each part, each replying to the one before, and the
// first replying to p.ReplyTo's last part when it is set.
func (c *Connector) Publish(ctx context.Context, p channel.Post) (channel.Receipt, error) {
	var r channel.Receipt
	for i, text := range p.Parts {
		params := statusParams{Status: text, Visibility: c.cfg.Visibility, Language: p.Language()}
		if i > 0 {
			params.InReplyToID = r.IDs[i-1]
		} else if p.ReplyTo != nil && len(p.ReplyTo.IDs) > 0 {
			params.InReplyToID = p.ReplyTo.IDs[len(p.ReplyTo.IDs)-1]
		}
		key := ""
		if p.IdempotencyKey != "" {
			key = p.IdempotencyKey + "/" + strconv.Itoa(i+1)
		}
		var st status
		if err := c.call(ctx, http.MethodPost, "/api/v1/statuses", params, key, &st); err != nil {
			return r, fmt.Errorf("mastodon: post part %d of %d: %w", i+1, len(p.Parts), err)
		}
		r.IDs = append(r.IDs, st.ID)
		r.URLs = append(r.URLs, st.URL)
	}
	return r, nil
}

// Update edits the posted parts in place. When the thread's length
// changed, extra old parts are deleted and new ones reply to the last.
func (c *Connector) Update(ctx context.Context, r channel.Receipt, p channel.Post) (channel.Receipt, error) {
	out := channel.Receipt{}
	for i, text := range p.Parts {
		if i < len(r.IDs) {
			var st status
			params := statusParams{Status: text, Language: p.Language()}
			if err := c.call(ctx, http.MethodPut, "/api/v1/statuses/"+url.PathEscape(r.IDs[i]), params, "", &st); err != nil {
				return out, fmt.Errorf("mastodon: edit part %d: %w", i+1, err)
			}
			out.IDs = append(out.IDs, st.ID)
			out.URLs = append(out.URLs, st.URL)
			continue
		}
		params := statusParams{Status: text, Visibility: c.cfg.Visibility, Language: p.Language()}
		if i > 0 {
			params.InReplyToID = out.IDs[i-1]
		}
		key := ""
		if p.IdempotencyKey != "" {
			key = p.IdempotencyKey + "/" + strconv.Itoa(i+1)
		}
		var st status
		if err := c.call(ctx, http.MethodPost, "/api/v1/statuses", params, key, &st); err != nil {
			return out, fmt.Errorf("mastodon: post part %d: %w", i+1, err)
		}
		out.IDs = append(out.IDs, st.ID)
		out.URLs = append(out.URLs, st.URL)
	}
	if len(r.IDs) > len(p.Parts) {
		if err := c.Delete(ctx, channel.Receipt{IDs: r.IDs[len(p.Parts):]}); err != nil {
			return out, err
		}
	}
	return out, nil
}

// Delete removes every part, last first so no reply is left orphaned
// mid-way; parts already gone are skipped.
func (c *Connector) Delete(ctx context.Context, r channel.Receipt) error {
	for i := len(r.IDs) - 1; i >= 0; i-- {
		err := c.call(ctx, http.MethodDelete, "/api/v1/statuses/"+url.PathEscape(r.IDs[i]), nil, "", nil)
		if err != nil && channel.Status(err) != http.StatusNotFound {
			return fmt.Errorf("mastodon: delete %s: %w", r.IDs[i], err)
		}
	}
	return nil
}

// Health checks the token by reading the account it belongs to.
func (c *Connector) Health(ctx context.Context) error {
	var acct struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/accounts/verify_credentials", nil, "", &acct); err != nil {
		return fmt.Errorf("mastodon: verify credentials: %w", err)
	}
	if acct.ID == "" {
		return channel.Permanent("mastodon: verify_credentials returned no account")
	}
	return nil
}

func (c *Connector) call(ctx context.Context, method, path string, body any, idemKey string, out any) error {
	u := c.base.JoinPath(path)
	var req *http.Request
	var err error
	if body != nil {
		rd, err := channel.JSONBody(body)
		if err != nil {
			return err
		}
		req, err = http.NewRequestWithContext(ctx, method, u.String(), rd)
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
	} else if req, err = http.NewRequestWithContext(ctx, method, u.String(), nil); err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("Accept", "application/json")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	return channel.Call(c.cfg.Client, req, method+" "+path, out, c.classify)
}

// classify reads Mastodon's {"error": "..."} body. 401 is a revoked or
// invalid token, 403 a suspended account or missing scope, 422 a
// validation failure: none improve with retrying.
func (c *Connector) classify(resp *http.Response, body []byte) *channel.Error {
	var e struct {
		Error string `json:"error"`
	}
	json.Unmarshal(body, &e)
	msg := e.Error
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return channel.HTTPError(resp, c.cfg.Now(), msg, "")
}
