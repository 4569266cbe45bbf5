// Package webhook delivers notices to partner systems as signed JSON
// POSTs. Each request carries:
//
//	X-Signpost-Delivery:  an id stable across retries of one delivery, so
//	                      receivers can drop repeats
//	X-Signpost-Timestamp: Unix seconds when the request was signed
//	X-Signpost-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// Receivers check the signature and reject timestamps more than five
// minutes from their clock, which stops replays; Verify does both. The
// target URL is typed in by an admin, so production must pass an
// SSRF-safe client (netsafe) that refuses private and loopback addresses.
//
// Delivery guarantee: at least once, with the delivery id for receivers to
// make it exactly once.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost/channel"
)

// The headers a delivery carries.
const (
	HeaderDelivery  = "X-Signpost-Delivery"
	HeaderTimestamp = "X-Signpost-Timestamp"
	HeaderSignature = "X-Signpost-Signature"
	HeaderEvent     = "X-Signpost-Event"
)

// Tolerance is how far a timestamp may be from the receiver's clock.
const Tolerance = 5 * time.Minute

// Events name what a delivery is about.
const (
	EventPublished = "notice.published"
	EventUpdated   = "notice.updated"
	EventDeleted   = "notice.deleted"
	EventPing      = "ping"
)

// Config is what a webhook channel needs.
type Config struct {
	URL string
	// Secret signs every request; at least 16 bytes.
	Secret []byte
	Client channel.Doer
	Now    func() time.Time
}

// Connector posts to one webhook URL.
type Connector struct {
	cfg Config
}

// New checks the configuration and returns a connector.
func New(cfg Config) (*Connector, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("webhook: %q is not an http(s) URL", cfg.URL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("webhook: the URL must not carry a user name or password; receivers authenticate by signature")
	}
	if len(cfg.Secret) < 16 {
		return nil, fmt.Errorf("webhook: the signing secret must be at least 16 bytes")
	}
	if cfg.Client == nil {
		return nil, fmt.Errorf("webhook: no HTTP client")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Connector{cfg: cfg}, nil
}

// Body is the JSON a receiver gets.
type Body struct {
	Event     string   `json:"event"`
	Delivery  string   `json:"delivery"`
	Text      string   `json:"text,omitempty"`
	Link      string   `json:"link,omitempty"`
	Languages []string `json:"languages,omitempty"`
	// Notice is the structured notice from Post.Payload.
	Notice any `json:"notice,omitempty"`
	// Replaces names the delivery an update or deletion is about.
	Replaces string `json:"replaces,omitempty"`
}

// Publish sends notice.published.
func (c *Connector) Publish(ctx context.Context, p channel.Post) (channel.Receipt, error) {
	id := deliveryID(p.IdempotencyKey)
	err := c.send(ctx, Body{Event: EventPublished, Delivery: id, Text: p.Text(), Link: p.Link, Languages: p.Languages, Notice: p.Payload})
	if err != nil {
		return channel.Receipt{}, err
	}
	return channel.Receipt{IDs: []string{id}}, nil
}

// Update sends notice.updated naming the earlier delivery.
func (c *Connector) Update(ctx context.Context, r channel.Receipt, p channel.Post) (channel.Receipt, error) {
	id := deliveryID(p.IdempotencyKey)
	err := c.send(ctx, Body{Event: EventUpdated, Delivery: id, Text: p.Text(), Link: p.Link, Languages: p.Languages, Notice: p.Payload, Replaces: first(r.IDs)})
	if err != nil {
		return r, err
	}
	return channel.Receipt{IDs: []string{id}}, nil
}

// Delete sends notice.deleted naming the earlier delivery. Its delivery id
// derives from that one, so a retried deletion carries the same id.
func (c *Connector) Delete(ctx context.Context, r channel.Receipt) error {
	return c.send(ctx, Body{Event: EventDeleted, Delivery: first(r.IDs) + "/deleted", Replaces: first(r.IDs)})
}

// Health sends a ping, which receivers should answer with 2xx.
func (c *Connector) Health(ctx context.Context) error {
	return c.send(ctx, Body{Event: EventPing, Delivery: deliveryID("")})
}

func first(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// deliveryID uses the delivery's idempotency key, or a random id for
// calls that have none.
func deliveryID(key string) string {
	if key != "" {
		return key
	}
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (c *Connector) send(ctx context.Context, b Body) error {
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("webhook: encode: %w", err)
	}
	ts := strconv.FormatInt(c.cfg.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, strings.NewReader(string(body)))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Signpost-Webhook/1")
	req.Header.Set(HeaderEvent, b.Event)
	req.Header.Set(HeaderDelivery, b.Delivery)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(c.cfg.Secret, ts, body))
	err = channel.Call(c.cfg.Client, req, "webhook "+b.Event, nil, func(resp *http.Response, _ []byte) *channel.Error {
		// The receiver's body is not ours to log.
		return channel.HTTPError(resp, c.cfg.Now(), "receiver answered "+resp.Status, "")
	})
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return nil
}

// Sign returns the X-Signpost-Signature value for a body signed at ts.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	io.WriteString(m, ts)
	io.WriteString(m, ".")
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery as a receiver should: the timestamp is within
// Tolerance of now and one of the signatures (comma-separated, so senders
// can sign with an old and a new secret during rotation) matches one of
// the secrets. It compares in constant time.
func Verify(h http.Header, body []byte, now time.Time, secrets ...[]byte) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook: %s %q is not Unix seconds", HeaderTimestamp, ts)
	}
	skew := now.Sub(time.Unix(sec, 0))
	if skew > Tolerance || skew < -Tolerance {
		return fmt.Errorf("webhook: timestamp is %s from now; more than %s means a replay or a wrong clock", skew.Round(time.Second), Tolerance)
	}
	for _, sig := range strings.Split(h.Get(HeaderSignature), ",") {
		sig = strings.TrimSpace(sig)
		for _, s := range secrets {
			if hmac.Equal([]byte(sig), []byte(Sign(s, ts, body))) {
				return nil
			}
		}
	}
	return fmt.Errorf("webhook: signature does not match")
}
