// Package delivery publishes notices to channels durably, as River jobs:
// one job per (notice, revision, channel, action), unique by those
// arguments so enqueuing twice or a retry never posts twice; retries with
// exponential backoff and jitter; a network's own Retry-After (or rate-limit
// reset) honoured by snoozing; and a permanent failure (revoked token,
// rejected post) cancelling the job and marking the channel unhealthy.
//
// The jobs run on whichever database River is given: riversqlite next to
// the SQLite default, riverpgxv5 on PostgreSQL, where several `signpost
// serve` processes share the queue.
//
// What is guaranteed: the queue never loses a job and never runs one job
// twice at once; a job whose delivery was recorded does nothing when run
// again. After a crash, queued jobs resume as soon as a process starts;
// jobs that were running are rescued once the client's rescue period and
// the attempt's Timeout have both passed (River looks every 30 s). The
// window that remains is a crash after the network accepted a post but
// before the delivery was recorded: Mastodon (Idempotency-Key),
// Bluesky (putRecord under a key derived from the delivery), X
// (duplicate-content refusal, treated as delivered) and webhooks (delivery
// id) absorb the retry, and Facebook looks for the message among the
// Page's recent posts first; e-mail may be sent twice in that window.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/x"
	"github.com/signpost-uk/signpost/store"
)

// The actions a delivery can take.
const (
	// ActionPublish posts the revision, or edits the earlier post when
	// the channel already has one.
	ActionPublish = "publish"
	// ActionClose posts the "resumed" message, as a reply to the
	// earlier post where the network threads.
	ActionClose = "close"
	// ActionDelete retracts the notice from the channel.
	ActionDelete = "delete"
)

// Queue is the River queue deliveries run in.
const Queue = "deliveries"

// Args identify one delivery. Every field takes part in uniqueness.
type Args struct {
	NoticeID int64  `json:"notice_id"`
	Revision int    `json:"revision"`
	Channel  string `json:"channel"`
	Action   string `json:"action"`
}

// Kind names the job type in River's table.
func (Args) Kind() string { return "signpost_delivery" }

// InsertOpts makes the job unique by its arguments across every state,
// completed included, so the same delivery can never be queued twice.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Key is the idempotency key of a delivery, passed to networks that
// support one.
func (a Args) Key() string {
	return fmt.Sprintf("signpost-n%d-r%d-%s-%s", a.NoticeID, a.Revision, a.Channel, a.Action)
}

// Store is what the worker needs from storage.
type Store interface {
	Delivery(ctx context.Context, noticeID int64, channel string) (store.Delivery, bool, error)
	RecordDelivery(ctx context.Context, d store.Delivery) error
	SetChannelHealth(ctx context.Context, name string, healthy bool, lastError string) error
	SetDeliveryState(ctx context.Context, j store.DeliveryJob) error
}

// Config wires a worker to the rest of Signpost.
type Config struct {
	Store Store
	// Connector returns the connector of the named channel.
	Connector func(ctx context.Context, channel string) (channel.Connector, error)
	// Render returns the post for a notice revision on a channel.
	Render func(ctx context.Context, noticeID int64, revision int, channel string) (channel.Post, error)
	// Backoff is the wait before the next attempt after attempt n failed
	// without the network saying how long; default Backoff.
	Backoff func(attempt int) time.Duration
	// Wait turns a network's Retry-After into the snooze; default adds
	// up to 10% jitter so throttled jobs do not return in a herd.
	Wait func(retryAfter time.Duration) time.Duration
	// Timeout bounds one attempt; default DefaultTimeout. River takes
	// back a job left running by a killed process only once its timeout
	// has passed as well as the client's RescueStuckJobsAfter, so keep it
	// no longer than that for deliveries to resume as soon.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Worker runs deliveries.
type Worker struct {
	river.WorkerDefaults[Args]
	cfg Config
}

// NewWorker returns a worker; register it with river.AddWorker.
func NewWorker(cfg Config) *Worker {
	if cfg.Backoff == nil {
		cfg.Backoff = Backoff
	}
	if cfg.Wait == nil {
		cfg.Wait = func(d time.Duration) time.Duration { return d + time.Duration(rand.Int64N(int64(d)/10+1)) }
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Worker{cfg: cfg}
}

// Backoff is exponential from 2 s, capped at an hour, with full jitter in
// its upper half: attempt 1 waits 1–2 s, attempt 5 16–32 s, attempt 12
// and later 30–60 min.
func Backoff(attempt int) time.Duration {
	d := min(time.Duration(1)<<min(attempt, 20)*time.Second, time.Hour)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// NextRetry applies the worker's backoff instead of River's default.
func (w *Worker) NextRetry(job *river.Job[Args]) time.Time {
	return time.Now().Add(w.cfg.Backoff(job.Attempt))
}

// DefaultTimeout bounds one attempt unless Config says otherwise: a post
// split into a thread, or Facebook's look-up before a retry, makes several
// requests, each bounded by the connector's own timeout (netsafe's 30 s).
const DefaultTimeout = 2 * time.Minute

// Timeout bounds one attempt.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return w.cfg.Timeout }

// Work delivers one notice revision to one channel.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	a := job.Args
	state, err := w.work(ctx, job)
	var snooze *river.JobSnoozeError
	if state == store.DeliveryRetrying && err != nil && job.Attempt >= job.MaxAttempts && !errors.As(err, &snooze) {
		// River discards a job whose last attempt failed; say so, or the
		// console would show it waiting for a retry that never comes.
		state = store.DeliveryDiscarded
	}
	row := store.DeliveryJob{NoticeID: a.NoticeID, Revision: a.Revision, Channel: a.Channel, Action: a.Action, State: state, Attempts: job.Attempt}
	if err != nil {
		row.LastError = err.Error()
	}
	if serr := w.cfg.Store.SetDeliveryState(ctx, row); serr != nil {
		w.cfg.Logger.Warn("delivery: could not record its state", "notice", a.NoticeID, "channel", a.Channel, "err", serr)
	}
	return err
}

// work does the delivery and says what state it left it in.
func (w *Worker) work(ctx context.Context, job *river.Job[Args]) (string, error) {
	a := job.Args
	prior, seen, err := w.cfg.Store.Delivery(ctx, a.NoticeID, a.Channel)
	if err != nil {
		return store.DeliveryRetrying, err
	}
	if seen && prior.Revision == a.Revision && prior.Action == a.Action {
		return store.DeliveryDelivered, nil
	}
	if seen && (prior.Revision > a.Revision || prior.Action == ActionDelete) {
		// Superseded, or retracted: nothing to post.
		return store.DeliverySkipped, nil
	}
	var receipt channel.Receipt
	live := seen && prior.Action != ActionDelete
	if live {
		if err := json.Unmarshal(prior.Receipt, &receipt); err != nil {
			return store.DeliveryFailed, river.JobCancel(fmt.Errorf("delivery %s: stored receipt: %w", a.Key(), err))
		}
	}
	conn, err := w.cfg.Connector(ctx, a.Channel)
	if signpost.ErrorCode(err) == signpost.ENOTFOUND {
		// An administrator removed the channel after this was queued:
		// there is nowhere to deliver to, and nothing went wrong.
		return store.DeliverySkipped, river.JobCancel(fmt.Errorf("delivery %s: the channel was removed", a.Key()))
	}
	if err != nil {
		return store.DeliveryFailed, river.JobCancel(fmt.Errorf("delivery %s: %w", a.Key(), err))
	}
	var post channel.Post
	if a.Action == ActionPublish || a.Action == ActionClose {
		post, err = w.cfg.Render(ctx, a.NoticeID, a.Revision, a.Channel)
		if err != nil {
			return store.DeliveryFailed, river.JobCancel(fmt.Errorf("delivery %s: render: %w", a.Key(), err))
		}
		post.IdempotencyKey = a.Key()
		post.Retry = job.Attempt > 1 || retriedByHand(job.Metadata)
	}
	switch a.Action {
	case ActionDelete:
		if live {
			err = conn.Delete(ctx, receipt)
		}
		receipt = channel.Receipt{}
	case ActionPublish:
		if live && len(receipt.IDs) > 0 {
			receipt, err = conn.Update(ctx, receipt, post)
		} else {
			receipt, err = conn.Publish(ctx, post)
		}
	case ActionClose:
		if live && len(receipt.IDs) > 0 {
			post.ReplyTo = &receipt
		}
		var more channel.Receipt
		if more, err = conn.Publish(ctx, post); err == nil {
			// The thread now ends with the "resumed" post; a later
			// retraction deletes all of it.
			receipt = channel.Receipt{IDs: slices.Concat(receipt.IDs, more.IDs), URLs: slices.Concat(receipt.URLs, more.URLs), CIDs: slices.Concat(receipt.CIDs, more.CIDs)}
		}
	default:
		return store.DeliveryFailed, river.JobCancel(fmt.Errorf("delivery %s: unknown action %q", a.Key(), a.Action))
	}
	if err != nil && channel.Code(err) == x.CodeDuplicate {
		// X refused the same text again: the earlier attempt posted it.
		w.cfg.Logger.Warn("delivery: network reports the post already exists; recording as delivered without a receipt", "notice", a.NoticeID, "channel", a.Channel)
		err = nil
	}
	if err != nil {
		return w.fail(ctx, a, err)
	}
	body, _ := json.Marshal(receipt)
	if err := w.cfg.Store.RecordDelivery(ctx, store.Delivery{NoticeID: a.NoticeID, Channel: a.Channel, Revision: a.Revision, Action: a.Action, Receipt: body}); err != nil {
		return store.DeliveryRetrying, fmt.Errorf("delivery %s: posted, but recording failed: %w", a.Key(), err)
	}
	return store.DeliveryDelivered, w.cfg.Store.SetChannelHealth(ctx, a.Channel, true, "")
}

func (w *Worker) fail(ctx context.Context, a Args, err error) (string, error) {
	switch {
	case channel.IsPermanent(err):
		w.cfg.Logger.Error("delivery: permanent failure; channel marked unhealthy", "notice", a.NoticeID, "channel", a.Channel, "err", err)
		if herr := w.cfg.Store.SetChannelHealth(ctx, a.Channel, false, err.Error()); herr != nil {
			return store.DeliveryRetrying, errors.Join(err, herr)
		}
		return store.DeliveryFailed, river.JobCancel(err)
	case errors.Is(err, context.Canceled):
		return store.DeliveryRetrying, err
	}
	if d, ok := channel.RetryAfter(err); ok {
		w.cfg.Logger.Info("delivery: network asked to wait", "notice", a.NoticeID, "channel", a.Channel, "wait", d)
		return store.DeliveryRetrying, river.JobSnooze(w.cfg.Wait(d))
	}
	return store.DeliveryRetrying, err
}

// Migrate creates or updates River's tables.
func Migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	return nil
}

// NewClient returns a River client that works deliveries with up to
// workers at once. poll is how often to look for jobs when notifications
// are not available (SQLite); zero means River's default.
func NewClient[TTx any](driver riverdriver.Driver[TTx], w *Worker, workers int, poll time.Duration, logger *slog.Logger) (*river.Client[TTx], error) {
	ws := river.NewWorkers()
	if err := river.AddWorkerSafely(ws, w); err != nil {
		return nil, err
	}
	cfg := &river.Config{
		Queues:            map[string]river.QueueConfig{Queue: {MaxWorkers: max(workers, 1)}},
		Workers:           ws,
		FetchPollInterval: poll,
		JobTimeout:        w.cfg.Timeout,
		// A process killed mid-job leaves the job "running"; River's
		// default waits an hour before rescuing it, far too long for a
		// snow-day notice. River wants it no shorter than JobTimeout.
		RescueStuckJobsAfter: max(5*time.Minute, w.cfg.Timeout),
		Logger:               logger,
	}
	if poll > 0 {
		cfg.FetchCooldown = min(max(poll/2, time.Millisecond), 100*time.Millisecond)
	}
	return river.NewClient(driver, cfg)
}

// Enqueue queues one delivery per channel; deliveries already queued or
// done are skipped by River's uniqueness. It returns how many were new.
func Enqueue[TTx any](ctx context.Context, c *river.Client[TTx], noticeID int64, revision int, action string, channels []string) (int, error) {
	if len(channels) == 0 {
		return 0, nil
	}
	params := make([]river.InsertManyParams, len(channels))
	for i, ch := range channels {
		params[i] = river.InsertManyParams{Args: Args{NoticeID: noticeID, Revision: revision, Channel: ch, Action: action}}
	}
	res, err := c.InsertMany(ctx, params)
	if err != nil {
		return 0, fmt.Errorf("queue deliveries of notice %d: %w", noticeID, err)
	}
	n := 0
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			n++
		}
	}
	return n, nil
}
