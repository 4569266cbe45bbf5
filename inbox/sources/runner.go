package sources

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/store"
)

// ChannelLister lists the configured channels; *store.DB is one.
type ChannelLister interface {
	Channels(ctx context.Context) ([]store.Channel, error)
}

// ConnectorSource builds a channel's connector with its credentials;
// *delivery.Connectors is one.
type ConnectorSource interface {
	Get(ctx context.Context, name string) (channel.Connector, error)
}

// Runner polls every channel that has something to poll, each on its own
// schedule: every Interval while it works, backing off after failures.
type Runner struct {
	Channels   ChannelLister
	Connectors ConnectorSource
	Sink       Sink
	Cursors    Cursors
	// Interval is the time between polls of a healthy source.
	Interval time.Duration
	Logger   *slog.Logger
	// Now is the clock backoff is measured by; default time.Now.
	Now func() time.Time
	// Health, when set, records a permanent failure (a revoked token) on
	// the channel, so 'signpost channel list' shows it, and clears it
	// when polling works again.
	Health ChannelHealth

	mu    sync.Mutex
	state map[string]*sourceState
}

// ChannelHealth records whether a channel works; *store.DB is one.
type ChannelHealth interface {
	SetChannelHealth(ctx context.Context, name string, healthy bool, lastError string) error
}

type sourceState struct {
	failures  int
	next      time.Time
	unhealthy bool // a permanent failure was recorded on the channel
}

// maxBackoff caps the wait after repeated failures: a revoked token
// fixed by an administrator should be noticed within the half hour.
const maxBackoff = 30 * time.Minute

// PollOnce polls each due source once, in turn, and reports what each
// did. A failing source does not stop the others.
func (r *Runner) PollOnce(ctx context.Context) ([]Result, error) {
	chans, err := r.Channels.Channels(ctx)
	if err != nil {
		return nil, err
	}
	now := r.now()
	var out []Result
	for _, c := range chans {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if !r.due(c.Name, now) {
			continue
		}
		conn, err := r.Connectors.Get(ctx, c.Name)
		if err != nil {
			res := Result{Source: c.Type + ":" + c.Name, Err: err}
			r.record(c.Name, res, now)
			out = append(out, res)
			continue
		}
		p := pollerFor(c.Name, conn)
		if p == nil {
			continue
		}
		res, err := p.poll(ctx, r.Sink, r.Cursors)
		res.Err = err
		r.record(c.Name, res, now)
		r.health(ctx, c.Name, res.Err)
		out = append(out, res)
	}
	return out, nil
}

// Run polls until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if _, err := r.PollOnce(ctx); err != nil && ctx.Err() == nil {
			r.logger().Warn("inbox sources: cannot list channels", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (r *Runner) due(name string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.state[name]
	return s == nil || !now.Before(s.next)
}

// record schedules a source's next poll: at the next tick after success, and after a doubling delay (or what the
// network asked for, if longer) after failures.
func (r *Runner) record(name string, res Result, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == nil {
		r.state = map[string]*sourceState{}
	}
	s := r.state[name]
	if s == nil {
		s = &sourceState{}
		r.state[name] = s
	}
	log := r.logger()
	if res.Err == nil {
		if s.failures > 0 {
			log.Info("inbox source recovered", "source", res.Source, "after_failures", s.failures)
		}
		s.failures, s.next = 0, time.Time{}
		if res.New > 0 {
			log.Info("inbox source polled", "source", res.Source, "read", res.Read, "new", res.New)
		}
		return
	}
	s.failures++
	delay := r.Interval
	for i := 1; i < s.failures && delay < maxBackoff; i++ {
		delay *= 2
	}
	if channel.IsPermanent(res.Err) {
		delay = maxBackoff
	}
	if d, ok := channel.RetryAfter(res.Err); ok && d > delay {
		delay = d
	}
	delay = min(max(delay, time.Second), maxBackoff)
	s.next = now.Add(delay)
	// Errors are classified network answers or store failures; neither
	// carries message text.
	log.Warn("inbox source failed", "source", res.Source, "failures", s.failures, "retry_in", delay, "err", res.Err)
}

// health records a permanent failure on the channel, and its end,
// once each rather than on every poll.
func (r *Runner) health(ctx context.Context, name string, err error) {
	if r.Health == nil {
		return
	}
	r.mu.Lock()
	s := r.state[name]
	bad := channel.IsPermanent(err)
	change := s != nil && (bad != s.unhealthy) && (bad || err == nil)
	if change {
		s.unhealthy = bad
	}
	r.mu.Unlock()
	if !change {
		return
	}
	msg := ""
	if bad {
		msg = err.Error()
	}
	if err := r.Health.SetChannelHealth(ctx, name, !bad, msg); err != nil {
		r.logger().Warn("inbox source: cannot record channel health", "channel", name, "err", err)
	}
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}
