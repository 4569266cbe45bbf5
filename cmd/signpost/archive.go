package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/archive"
	"github.com/signpost-uk/signpost/store"
)

func runArchive(ctx context.Context, args []string, env *environment) error {
	subs := map[string]func(context.Context, []string, *environment) error{
		"export": archiveExport, "purge": archivePurge, "retention": archiveRetention,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(env.stderr, "Usage: signpost archive export|purge|retention [flags]\n\nRun 'signpost archive <action> --help' for an action's flags.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return signpost.Errorf(signpost.EINVALID, "archive needs an action: export, purge or retention")
	}
	return subs[args[0]](ctx, args[1:], env)
}

func archiveExport(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("archive export", "--format csv|jsonl [--from DATE] [--to DATE] [--text T] [--author A] [--category C] [--channel C]\n\n"+
		"Writes every published revision matching the search to standard output,\n"+
		"newest first, and records the export in the audit log. Dates are UK calendar\n"+
		"days (2026-01-27 or 27/1/2026); --to includes its whole day.", env)
	dsn := addDBFlag(fs)
	format := fs.String("format", "csv", "csv or jsonl")
	from := fs.String("from", "", "revisions published on or after this day")
	to := fs.String("to", "", "revisions published on or before this day")
	text := fs.String("text", "", "text in the headline or body, ignoring case")
	author := fs.String("author", "", "who published it: an e-mail address or an audit actor such as cli:root")
	category := fs.String("category", "", "one category, e.g. schools")
	channel := fs.String("channel", "", "delivered to this channel (its name in 'signpost channel list')")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	f, err := archive.ParseFormat(*format)
	if err != nil {
		return err
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		return err
	}
	start, end, err := archive.DayRange(*from, *to, london)
	if err != nil {
		return err
	}
	q := archive.Query{From: start, To: end, Text: *text, Author: *author, Category: *category, Channel: *channel}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		n, err := archive.New(db).Export(ctx, cliActor(env), q, f, env.stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stderr, "exported %d revisions\n", n)
		return nil
	})
}

func archivePurge(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("archive purge", "[--dry-run]\n\n"+
		"Deletes notices closed or retracted, and unchanged, for longer than the\n"+
		"retention period ('signpost archive retention'), with their revisions and\n"+
		"delivery records, and records the purge (counts and cutoff) in the audit log.\n"+
		"The audit log itself is kept whole.", env)
	dsn := addDBFlag(fs)
	dry := fs.Bool("dry-run", false, "only count what would be purged")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		rep, err := archive.New(db).Purge(ctx, cliActor(env), *dry)
		if err != nil {
			return err
		}
		if rep.KeepDays == 0 {
			fmt.Fprintln(env.stdout, "retention is not set (everything is kept): nothing purged")
			return nil
		}
		verb := "purged"
		if rep.DryRun {
			verb = "would purge"
		}
		fmt.Fprintf(env.stdout, "%s %d notices (%d revisions, %d delivery records) finished before %s (kept for %d days)\n",
			verb, rep.Notices, rep.Revisions, rep.Deliveries, rep.Cutoff.Format(time.RFC3339), rep.KeepDays)
		return nil
	})
}

func archiveRetention(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("archive retention", "[--keep-days N]\n\n"+
		"Shows, or with --keep-days sets, how many days the archive keeps a notice\n"+
		"after it was closed or retracted (0 keeps everything).", env)
	dsn := addDBFlag(fs)
	keep := fs.Int("keep-days", -1, "days to keep finished notices; 0 keeps everything")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		svc := archive.New(db)
		if *keep >= 0 {
			if err := svc.SetRetention(ctx, cliActor(env), *keep); err != nil {
				return err
			}
		}
		r, err := svc.Retention(ctx)
		if err != nil {
			return err
		}
		if r.KeepDays == 0 {
			fmt.Fprintln(env.stdout, "retention: everything is kept")
			return nil
		}
		fmt.Fprintf(env.stdout, "retention: finished notices are kept for %d days\n", r.KeepDays)
		return nil
	})
}
