// Package store keeps Signpost's data in SQLite (the zero-configuration
// default, through the pure-Go modernc.org/sqlite) or PostgreSQL (through
// pgx), with one schema and one query layer. Queries are written once with
// '?' placeholders and rebound for PostgreSQL; migrations are embedded SQL
// files applied in order.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/signpost-uk/signpost"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Engine names the database behind a DB.
type Engine string

// The engines Signpost runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is a handle on the database. It is safe for concurrent use.
type DB struct {
	engine Engine
	// read serves queries; write serves transactions. On SQLite write is a
	// single connection, because SQLite allows one writer at a time and a
	// queue in Go is kinder than SQLITE_BUSY; on PostgreSQL both are the
	// same pool.
	read  *sql.DB
	write *sql.DB
	now   func() time.Time
	dsn   string // kept for clients that need their own connections (River's pgx pool)
}

// Open connects to dsn: a postgres:// or postgresql:// URL means
// PostgreSQL, anything else is a SQLite file path (created if missing). It
// does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if dsn == "" {
		return nil, signpost.Errorf(signpost.EINVALID, "no database given: set --db or SIGNPOST_DB")
	}
	db := &DB{now: time.Now, dsn: dsn}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		pool, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(max(4, 4*runtime.GOMAXPROCS(0)))
		pool.SetMaxIdleConns(max(4, 4*runtime.GOMAXPROCS(0)))
		pool.SetConnMaxIdleTime(5 * time.Minute)
		db.engine, db.read, db.write = Postgres, pool, pool
	} else {
		path := strings.TrimPrefix(dsn, "sqlite:")
		params := "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_time_format=sqlite"
		base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + params
		read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		write, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=cache_size(-65536)")
		if err != nil {
			read.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		write.SetMaxOpenConns(1)
		read.SetMaxOpenConns(max(2, 2*runtime.GOMAXPROCS(0)))
		read.SetMaxIdleConns(max(2, 2*runtime.GOMAXPROCS(0)))
		db.engine, db.read, db.write = SQLite, read, write
	}
	if err := db.write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", db.engine, err)
	}
	return db, nil
}

// Close releases the database.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Engine reports which database this is.
func (db *DB) Engine() Engine { return db.engine }

// Ping checks the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Pools returns the connection pools by name, for pool metrics. On SQLite
// the writer is a separate single connection.
func (db *DB) Pools() map[string]*sql.DB {
	if db.read == db.write {
		return map[string]*sql.DB{string(db.engine): db.read}
	}
	return map[string]*sql.DB{string(db.engine) + "_read": db.read, string(db.engine) + "_write": db.write}
}

// Now is the database's clock, as transactions stamp rows with it.
func (db *DB) Now() time.Time { return db.now().UTC().Truncate(time.Microsecond) }

// SetClock replaces the clock used for timestamps; tests use it.
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// rebind rewrites '?' placeholders as $1, $2, … for PostgreSQL. Queries in
// this package never contain a literal '?' inside a string.
func (db *DB) rebind(q string) string {
	if db.engine != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.rebind(q), args...)
}

func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, db.rebind(q), args...)
}

// Tx is a writing transaction. Every Tx increments the change version when
// it commits, so readers notice the change.
type Tx struct {
	db    *DB
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// Exec runs a statement written with '?' placeholders.
func (tx *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.db.rebind(q), args...)
}

// QueryRow runs a query written with '?' placeholders inside the transaction.
func (tx *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.db.rebind(q), args...)
}

// Query runs a query written with '?' placeholders inside the transaction.
func (tx *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.db.rebind(q), args...)
}

// ExecPrepared runs a statement prepared once per transaction, for the
// millions of rows of a postcode directory.
func (tx *Tx) ExecPrepared(ctx context.Context, q string, args ...any) error {
	st, ok := tx.stmts[q]
	if !ok {
		var err error
		st, err = tx.tx.PrepareContext(ctx, tx.db.rebind(q))
		if err != nil {
			return err
		}
		tx.stmts[q] = st
	}
	_, err := st.ExecContext(ctx, args...)
	return err
}

// Now is the transaction's clock.
func (tx *Tx) Now() time.Time { return tx.db.now().UTC().Truncate(time.Microsecond) }

// Engine reports which database the transaction runs on.
func (tx *Tx) Engine() Engine { return tx.db.engine }

// Update runs fn in one writing transaction: all of it commits or none of it
// does. It bumps the change version, so residents' pages are rebuilt.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	return db.transact(ctx, true, fn)
}

func (db *DB) transact(ctx context.Context, bumpVersion bool, fn func(tx *Tx) error) (err error) {
	sqltx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{db: db, tx: sqltx, stmts: map[string]*sql.Stmt{}}
	defer func() {
		for _, st := range tx.stmts {
			st.Close()
		}
		if err != nil {
			sqltx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if bumpVersion {
		if _, err = tx.Exec(ctx, `UPDATE change_version SET version = version + 1 WHERE id = 1`); err != nil {
			return fmt.Errorf("bump change version: %w", err)
		}
	}
	if err = sqltx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ChangeVersion returns a number that grows with every committed change.
func (db *DB) ChangeVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.queryRow(ctx, `SELECT version FROM change_version WHERE id = 1`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read change version: %w", err)
	}
	return v, nil
}

// Migrate applies every embedded migration not yet applied, in order, each
// in its own transaction. Concurrent callers on PostgreSQL wait on an
// advisory lock, so several servers can start at once.
func (db *DB) Migrate(ctx context.Context) (applied []string, err error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if db.engine == Postgres {
		// A session lock held for the whole run; released when conn closes.
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7234001)`); err != nil {
			return nil, fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7234001)`)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	done := map[int]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		done[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and '_'", base)
		}
		if done[version] {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if err := db.applyMigration(ctx, conn, version, base, db.dialect(string(body))); err != nil {
			return applied, fmt.Errorf("migration %s: %w", base, err)
		}
		applied = append(applied, base)
	}
	return applied, nil
}

func (db *DB) applyMigration(ctx context.Context, conn *sql.Conn, version int, name, body string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range splitStatements(body) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	q := db.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`)
	if _, err := tx.ExecContext(ctx, q, version, name, db.now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	return tx.Commit()
}

// dialect replaces the few words that differ between the engines.
func (db *DB) dialect(sqlText string) string {
	id, ts := "INTEGER PRIMARY KEY", "TIMESTAMP"
	if db.engine == Postgres {
		id, ts = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "TIMESTAMPTZ"
	}
	return strings.NewReplacer("{{id}}", id, "{{timestamp}}", ts).Replace(sqlText)
}

// splitStatements splits a migration on ';' at line ends, dropping comments.
// Migrations are plain DDL with no procedural bodies, so that is enough.
func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
