package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/store"
)

func runAudit(ctx context.Context, args []string, env *environment) error {
	subs := map[string]func(context.Context, []string, *environment) error{"verify": auditVerify, "list": auditList}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(env.stderr, "Usage: signpost audit verify|list [flags]\n\nRun 'signpost audit <action> --help' for an action's flags.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return signpost.Errorf(signpost.EINVALID, "audit needs an action: verify or list")
	}
	return subs[args[0]](ctx, args[1:], env)
}

func auditVerify(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("audit verify", "\n\nChecks the audit log's hash chain from the first entry to the newest and\n"+
		"reports the first broken link. Exits 1 if the log has been altered. Note the\n"+
		"head hash it prints somewhere safe: a later run ending at the same entry must\n"+
		"show the same hash, or the whole chain was rewritten.", env)
	dsn := addDBFlag(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		rep, err := audit.Verify(ctx, db)
		if err != nil {
			return err
		}
		if rep.Broken != nil {
			return signpost.Errorf(signpost.ECONFLICT, "%s (%d entries before it are intact)", rep.Broken.Error(), rep.Entries)
		}
		fmt.Fprintf(env.stdout, "audit log intact: %d entries, head %s\n", rep.Entries, rep.HeadHash)
		return nil
	})
}

func auditList(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("audit list", "[--since T] [--actor A] [--action X] [--target T] [--after-seq N] [--limit N] [--format text|json]", env)
	dsn := addDBFlag(fs)
	since := fs.String("since", "", "only entries from this time: 2026-01-06, 2026-01-06T07:00 (UK time) or RFC 3339")
	actor := fs.String("actor", "", "only entries by this actor, e.g. user:jo@council.gov.uk or cli:root")
	action := fs.String("action", "", "only this action, e.g. sign-in-failed or role-change")
	target := fs.String("target", "", "only entries about this target, e.g. notice:42")
	after := fs.Int64("after-seq", 0, "only entries after this number, to page through a long log")
	limit := fs.Int("limit", 1000, "at most this many entries")
	format := fs.String("format", "text", "text, or json (one entry a line, with before and after)")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return signpost.Errorf(signpost.EINVALID, "--format %q: want text or json", *format)
	}
	if *limit < 1 || *limit > 100000 {
		return signpost.Errorf(signpost.EINVALID, "--limit %d: want 1 to 100000", *limit)
	}
	from, err := parseWhen("since", *since)
	if err != nil {
		return err
	}
	f := audit.Filter{AfterSeq: *after, Actor: *actor, Action: *action, Target: *target, Limit: *limit}
	if from != nil {
		f.Since = *from
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		entries, err := audit.List(ctx, db, f)
		if err != nil {
			return err
		}
		if *format == "json" {
			enc := json.NewEncoder(env.stdout)
			for _, e := range entries {
				if err := enc.Encode(e); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tAT (UTC)\tACTOR\tACTION\tTARGET")
		for _, e := range entries {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.Seq, e.At.UTC().Format(time.DateTime), e.Actor, e.Action, e.Target)
		}
		return tw.Flush()
	})
}
