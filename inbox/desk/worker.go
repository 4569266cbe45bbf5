package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/jobs"
	"github.com/signpost-uk/signpost/store"
)

// ReplyQueue is the River queue replies are sent from.
const ReplyQueue = "inbox_replies"

// ReplyArgs identify one reply to send.
type ReplyArgs struct {
	ReplyID int64 `json:"reply_id"`
}

// Kind names the job type in River's table.
func (ReplyArgs) Kind() string { return "signpost_inbox_reply" }

// InsertOpts makes the job unique per reply in every state, so queueing a
// reply again never sends it twice.
func (ReplyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: ReplyQueue, MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ReplyStore is what the worker needs from storage; *store.DB is one.
type ReplyStore interface {
	Reply(ctx context.Context, id int64) (inbox.Reply, error)
	Conversation(ctx context.Context, id int64) (inbox.Conversation, error)
	Message(ctx context.Context, id int64) (inbox.Message, error)
	MarkReplySent(ctx context.Context, id int64, externalID, contactCategory string, loc *time.Location) error
	MarkReplyFailed(ctx context.Context, id int64, permanent bool, reason string) error
}

var _ ReplyStore = (*store.DB)(nil)

// WorkerConfig wires the reply worker.
type WorkerConfig struct {
	Store ReplyStore
	// Replier sends through the networks' connectors.
	Replier inbox.Replier
	// Mailer answers residents who wrote through the enquiry form;
	// From is set on the SMTP sender.
	Mailer Mailer
	// FormSubject is the subject of form answers; default "Your enquiry".
	FormSubject string
	// Backoff is the wait after failed attempt n; default
	// delivery.Backoff, the same as notices' deliveries.
	Backoff  func(attempt int) time.Duration
	Location *time.Location
	Logger   *slog.Logger
}

// ReplyWorker sends stored replies.
type ReplyWorker struct {
	river.WorkerDefaults[ReplyArgs]
	cfg WorkerConfig
}

// AddWorkers registers the reply worker on the serve command's River
// workers.
func AddWorkers(workers *river.Workers, cfg WorkerConfig) error {
	return river.AddWorkerSafely(workers, NewReplyWorker(cfg))
}

// NewReplyWorker returns the worker; register it with River.
func NewReplyWorker(cfg WorkerConfig) *ReplyWorker {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Backoff == nil {
		cfg.Backoff = delivery.Backoff
	}
	if cfg.FormSubject == "" {
		cfg.FormSubject = "Your enquiry"
	}
	return &ReplyWorker{cfg: cfg}
}

// NextRetry applies the configured backoff instead of River's default.
func (w *ReplyWorker) NextRetry(job *river.Job[ReplyArgs]) time.Time {
	return time.Now().Add(w.cfg.Backoff(job.Attempt))
}

// Timeout bounds one attempt.
func (w *ReplyWorker) Timeout(*river.Job[ReplyArgs]) time.Duration { return 2 * time.Minute }

// Work sends one reply. A reply already sent (a retry after the send was
// recorded) does nothing; a crash after the network accepted it but
// before it was recorded is absorbed by the reply's idempotency key, which
// every send of it carries.
func (w *ReplyWorker) Work(ctx context.Context, job *river.Job[ReplyArgs]) error {
	id := job.Args.ReplyID
	r, err := w.cfg.Store.Reply(ctx, id)
	if err != nil {
		return river.JobCancel(err)
	}
	if r.State != inbox.ReplyQueued {
		// Sent already, or rejected, failed or awaiting approval:
		// nothing to send.
		return nil
	}
	c, err := w.cfg.Store.Conversation(ctx, r.ConversationID)
	if err != nil {
		return err
	}
	m, err := w.cfg.Store.Message(ctx, r.MessageID)
	if err != nil {
		return err
	}
	var ext string
	if c.Channel == inbox.ChannelForm {
		ext, err = w.sendForm(ctx, r, c)
	} else if w.cfg.Replier == nil {
		err = channel.Permanent("no replier is set up for channel %s", c.Channel)
	} else {
		ext, err = w.cfg.Replier.Reply(ctx, c.Channel, inbox.OutgoingReply{Key: r.Key, InReplyTo: m.ExternalID, ThreadRef: m.ThreadRef, To: c.Author, Text: r.Text})
	}
	if err != nil {
		return w.fail(ctx, r, c.Channel, err)
	}
	if err := w.cfg.Store.MarkReplySent(ctx, id, ext, contactCategory(c.Category), w.cfg.Location); err != nil {
		return fmt.Errorf("reply %d sent as %s but not recorded: %w", id, ext, err)
	}
	w.cfg.Logger.Info("inbox: reply sent", "reply", id, "conversation", c.ID, "channel", c.Channel)
	return nil
}

// sendForm answers an enquiry-form message by e-mail. Its Message-ID is
// the reply's key, so a resend after a crash is recognisably the same.
func (w *ReplyWorker) sendForm(ctx context.Context, r inbox.Reply, c inbox.Conversation) (string, error) {
	if w.cfg.Mailer == nil {
		return "", channel.Permanent("no mail server is set up for answering the enquiry form")
	}
	id := r.Key + "@signpost.invalid"
	err := w.cfg.Mailer.Send(ctx, Mail{To: c.Author, Subject: w.cfg.FormSubject, Body: r.Text + "\n", MessageID: id})
	return id, err
}

func (w *ReplyWorker) fail(ctx context.Context, r inbox.Reply, channelName string, err error) error {
	permanent := channel.IsPermanent(err)
	reason := err.Error()
	if merr := w.cfg.Store.MarkReplyFailed(ctx, r.ID, permanent, reason); merr != nil {
		err = errors.Join(err, merr)
	}
	if permanent {
		w.cfg.Logger.Error("inbox: reply refused for good", "reply", r.ID, "channel", channelName, "err", reason)
		return river.JobCancel(err)
	}
	if d, ok := channel.RetryAfter(err); ok {
		return river.JobSnooze(d)
	}
	return err
}

// EnqueueWith returns Config.Enqueue for the serve command's job queue.
func EnqueueWith(q *jobs.Queue) func(ctx context.Context, tx *store.Tx, replyID int64) error {
	return func(ctx context.Context, tx *store.Tx, replyID int64) error {
		_, err := q.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: ReplyArgs{ReplyID: replyID}}})
		return err
	}
}
