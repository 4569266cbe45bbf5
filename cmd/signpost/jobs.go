package main

import (
	"context"
	"flag"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/channel/manage"
	"github.com/signpost-uk/signpost/inbox/desk"
	"github.com/signpost-uk/signpost/inbox/sources"
	"github.com/signpost-uk/signpost/jobs"
	"github.com/signpost-uk/signpost/netsafe"
	"github.com/signpost-uk/signpost/secret"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/subscribe"
)

// queueFlags are serve's settings for background jobs and delivery.
type queueFlags struct {
	workers    *int
	poll       *time.Duration
	rescue     *time.Duration
	maxBackoff *time.Duration
	allowNet   *string
}

func addQueueFlags(fs *flag.FlagSet) *queueFlags {
	return &queueFlags{
		workers: fs.Int("job-workers", 10, "background jobs (deliveries, e-mails) this process works at once, per queue"),
		poll:    fs.Duration("job-poll", 500*time.Millisecond, "how often to look for queued jobs no notification announced (SQLite has none)"),
		rescue: fs.Duration("job-rescue-after", 5*time.Minute,
			"how long a job may show as running before it is taken for orphaned by a killed process and run again (River looks every 30s); a delivery attempt is cut off after this long too (at most 2m); replies and e-mail runs are taken back after their own limits if longer (2m, 5m)"),
		maxBackoff: fs.Duration("retry-max-wait", time.Hour, "the longest wait between a failed delivery and its next attempt when the network did not say (its Retry-After is always honoured)"),
		allowNet:   fs.String("allow-net", "", "private or loopback ranges channels may reach (e.g. an intranet webhook), comma-separated CIDRs; logged when used"),
	}
}

// background is the job queue and what feeds it.
type background struct {
	queue      *jobs.Queue
	dispatcher *delivery.Dispatcher
	conns      *delivery.Connectors
	channels   *manage.Service
}

// openBackground registers every feature's workers on one River client
// and builds the dispatcher that turns published revisions into
// deliveries.
func openBackground(ctx context.Context, db *store.DB, env *environment, logger *slog.Logger, baseURL string, qf *queueFlags, inboxMail desk.Mailer, loc *time.Location, subs *subscribe.Service) (*background, error) {
	if *qf.workers < 1 {
		return nil, signpost.Errorf(signpost.EINVALID, "--job-workers must be at least 1")
	}
	if *qf.rescue <= 0 || *qf.maxBackoff <= 0 {
		return nil, signpost.Errorf(signpost.EINVALID, "--job-rescue-after and --retry-max-wait must be positive")
	}
	conns, channels, err := openChannels(db, env, logger, *qf.allowNet)
	if err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, delivery.NewWorker(delivery.Config{
		Store:     db,
		Connector: conns.Get,
		Render: delivery.Renderer(db, db, delivery.RenderConfig{
			Link: func(n signpost.Notice) string {
				return strings.TrimSuffix(baseURL, "/") + "/notices/" + strconv.FormatInt(n.ID, 10)
			},
		}),
		Backoff: func(attempt int) time.Duration { return min(delivery.Backoff(attempt), *qf.maxBackoff) },
		// River rescues a job left running by a killed process only once
		// its own timeout has passed too, so a delivery's must not outlast
		// the rescue period or --job-rescue-after would not be kept.
		Timeout: min(delivery.DefaultTimeout, *qf.rescue),
		Logger:  logger,
	})); err != nil {
		return nil, err
	}
	// Replies to residents go back through the channel each message came
	// from, with the same connectors.
	replier := &sources.Replier{Channels: db, Connectors: conns, Log: db}
	// Answers to the enquiry form go by e-mail.
	if err := desk.AddWorkers(workers, desk.WorkerConfig{Store: db, Replier: replier, Mailer: inboxMail, Location: loc, Logger: logger}); err != nil {
		return nil, err
	}
	queues := map[string]int{delivery.Queue: *qf.workers, desk.ReplyQueue: *qf.workers}
	if subs != nil {
		if err := subscribe.AddWorkers(workers, subs); err != nil {
			return nil, err
		}
		queues[subscribe.Queue] = *qf.workers
	}
	q, err := jobs.Open(ctx, db, jobs.Config{
		Workers:      workers,
		Queues:       queues,
		MaxWorkers:   *qf.workers,
		PollInterval: *qf.poll,
		RescueAfter:  *qf.rescue,
		Logger:       logger,
	})
	if err != nil {
		return nil, err
	}
	return &background{queue: q, dispatcher: delivery.NewDispatcher(db, q, logger), conns: conns, channels: channels}, nil
}

// openChannels builds channels' connectors from their stored settings
// and sealed credentials, reaching the networks through netsafe with the
// admin's allowlist (--allow-net), and the staff console's management of
// them on the same terms.
func openChannels(db *store.DB, env *environment, logger *slog.Logger, allowNet string) (*delivery.Connectors, *manage.Service, error) {
	allow, err := netsafe.ParseAllow(allowNet)
	if err != nil {
		return nil, nil, signpost.Errorf(signpost.EINVALID, "--allow-net: %v", err)
	}
	opts := netsafe.Options{Allow: allow, Timeout: 30 * time.Second, Logger: logger}
	k, err := secret.FromEnv(env.getenv)
	if err != nil {
		// The site runs without channels; deliveries fail with the reason,
		// and the console can list and remove channels but not add or
		// test them.
		logger.Warn("channel credentials cannot be opened; deliveries will fail until this is fixed", "reason", signpost.ErrorMessage(err))
		return delivery.NewConnectors(db, noKeys{err}, delivery.SafeNet(opts)), manage.New(manage.Config{DB: db, NoKeys: err, Net: opts}), nil
	}
	return delivery.NewConnectors(db, k, delivery.SafeNet(opts)), manage.New(manage.Config{DB: db, Keys: k, Net: opts}), nil
}

// noKeys stands in for the keyring when SIGNPOST_SECRET_KEY is missing or
// wrong, so each delivery says why it cannot open its channel.
type noKeys struct{ err error }

func (k noKeys) Open(string, []byte) ([]byte, error) { return nil, k.err }
