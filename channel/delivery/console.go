package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/store"
)

// AuditRetry is the audit action of a person asking for a failed delivery
// to be tried again.
const AuditRetry audit.Action = "retry-delivery"

// ConsoleStore is what the console needs from storage (*store.DB).
type ConsoleStore interface {
	DeliveryJobs(ctx context.Context, f store.DeliveryFilter) ([]store.DeliveryJob, error)
	CountDeliveryJobs(ctx context.Context, f store.DeliveryFilter) (int, error)
	UpdateQuietly(ctx context.Context, fn func(tx *store.Tx) error) error
}

// JobControl reads and re-queues delivery jobs in River (*jobs.Queue).
type JobControl interface {
	TxInserter
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobRetryTx(ctx context.Context, tx *store.Tx, id int64) (*rivertype.JobRow, error)
}

// Console is the staff console's view of deliveries: every delivery with
// its state, when the queue will next try it and where it was posted, and
// the one thing staff do to a delivery, trying a failed one again.
type Console struct {
	db   ConsoleStore
	jobs JobControl
}

// NewConsole returns a console over the store and the job queue.
func NewConsole(db ConsoleStore, jobs JobControl) *Console {
	return &Console{db: db, jobs: jobs}
}

// Entry is one delivery as the console shows it.
type Entry struct {
	store.DeliveryJob
	// NextAttempt is when the queue will next try it; nil when nothing
	// is waiting (finished, or running now).
	NextAttempt *time.Time
	// Running is true while an attempt is under way.
	Running bool
	// PostURL is the public address of the post, where the network
	// gives one.
	PostURL string
	// Waiting is true while the queue holds a job for it that is yet to
	// run or running.
	Waiting bool
}

// Args are the delivery's job arguments, which make its idempotency key.
func (e Entry) Args() Args {
	return Args{NoticeID: e.NoticeID, Revision: e.Revision, Channel: e.Channel, Action: e.Action}
}

// CanRetry reports whether staff may ask for another try: it failed or the
// queue gave up on it (or lost it), and nothing is waiting to run.
func (e Entry) CanRetry() bool {
	return retryable(e.State) && !e.Waiting
}

func retryable(state string) bool {
	return state != store.DeliveryDelivered && state != store.DeliverySkipped
}

// Listing is one page of deliveries and how many the filter selects.
type Listing struct {
	Entries []Entry
	Total   int
}

// List returns the deliveries a filter selects, most recently changed
// first, with River's view of those not yet finished.
func (c *Console) List(ctx context.Context, f store.DeliveryFilter) (Listing, error) {
	rows, err := c.db.DeliveryJobs(ctx, f)
	if err != nil {
		return Listing{}, err
	}
	total, err := c.db.CountDeliveryJobs(ctx, f)
	if err != nil {
		return Listing{}, err
	}
	out := Listing{Entries: make([]Entry, len(rows)), Total: total}
	var open []Args
	for i, r := range rows {
		out.Entries[i] = Entry{DeliveryJob: r, PostURL: postURL(r)}
		if retryable(r.State) {
			open = append(open, out.Entries[i].Args())
		}
	}
	jobs, err := c.riverJobs(ctx, open)
	if err != nil {
		return Listing{}, err
	}
	for i := range out.Entries {
		e := &out.Entries[i]
		j, ok := jobs[e.Args()]
		if !ok || !waiting(j.State) {
			continue
		}
		e.Waiting, e.Running = true, j.State == rivertype.JobStateRunning
		if !e.Running {
			at := j.ScheduledAt.UTC()
			e.NextAttempt = &at
		}
	}
	return out, nil
}

// postURL is the address of the post a delivery made: the first part of a
// thread, or for a closure the "resumed" reply that ends it. A deletion
// leaves nothing to link to.
func postURL(j store.DeliveryJob) string {
	if j.State != store.DeliveryDelivered || j.Action == ActionDelete || j.Receipt == "" {
		return ""
	}
	var r channel.Receipt
	if json.Unmarshal([]byte(j.Receipt), &r) != nil || len(r.URLs) == 0 {
		return ""
	}
	u := r.URLs[0]
	if j.Action == ActionClose {
		u = r.URLs[len(r.URLs)-1]
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return ""
	}
	return u
}

// waiting reports whether River will still run a job in this state.
func waiting(s rivertype.JobState) bool {
	switch s {
	case rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled:
		return true
	}
	return false
}

// riverJobs finds the newest River job of each delivery, matched on the
// job's arguments (on both engines, ->> reads a JSON field).
func (c *Console) riverJobs(ctx context.Context, as []Args) (map[Args]*rivertype.JobRow, error) {
	out := map[Args]*rivertype.JobRow{}
	if len(as) == 0 {
		return out, nil
	}
	var or []string
	named := river.NamedArgs{}
	for i, a := range as {
		// Each name ends in '_' so that no name is the start of another
		// (@n1 of @n10) when River substitutes them.
		n, r, c, ac := fmt.Sprintf("n%d_", i), fmt.Sprintf("r%d_", i), fmt.Sprintf("c%d_", i), fmt.Sprintf("a%d_", i)
		or = append(or, fmt.Sprintf(`(CAST(args ->> 'notice_id' AS BIGINT) = @%s AND CAST(args ->> 'revision' AS INTEGER) = @%s
			AND args ->> 'channel' = @%s AND args ->> 'action' = @%s)`, n, r, c, ac))
		named[n], named[r], named[c], named[ac] = a.NoticeID, a.Revision, a.Channel, a.Action
	}
	params := river.NewJobListParams().Kinds(Args{}.Kind()).Where(strings.Join(or, " OR "), named).First(min(len(as)*4, 10_000))
	res, err := c.jobs.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("delivery jobs in the queue: %w", err)
	}
	for _, j := range res.Jobs {
		var a Args
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			return nil, fmt.Errorf("delivery job %d: %w", j.ID, err)
		}
		if prev, ok := out[a]; !ok || j.ID > prev.ID {
			out[a] = j
		}
	}
	return out, nil
}

// retryMetadata marks a job queued again by hand after River had removed
// the original (River keeps finished jobs for a day or a week): its first
// attempt is then a retry, so connectors look for an earlier post first.
const retryMetadata = `{"signpost_retried_by_hand":true}`

func retriedByHand(metadata []byte) bool {
	var m struct {
		Retried bool `json:"signpost_retried_by_hand"`
	}
	return json.Unmarshal(metadata, &m) == nil && m.Retried
}

// Retry queues a failed or discarded delivery again through River, as the
// same job (or, if River has removed it, a job with the same arguments),
// so it keeps its idempotency key and the worker's check that nothing
// is posted twice. It is audited as actor. A delivery that was made, was
// superseded or is still waiting is refused with ECONFLICT.
func (c *Console) Retry(ctx context.Context, actor string, a Args) error {
	switch a.Action {
	case ActionPublish, ActionClose, ActionDelete:
	default:
		return signpost.Errorf(signpost.EINVALID, "%q is not a delivery action.", a.Action)
	}
	// River's job is looked up before the transaction: on SQLite the
	// transaction holds the only connection River could read it with.
	jobs, err := c.riverJobs(ctx, []Args{a})
	if err != nil {
		return err
	}
	job := jobs[a]
	if job != nil && waiting(job.State) {
		return signpost.Errorf(signpost.ECONFLICT, "This delivery is already waiting in the queue; it will be tried without being asked.")
	}
	return c.db.UpdateQuietly(ctx, func(tx *store.Tx) error {
		cur, err := tx.DeliveryJob(ctx, a.NoticeID, a.Revision, a.Channel, a.Action)
		if err != nil {
			return err
		}
		switch cur.State {
		case store.DeliveryDelivered:
			return signpost.Errorf(signpost.ECONFLICT, "This delivery was made already: trying it again would post it twice.")
		case store.DeliverySkipped:
			return signpost.Errorf(signpost.ECONFLICT, "A later revision or a retraction replaced this delivery, so there is nothing to send.")
		}
		won, err := tx.RequeueDelivery(ctx, a.NoticeID, a.Revision, a.Channel, a.Action, cur.State)
		if err != nil {
			return err
		}
		if !won {
			return signpost.Errorf(signpost.ECONFLICT, "Someone else has just asked for this delivery to be tried again.")
		}
		if job != nil {
			if _, err := c.jobs.JobRetryTx(ctx, tx, job.ID); err != nil {
				return fmt.Errorf("retry delivery %s: %w", a.Key(), err)
			}
		} else {
			opts := a.InsertOpts()
			opts.Metadata = []byte(retryMetadata)
			if _, err := c.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: a, InsertOpts: &opts}}); err != nil {
				return fmt.Errorf("retry delivery %s: %w", a.Key(), err)
			}
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: AuditRetry, Target: "delivery:" + a.Key(),
			Before: map[string]any{"state": cur.State, "attempts": cur.Attempts, "last_error": cur.LastError},
			After:  map[string]any{"state": store.DeliveryQueued, "key": a.Key()}})
		return err
	})
}
