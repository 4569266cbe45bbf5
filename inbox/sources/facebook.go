package sources

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/channel/facebook"
	"github.com/signpost-uk/signpost/inbox"
)

// FacebookHook receives a Facebook app's Page webhook: comments on the
// Pages' posts and Messenger messages to them. One app serves every Page
// the council connects, so deliveries are matched to channels by the
// Page id each entry names.
type FacebookHook struct {
	// AppSecret signs every delivery (X-Hub-Signature-256).
	AppSecret []byte
	// VerifyToken is the token typed into the app's webhook settings,
	// which Facebook echoes when it checks the callback URL.
	VerifyToken string
	Channels    ChannelLister
	Sink        Sink
	Logger      *slog.Logger
}

// Verify answers Facebook's subscription check: with hub.mode subscribe
// and the configured verify token, the challenge is echoed back.
func (h *FacebookHook) Verify(mode, token, challenge string) (string, bool) {
	if mode != "subscribe" || h.VerifyToken == "" || challenge == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(h.VerifyToken)) != 1 {
		return "", false
	}
	return challenge, true
}

// Receive checks a delivery's signature against its raw body, then
// ingests each comment and message for a connected Page. A bad signature
// is EUNAUTHORIZED and an unreadable body EINVALID; a store
// failure is returned as it is, so the caller answers with an error and
// Facebook delivers again (harmless: Ingest is idempotent).
func (h *FacebookHook) Receive(ctx context.Context, body []byte, signature string) error {
	if err := facebook.VerifySignature(h.AppSecret, body, signature); err != nil {
		return signpost.Errorf(signpost.EUNAUTHORIZED, "webhook signature missing or wrong")
	}
	events, err := facebook.ParseWebhook(body)
	if err != nil {
		return signpost.Errorf(signpost.EINVALID, "%v", err)
	}
	if len(events) == 0 {
		return nil
	}
	pages, err := h.pages(ctx)
	if err != nil {
		return err
	}
	for _, e := range events {
		name, ok := pages[e.PageID]
		if !ok {
			h.logger().Warn("facebook webhook for a Page with no channel", "page_id", e.PageID)
			continue
		}
		in := inbox.Incoming{Channel: name, Kind: inbox.KindComment, ExternalID: e.ID, ThreadRef: e.PostID,
			Author: e.From, AuthorName: e.FromName, Text: e.Text, ReceivedAt: e.At}
		if e.Kind == "message" {
			// A Messenger conversation is the person's: replies go to
			// their page-scoped id.
			in.Kind, in.ThreadRef = inbox.KindDirect, e.From
		}
		if _, _, err := h.Sink.Ingest(ctx, in); err != nil {
			return fmt.Errorf("ingest facebook %s %s: %w", e.Kind, e.ID, err)
		}
	}
	return nil
}

// pages maps Page ids to the names of their channels.
func (h *FacebookHook) pages(ctx context.Context) (map[string]string, error) {
	chans, err := h.Channels.Channels(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, c := range chans {
		if c.Type != string(channel.Facebook) {
			continue
		}
		var cfg delivery.ChannelConfig
		if json.Unmarshal(c.Config, &cfg) == nil && cfg.PageID != "" {
			out[cfg.PageID] = c.Name
		}
	}
	return out, nil
}

func (h *FacebookHook) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}
