package sources

import (
	"context"
	"fmt"
	"strings"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/bluesky"
	"github.com/signpost-uk/signpost/channel/facebook"
	"github.com/signpost-uk/signpost/channel/mastodon"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/store"
)

// ReplyLog remembers each reply's attempts; *store.DB is one.
type ReplyLog interface {
	BeginReplySend(ctx context.Context, key, channelName string) (store.ReplySend, error)
	FinishReplySend(ctx context.Context, key, externalID string) error
}

// Replier sends replies through the channel each message came from; it
// implements inbox.Replier.
//
// Exactly once: the reply log answers a retry whose earlier attempt
// finished without calling the network. What remains is a crash after the
// network accepted a reply but before its id was logged; then each
// network's own guard applies: Mastodon's Idempotency-Key (kept an hour),
// Bluesky's record key derived from the reply key and first attempt time,
// Facebook's look-up of the thread before sending again, and e-mail's
// Message-ID derived from the key (at least once: receivers may drop the
// repeat).
type Replier struct {
	Connectors ConnectorSource
	Log        ReplyLog
}

var _ inbox.Replier = (*Replier)(nil)

// Reply sends r on the named channel and returns the network's id of the
// reply. Failures are classified as channel errors: permanent (the
// message was deleted, the token revoked) or retryable with the delay
// the network asked for.
func (rp *Replier) Reply(ctx context.Context, channelName string, r inbox.OutgoingReply) (string, error) {
	if r.InReplyTo == "" {
		return "", signpost.Errorf(signpost.EINVALID, "reply: the message being answered is required")
	}
	send, err := rp.Log.BeginReplySend(ctx, r.Key, channelName)
	if err != nil {
		return "", err
	}
	if send.ExternalID != "" {
		return send.ExternalID, nil
	}
	conn, err := rp.Connectors.Get(ctx, channelName)
	if err != nil {
		return "", err
	}
	var id string
	switch c := conn.(type) {
	case *mastodon.Connector:
		id, err = c.Reply(ctx, r.Key, r.InReplyTo, r.Text)
	case *bluesky.Connector:
		id, err = c.Reply(ctx, r.Key, send.FirstAt, r.InReplyTo, r.Text)
	case *facebook.Connector:
		retry := send.Attempts > 1
		if strings.HasPrefix(r.InReplyTo, "m_") { // a Messenger mid
			to := r.To
			if to == "" {
				to = r.ThreadRef
			}
			id, err = c.SendMessage(ctx, to, r.Text, retry)
		} else {
			id, err = c.ReplyToComment(ctx, r.InReplyTo, r.Text, retry)
		}
	default:
		return "", channel.Permanent("channel %s cannot send replies", channelName)
	}
	if err != nil {
		return "", err
	}
	if err := rp.Log.FinishReplySend(ctx, r.Key, id); err != nil {
		// Sent, but not recorded: the caller retries, and the network's
		// own guard stops a second reply.
		return "", fmt.Errorf("reply sent as %s but not recorded: %w", id, err)
	}
	return id, nil
}
