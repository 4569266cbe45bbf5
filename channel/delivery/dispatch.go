package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/signpost-uk/signpost/store"
)

// DispatchStore is what the dispatcher needs from storage.
type DispatchStore interface {
	UpdateQuietly(ctx context.Context, fn func(tx *store.Tx) error) error
	ChangeVersion(ctx context.Context) (int64, error)
}

// TxInserter queues jobs inside a store transaction; *jobs.Queue is one.
type TxInserter interface {
	InsertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// Dispatcher turns published notice revisions into delivery jobs: one per
// (notice, revision, channel). It reads the revisions it has not handled
// and, in one transaction, queues their jobs and records them as handled,
// so a crash at any point leaves either both or neither. Several
// processes may run one each on PostgreSQL: a lock inside the transaction
// lets one dispatch at a time, and jobs are unique by their arguments
// besides.
type Dispatcher struct {
	db     DispatchStore
	queue  TxInserter
	logger *slog.Logger
	// Interval is how often to look for new revisions; default 250 ms.
	// The look is a single read unless something was published.
	Interval time.Duration
	// Sweep is how often to look even when nothing seems to have
	// changed; default one minute.
	Sweep time.Duration
	// Batch is how many revisions one transaction handles; default 50.
	Batch int
}

// NewDispatcher returns a dispatcher; call Run.
func NewDispatcher(db DispatchStore, queue TxInserter, logger *slog.Logger) *Dispatcher {
	if logger == nil {
		logger = slog.Default()
	}
	return &Dispatcher{db: db, queue: queue, logger: logger, Interval: 250 * time.Millisecond, Sweep: time.Minute, Batch: 50}
}

// Run dispatches until ctx ends. Failures are logged and retried at the
// next tick; nothing is marked handled unless its jobs were queued.
func (d *Dispatcher) Run(ctx context.Context) error {
	tick := time.NewTicker(d.Interval)
	defer tick.Stop()
	seen, lastSweep := int64(-1), time.Time{}
	for {
		v, err := d.db.ChangeVersion(ctx)
		if err == nil && (v != seen || time.Since(lastSweep) >= d.Sweep) {
			if _, err = d.DispatchAll(ctx); err == nil {
				seen, lastSweep = v, time.Now()
			}
		}
		if err != nil && ctx.Err() == nil {
			d.logger.Warn("delivery dispatcher: will try again", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// DispatchAll handles every revision waiting, in batches, and returns how
// many jobs it queued.
func (d *Dispatcher) DispatchAll(ctx context.Context) (int, error) {
	total := 0
	for {
		revs, jobs, err := d.dispatch(ctx)
		total += jobs
		if err != nil || revs < d.Batch {
			return total, err
		}
	}
}

// dispatch handles one batch in one transaction.
func (d *Dispatcher) dispatch(ctx context.Context) (revisions, queued int, err error) {
	err = d.db.UpdateQuietly(ctx, func(tx *store.Tx) error {
		revisions, queued = 0, 0
		if err := tx.LockDispatch(ctx); err != nil {
			return err
		}
		pending, err := tx.UndispatchedRevisions(ctx, d.Batch)
		if err != nil {
			return err
		}
		var params []river.InsertManyParams
		for _, pr := range pending {
			jobs := Plan(pr)
			for _, a := range jobs {
				params = append(params, river.InsertManyParams{Args: a})
			}
			if err := tx.MarkDispatched(ctx, pr.NoticeID, pr.Revision, toRows(jobs)); err != nil {
				return err
			}
		}
		if len(params) > 0 {
			if _, err := d.queue.InsertManyTx(ctx, tx, params); err != nil {
				return fmt.Errorf("queue deliveries: %w", err)
			}
		}
		revisions, queued = len(pending), len(params)
		return nil
	})
	if err == nil && queued > 0 {
		d.logger.Info("deliveries queued", "revisions", revisions, "jobs", queued)
	}
	return revisions, queued, err
}

// Plan is what a published revision means for each channel: a new notice
// or an update is published (edited where it was before) on the
// revision's channels and deleted from channels it no longer names;
// closing posts the "resumed" message; retraction deletes it everywhere
// it went.
func Plan(pr store.PublishedRevision) []Args {
	var out []Args
	add := func(action string, channels ...string) {
		for _, c := range channels {
			out = append(out, Args{NoticeID: pr.NoticeID, Revision: pr.Revision, Channel: c, Action: action})
		}
	}
	switch pr.Change {
	case store.ChangeRetract:
		all := slices.Concat(pr.Channels, pr.Live)
		slices.Sort(all)
		add(ActionDelete, slices.Compact(all)...)
	case store.ChangeClose:
		add(ActionClose, pr.Channels...)
	default:
		add(ActionPublish, pr.Channels...)
		for _, c := range pr.Live {
			if !slices.Contains(pr.Channels, c) {
				add(ActionDelete, c)
			}
		}
	}
	return out
}

func toRows(as []Args) []store.DeliveryJob {
	out := make([]store.DeliveryJob, len(as))
	for i, a := range as {
		out[i] = store.DeliveryJob{NoticeID: a.NoticeID, Revision: a.Revision, Channel: a.Channel, Action: a.Action}
	}
	return out
}
