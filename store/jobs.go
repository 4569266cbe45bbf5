package store

import (
	"context"
	"database/sql"
)

// JobPool is the pool River's tables are written through: on SQLite the
// store's single writing connection, so the queue and the store wait for
// SQLite's one writer in Go rather than failing with SQLITE_BUSY; on
// PostgreSQL the shared pool.
func (db *DB) JobPool() *sql.DB { return db.write }

// SQL is the transaction underneath, so River can insert jobs in the
// same transaction as the change that caused them.
func (tx *Tx) SQL() *sql.Tx { return tx.tx }

// UpdateQuietly runs fn in one writing transaction, like Update, for
// bookkeeping residents never see (delivery state, channel health): it
// leaves the change version alone, so the residents' site does not
// rebuild its snapshot for every post made to a network.
func (db *DB) UpdateQuietly(ctx context.Context, fn func(tx *Tx) error) error {
	return db.transact(ctx, false, fn)
}

// DSN is the address the store was opened with, for clients that need
// connections of their own (River's LISTEN/NOTIFY needs a pgx pool).
func (db *DB) DSN() string { return db.dsn }
