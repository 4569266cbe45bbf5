package main

import (
	"context"
	"flag"

	"github.com/signpost-uk/signpost/store"
)

// defaultDB is the SQLite file used when neither --db nor SIGNPOST_DB says
// otherwise, so a fresh machine needs no configuration.
const defaultDB = "signpost.db"

func addDBFlag(fs *flag.FlagSet) *string {
	return fs.String("db", defaultDB, "database: a SQLite file path, or a postgres:// URL")
}

// openDB opens and migrates the database.
func openDB(ctx context.Context, dsn string) (*store.DB, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
