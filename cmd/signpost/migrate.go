package main

import (
	"context"
	"fmt"

	"github.com/signpost-uk/signpost/store"
)

func runMigrate(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("migrate", "[--db DSN]", env)
	dsn := addDBFlag(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.stdout, "database is up to date")
	}
	for _, name := range applied {
		fmt.Fprintln(env.stdout, "applied", name)
	}
	return nil
}
