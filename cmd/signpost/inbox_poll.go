package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/inbox/sources"
	"github.com/signpost-uk/signpost/store"
)

func runInbox(ctx context.Context, args []string, env *environment) error {
	if len(args) > 0 {
		switch args[0] {
		case "purge":
			return runInboxPurge(ctx, args[1:], env)
		case "export":
			return runInboxExport(ctx, args[1:], env)
		}
	}
	if len(args) == 0 || args[0] != "poll" {
		fmt.Fprintln(env.stderr, "Usage: signpost inbox poll|purge|export\n\n"+
			"  poll   read new mentions, replies, messages and e-mail from every channel that has them\n"+
			"         (Mastodon, Bluesky, e-mail channels with --imap) into the inbox; serve does this too\n"+
			"  purge  --older-than 8760h [--anonymise]: apply the retention period now (serve does it hourly with --inbox-retention)\n"+
			"  export --who HANDLE-OR-ADDRESS: everything held about a resident, as JSON (audited)")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return signpost.Errorf(signpost.EINVALID, "inbox needs an action: poll, purge or export")
	}
	fs := newFlagSet("inbox poll", "[--once] [--interval 1m] [--allow-net CIDRS]", env)
	dsn := addDBFlag(fs)
	once := fs.Bool("once", false, "poll every source once, print what each did, and exit")
	interval := fs.Duration("interval", time.Minute, "without --once: how often to poll")
	allowNet := fs.String("allow-net", "", "private or loopback ranges channels may reach, comma-separated CIDRs")
	if err := parseFlags(fs, args[1:], env); err != nil {
		return err
	}
	if *interval <= 0 {
		return signpost.Errorf(signpost.EINVALID, "--interval must be positive")
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return withDB(ctx, *dsn, func(db *store.DB) error {
		conns, _, err := openChannels(db, env, logger, *allowNet)
		if err != nil {
			return err
		}
		r := &sources.Runner{Channels: db, Connectors: conns, Sink: db, Cursors: db, Health: db, Interval: *interval, Logger: logger}
		if !*once {
			return r.Run(ctx)
		}
		results, err := r.PollOnce(ctx)
		if err != nil {
			return err
		}
		failed := 0
		for _, res := range results {
			if res.Err != nil {
				failed++
				fmt.Fprintf(env.stdout, "%s: failed: %v\n", res.Source, res.Err)
				continue
			}
			fmt.Fprintf(env.stdout, "%s: read %d, new %d, skipped %d\n", res.Source, res.Read, res.New, res.Skipped)
		}
		if len(results) == 0 {
			fmt.Fprintln(env.stdout, "no channel has anything to poll (add a Mastodon or Bluesky channel, or an e-mail channel with --imap)")
		}
		if failed > 0 {
			return signpost.Errorf(signpost.EUNAVAILABLE, "%d of %d sources failed", failed, len(results))
		}
		return nil
	})
}

// facebookHook receives the council's Facebook app's Page webhook at
// /hooks/facebook when the app secret is set. Both values come only from
// the environment, never flags, so they stay out of process listings:
// SIGNPOST_FACEBOOK_APP_SECRET signs deliveries, and
// SIGNPOST_FACEBOOK_VERIFY_TOKEN is the token typed into the app's
// webhook settings.
func facebookHook(env *environment, db *store.DB, logger *slog.Logger) *sources.FacebookHook {
	secret := env.getenv("SIGNPOST_FACEBOOK_APP_SECRET")
	if secret == "" {
		return nil
	}
	return &sources.FacebookHook{AppSecret: []byte(secret), VerifyToken: env.getenv("SIGNPOST_FACEBOOK_VERIFY_TOKEN"),
		Channels: db, Sink: db, Logger: logger}
}
