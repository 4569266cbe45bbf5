// Package notify sends residents' e-mail through GOV.UK Notify, the
// government's messaging service, as an alternative to an SMTP server:
// POST /v2/notifications/email with one template whose subject is
// ((subject)) and whose body is ((body)), filled in per message, and the
// subscriber's one-click unsubscribe link as one_click_unsubscribe_url
// (Notify puts it in the List-Unsubscribe headers).
//
// Requests carry a JWT (HS256 over iss = the service id and iat = now,
// signed with the API key's secret) as a Bearer token. Failures come as
// {"errors": [{"error", "message"}], "status_code"}: 400 BadRequestError
// and ValidationError and 403 AuthError are permanent (a 400 about
// email_address is that recipient's alone); 429 RateLimitError (per
// minute) and TooManyRequestsError (per day, until midnight UK time) and
// 500 Exception are retryable.
//
// Delivery guarantee: exactly once per subscriber. Every message carries
// a reference derived from the delivery key and the address; when a send
// is a retry (channel.Post.Retry), the sender first asks Notify for
// notifications with that reference (GET /v2/notifications?reference=)
// and skips the address when one is there.
package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/email"
)

// DefaultAPI is Notify's API.
const DefaultAPI = "https://api.notifications.service.gov.uk"

// Config is what sending through Notify needs.
type Config struct {
	// APIKey is a key from the service's API integration page.
	APIKey string
	// TemplateID is an e-mail template with the subject ((subject)) and
	// the body ((body)).
	TemplateID string
	// ReplyToID picks one of the service's reply-to addresses; "" uses
	// its default.
	ReplyToID string
	// API is the base URL; default DefaultAPI.
	API    string
	Client channel.Doer
	Now    func() time.Time
}

// Client talks to Notify's API. It is an email.Transport.
type Client struct {
	cfg    Config
	key    Key
	base   *url.URL
	london *time.Location
}

// New checks the configuration and returns a client.
func New(cfg Config) (*Client, error) {
	key, err := ParseKey(cfg.APIKey)
	if err != nil {
		return nil, err
	}
	if !isUUID(cfg.TemplateID) {
		return nil, fmt.Errorf("notify: template id %q is not a UUID (copy it from the template's page)", cfg.TemplateID)
	}
	if cfg.ReplyToID != "" && !isUUID(cfg.ReplyToID) {
		return nil, fmt.Errorf("notify: reply-to id %q is not a UUID", cfg.ReplyToID)
	}
	if cfg.API == "" {
		cfg.API = DefaultAPI
	}
	base, err := url.Parse(strings.TrimRight(cfg.API, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("notify: API URL %q is not an http(s) URL", cfg.API)
	}
	if cfg.Client == nil {
		return nil, fmt.Errorf("notify: no HTTP client")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Daily limits end at midnight UK time; without the zone database,
	// UTC is at most an hour out.
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		london = time.UTC
	}
	return &Client{cfg: cfg, key: key, base: base, london: london}, nil
}

// Email is one message.
type Email struct {
	To              string
	Personalisation map[string]string
	// Reference is Signpost's own id for the message, to find it again;
	// it must hold no personal data.
	Reference string
	// Unsubscribe is the recipient's one-click unsubscribe link (https).
	Unsubscribe string
}

// SendEmail asks Notify to send e and returns the notification's id.
func (c *Client) SendEmail(ctx context.Context, e Email) (string, error) {
	body := map[string]any{"email_address": e.To, "template_id": c.cfg.TemplateID,
		"personalisation": e.Personalisation, "reference": e.Reference}
	if c.cfg.ReplyToID != "" {
		body["email_reply_to_id"] = c.cfg.ReplyToID
	}
	if e.Unsubscribe != "" {
		body["one_click_unsubscribe_url"] = e.Unsubscribe
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, http.MethodPost, "/v2/notifications/email", nil, body, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", channel.Retryable(0, "notify: send answered without an id")
	}
	return out.ID, nil
}

// Notification is what Signpost reads of one of Notify's notifications.
type Notification struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Status    string `json:"status"`
}

// Sent returns the id of an e-mail with this reference that Notify took
// and did not fail on its own side (technical-failure means it never
// went, and Notify asks for a resend), or "" when there is none.
func (c *Client) Sent(ctx context.Context, reference string) (string, error) {
	var out struct {
		Notifications []Notification `json:"notifications"`
	}
	q := url.Values{"reference": {reference}, "template_type": {"email"}}
	if err := c.call(ctx, http.MethodGet, "/v2/notifications", q, nil, &out); err != nil {
		return "", err
	}
	for _, n := range out.Notifications {
		if n.Reference == reference && n.Status != "technical-failure" {
			return n.ID, nil
		}
	}
	return "", nil
}

// Health checks the key works and the template is an e-mail template with
// the ((subject)) and ((body)) placeholders, sending nothing.
func (c *Client) Health(ctx context.Context) error {
	var t struct {
		Type    string `json:"type"`
		Subject string `json:"subject"`
		Body    string `json:"body"`
	}
	if err := c.call(ctx, http.MethodGet, "/v2/template/"+c.cfg.TemplateID, nil, nil, &t); err != nil {
		return err
	}
	if t.Type != "email" || !strings.Contains(t.Subject, "((subject))") || !strings.Contains(t.Body, "((body))") {
		return channel.Permanent("notify: template %s must be an e-mail template with the subject ((subject)) and the body ((body))", c.cfg.TemplateID)
	}
	return nil
}

// Open returns a sender; Notify needs no session, so it is only the
// client under another name.
func (c *Client) Open(ctx context.Context) (email.Sender, error) {
	return sender{c}, ctx.Err()
}

type sender struct{ c *Client }

// Send sends p to one address through the template and returns the
// notification's id. On a retry it first looks for the message by its
// reference, so an e-mail Notify took before the answer was lost is not
// sent again.
func (s sender) Send(ctx context.Context, to string, p channel.Post, unsubscribe string) (string, error) {
	addr, err := email.ParseRecipient(to)
	if err != nil {
		return "", err
	}
	ref := reference(p.IdempotencyKey, addr)
	if p.Retry {
		id, err := s.c.Sent(ctx, ref)
		if err != nil {
			return "", fmt.Errorf("notify: look for an earlier attempt: %w", err)
		}
		if id != "" {
			return id, nil
		}
	}
	return s.c.SendEmail(ctx, Email{To: addr, Reference: ref, Unsubscribe: unsubscribe,
		Personalisation: map[string]string{"subject": email.Subject(p), "body": email.Body(p, unsubscribe)}})
}

func (sender) Close() error { return nil }

// reference names one message of one delivery to one address without
// naming the address, which Notify asks references not to hold.
func reference(key, address string) string {
	sum := sha256.Sum256([]byte(key + "\x00" + strings.ToLower(address)))
	return "signpost-" + hex.EncodeToString(sum[:16])
}

func (c *Client) call(ctx context.Context, method, path string, q url.Values, in, out any) error {
	what := "notify: " + strings.ToLower(method) + " " + path
	u := c.base.JoinPath(path)
	u.RawQuery = q.Encode()
	var req *http.Request
	var err error
	if in != nil {
		body, berr := channel.JSONBody(in)
		if berr != nil {
			return channel.Permanent("%s: %v", what, berr)
		}
		req, err = http.NewRequestWithContext(ctx, method, u.String(), body)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), nil)
	}
	if err != nil {
		return channel.Permanent("%s: %v", what, err)
	}
	tok, err := c.key.token(c.cfg.Now())
	if err != nil {
		return channel.Permanent("%s: sign the token: %v", what, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "signpost")
	return channel.Call(c.cfg.Client, req, what, out, func(resp *http.Response, body []byte) *channel.Error {
		return c.classify(resp, body, what)
	})
}

// maxMessage bounds how much of Notify's message goes into an error.
const maxMessage = 300

// classify reads Notify's error body. A 400 about email_address is that
// recipient's alone (Code "recipient"); the daily limit, which Notify
// gives no Retry-After for, lifts at midnight UK time.
func (c *Client) classify(resp *http.Response, body []byte, what string) *channel.Error {
	code, msg := parseError(body)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	now := c.cfg.Now()
	e := channel.HTTPError(resp, now, what+": "+msg, code)
	switch {
	case resp.StatusCode == http.StatusBadRequest && strings.HasPrefix(msg, "email_address "):
		e.Code = "recipient"
	case resp.StatusCode == http.StatusTooManyRequests && code == "TooManyRequestsError" && e.RetryAfter == 0:
		e.RetryAfter = untilMidnight(now.In(c.london))
	}
	return e
}

// parseError returns the first error's name and message from Notify's
// error body, or "" for a body that is not one (a proxy's page).
func parseError(body []byte) (code, msg string) {
	var out struct {
		Errors []struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &out) != nil || len(out.Errors) == 0 {
		return "", ""
	}
	code, msg = out.Errors[0].Error, strings.Join(strings.Fields(out.Errors[0].Message), " ")
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "…"
	}
	return code, msg
}

func untilMidnight(now time.Time) time.Duration {
	y, m, d := now.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, now.Location()).Sub(now)
}
