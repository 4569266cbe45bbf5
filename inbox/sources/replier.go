package sources

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/bluesky"
	"github.com/signpost-uk/signpost/channel/email"
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
	// Channels finds the e-mail channel whose monitored mailbox answers
	// for the inbox's "email" and "form" channels.
	Channels   ChannelLister
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
	var conn channel.Connector
	if channelName == inbox.ChannelEmail || channelName == inbox.ChannelForm {
		conn, err = rp.mailboxChannel(ctx)
	} else {
		conn, err = rp.Connectors.Get(ctx, channelName)
	}
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
	case *email.Connector:
		id, err = rp.replyByEmail(ctx, c, channelName, r, send.FirstAt)
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

// mailboxChannel returns the connector of the e-mail channel with a
// monitored mailbox.
func (rp *Replier) mailboxChannel(ctx context.Context) (channel.Connector, error) {
	chans, err := rp.Channels.Channels(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range chans {
		if c.Type != string(channel.Email) {
			continue
		}
		conn, err := rp.Connectors.Get(ctx, c.Name)
		if err != nil {
			return nil, err
		}
		if ec, ok := conn.(*email.Connector); ok && ec.Inbox() != nil {
			return ec, nil
		}
	}
	return nil, channel.Permanent("no e-mail channel has a monitored mailbox to answer from (signpost channel add email --imap …)")
}

// replyByEmail answers an e-mail threaded under it, with the subject and
// references read from the mailbox, or an enquiry-form message as a new
// e-mail.
func (rp *Replier) replyByEmail(ctx context.Context, c *email.Connector, channelName string, r inbox.OutgoingReply, first time.Time) (string, error) {
	if r.To == "" {
		return "", channel.Permanent("reply: no e-mail address to answer")
	}
	m := email.ReplyMail{Key: r.Key, To: r.To, Text: r.Text, Date: first, Subject: "Your enquiry"}
	if channelName == inbox.ChannelForm {
		return c.Reply(ctx, m)
	}
	if strings.HasPrefix(r.InReplyTo, "uid:") {
		// The message had no Message-ID to thread under.
		return c.Reply(ctx, m)
	}
	m.InReplyTo = r.InReplyTo
	if mb := c.Inbox(); mb != nil {
		orig, ok, err := mb.Find(ctx, r.InReplyTo)
		if err != nil {
			return "", err
		}
		if ok {
			m.Subject, m.References = orig.Subject, orig.References
		}
	}
	if len(m.References) == 0 && r.ThreadRef != "" && r.ThreadRef != r.InReplyTo {
		m.References = []string{r.ThreadRef}
	}
	return c.Reply(ctx, m)
}
