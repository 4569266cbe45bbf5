// Package jobs runs Signpost's durable background work on River: one
// client per `signpost serve` process, on the same database as everything
// else (riversqlite on the SQLite file, riverpgxv5 on PostgreSQL, where
// several processes share the queue). Features register their workers on
// one *river.Workers before the queue starts, through a small AddWorkers
// function they export, and insert jobs with Insert or, so that a job
// exists exactly when the change that caused it commits, InsertManyTx
// inside a store transaction.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/signpost-uk/signpost/store"
)

// Config says how the queue runs.
type Config struct {
	// Workers holds every job kind this process works; features add
	// theirs before Open.
	Workers *river.Workers
	// Queues maps each queue to the most jobs worked from it at once in
	// this process. River's default queue is always worked.
	Queues map[string]int
	// MaxWorkers is the default queue's limit; default 10.
	MaxWorkers int
	// PollInterval is how often to look for jobs that no notification
	// announced (SQLite has none; on PostgreSQL it is a fallback);
	// default one second.
	PollInterval time.Duration
	// RescueAfter is how long a job may stay "running" before River
	// takes it for dead (its process was killed) and runs it again.
	// Default five minutes; it must exceed the longest job's timeout.
	RescueAfter time.Duration
	// JobTimeout bounds one attempt of a job without its own Timeout;
	// default one minute.
	JobTimeout time.Duration
	Logger     *slog.Logger
}

// Queue is the running job queue of one process.
type Queue struct {
	// inserter writes jobs through the store's database/sql pool, so
	// InsertManyTx can join a store transaction on either engine.
	inserter *river.Client[*sql.Tx]
	// worker runs jobs: the same client as inserter on SQLite; a pgx
	// client with LISTEN/NOTIFY on PostgreSQL.
	start     func(context.Context) error
	stop      func(context.Context) error
	hardStop  func(context.Context) error
	logger    *slog.Logger
	subscribe func(kinds ...river.EventKind) (<-chan *river.Event, func())
	closePool func()
}

// Open migrates River's tables and builds the queue; Start runs it. On
// PostgreSQL the worker gets its own pgx pool (River's LISTEN/NOTIFY needs pgx), on SQLite River shares
// the store's single writing connection, so River and the store queue for
// SQLite's one writer in Go instead of failing with SQLITE_BUSY.
func Open(ctx context.Context, db *store.DB, cfg Config) (*Queue, error) {
	if cfg.Workers == nil {
		cfg.Workers = river.NewWorkers()
	}
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = 10
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = 5 * time.Minute
	}
	if cfg.JobTimeout <= 0 {
		// River rescues a job only after it could have timed out.
		cfg.JobTimeout = min(time.Minute, cfg.RescueAfter)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}}
	for name, n := range cfg.Queues {
		queues[name] = river.QueueConfig{MaxWorkers: max(n, 1)}
	}
	rc := &river.Config{
		Queues:            queues,
		Workers:           cfg.Workers,
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     min(cfg.PollInterval/2, 100*time.Millisecond),
		JobTimeout:        cfg.JobTimeout,
		// A process killed mid-job leaves the job "running"; River's
		// default waits an hour before rescuing it, far too long for a
		// snow-day notice.
		RescueStuckJobsAfter: cfg.RescueAfter,
		Logger:               riverLogger(cfg.Logger),
	}
	q := &Queue{closePool: func() {}, logger: cfg.Logger}
	pool := db.JobPool()
	switch db.Engine() {
	case store.SQLite:
		driver := riversqlite.New(pool)
		if err := migrate(ctx, driver, cfg.Logger); err != nil {
			return nil, err
		}
		// One serve process runs on a SQLite file, so a leader recorded
		// now is a process that was killed. Its lease would keep this
		// one from leading (and so from scheduling retries and rescuing
		// the jobs it left running) until it expired.
		if _, err := pool.ExecContext(ctx, `DELETE FROM river_leader`); err != nil {
			return nil, fmt.Errorf("job queue: clear a dead leader: %w", err)
		}
		c, err := river.NewClient(driver, rc)
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		q.inserter, q.start, q.stop, q.hardStop, q.subscribe = c, c.Start, c.Stop, c.StopAndCancel, c.Subscribe
	case store.Postgres:
		pcfg, err := pgxpool.ParseConfig(db.DSN())
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		pgx, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, fmt.Errorf("job queue: connect: %w", err)
		}
		driver := riverpgxv5.New(pgx)
		if err := migrate(ctx, driver, cfg.Logger); err != nil {
			pgx.Close()
			return nil, err
		}
		w, err := river.NewClient(driver, rc)
		if err != nil {
			pgx.Close()
			return nil, fmt.Errorf("job queue: %w", err)
		}
		// Inserting needs no workers; River checks kinds only when
		// Workers is set, and this client must not work jobs.
		ins, err := river.NewClient(riverdatabasesql.New(pool), &river.Config{Logger: rc.Logger})
		if err != nil {
			pgx.Close()
			return nil, fmt.Errorf("job queue: %w", err)
		}
		q.inserter, q.start, q.stop, q.hardStop, q.subscribe, q.closePool = ins, w.Start, w.Stop, w.StopAndCancel, w.Subscribe, pgx.Close
	default:
		return nil, fmt.Errorf("job queue: unknown engine %q", db.Engine())
	}
	return q, nil
}

// migrate brings River's tables up to date. On PostgreSQL River takes
// its own lock, so several processes can start at once.
func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], logger *slog.Logger) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: riverLogger(logger)})
	if err != nil {
		return fmt.Errorf("job queue: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue: migrate: %w", err)
	}
	return nil
}

// riverLogger keeps River's routine chatter out of the log unless
// something goes wrong.
func riverLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFloor{l.Handler(), slog.LevelWarn})
}

type levelFloor struct {
	slog.Handler
	floor slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= h.floor && h.Handler.Enabled(ctx, lv)
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(a), h.floor}
}

func (h levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(n), h.floor}
}

// Start begins working jobs; it returns once the client runs.
func (q *Queue) Start(ctx context.Context) error { return q.start(ctx) }

// Stop lets jobs in flight finish (until ctx ends), then stops. Jobs not
// finished stay in the queue for the next process.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.stop(ctx)
	if err == nil {
		q.closePool()
	}
	return err
}

func (q *Queue) stopAndCancel(ctx context.Context) error {
	err := q.hardStop(ctx)
	q.closePool()
	return err
}

// Run starts the queue and stops it when ctx ends, letting jobs in flight
// finish for up to grace and then cancelling them; cancelled jobs run
// again in the next process.
func (q *Queue) Run(ctx context.Context, grace time.Duration) error {
	// River hard-stops when its Start context ends; ending is Stop's job.
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("job queue: start: %w", err)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := q.Stop(sctx); err != nil {
		q.logger.Warn("job queue: jobs cancelled at shutdown will run again in the next process", "err", err)
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return q.stopAndCancel(hctx)
	}
	return nil
}

// Subscribe reports job events of this process's worker (tests use it).
func (q *Queue) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return q.subscribe(kinds...)
}

// Insert queues one job.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return q.inserter.Insert(ctx, args, opts)
}

// InsertMany queues several jobs in one transaction.
func (q *Queue) InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	return q.inserter.InsertMany(ctx, params)
}

// InsertManyTx queues jobs inside a store transaction: they exist if and
// only if it commits.
func (q *Queue) InsertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	return q.inserter.InsertManyTx(ctx, tx.SQL(), params)
}

// JobList lists jobs; the console reads delivery jobs' states with it.
func (q *Queue) JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error) {
	return q.inserter.JobList(ctx, params)
}

// JobRetryTx makes a finished job (cancelled, discarded, even completed)
// available to run again at once, inside a store transaction: the same
// job, with its arguments and count of attempts.
func (q *Queue) JobRetryTx(ctx context.Context, tx *store.Tx, id int64) (*rivertype.JobRow, error) {
	return q.inserter.JobRetryTx(ctx, tx.SQL(), id)
}
