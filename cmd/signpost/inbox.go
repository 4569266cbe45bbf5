package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/inbox/desk"
	"github.com/signpost-uk/signpost/jobs"
	"github.com/signpost-uk/signpost/risk"
	"github.com/signpost-uk/signpost/store"
)

// inboxFlags are serve's settings for the residents' inbox.
type inboxFlags struct {
	smtpAddr, smtpUser, mailFrom, dutyOfficer *string
	triageEvery, retention                    *time.Duration
	anonymise                                 *bool
}

func addInboxFlags(fs *flag.FlagSet) *inboxFlags {
	return &inboxFlags{
		smtpAddr:    fs.String("smtp-addr", "", "mail submission server (host:port, STARTTLS) for duty-officer alerts, answers to the enquiry form and residents' e-mail updates; password in SIGNPOST_SMTP_PASSWORD"),
		smtpUser:    fs.String("smtp-username", "", "SMTP username"),
		mailFrom:    fs.String("mail-from", "", `sender of the inbox's e-mail, e.g. "Northdale Council <contact@northdale.gov.uk>"`),
		dutyOfficer: fs.String("duty-officer", "", "address e-mailed at once when a resident's message suggests someone is at risk"),
		triageEvery: fs.Duration("inbox-triage-interval", 2*time.Second, "how often to triage new inbox messages"),
		retention:   fs.Duration("inbox-retention", 0, "delete (or with --inbox-anonymise, anonymise) conversations not open whose last message is older than this, e.g. 8760h; 0 keeps them"),
		anonymise:   fs.Bool("inbox-anonymise", false, "anonymise rather than delete conversations past the retention period"),
	}
}

// mailer is the inbox's SMTP sender, or nil when none is configured.
func (f *inboxFlags) mailer(env *environment) (desk.Mailer, error) {
	if *f.smtpAddr == "" {
		if *f.dutyOfficer != "" {
			return nil, signpost.Errorf(signpost.EINVALID, "--duty-officer needs --smtp-addr and --mail-from to send alerts")
		}
		return nil, nil
	}
	if *f.mailFrom == "" {
		return nil, signpost.Errorf(signpost.EINVALID, "--smtp-addr needs --mail-from")
	}
	return &desk.SMTP{Addr: *f.smtpAddr, Username: *f.smtpUser, Password: env.getenv("SIGNPOST_SMTP_PASSWORD"), From: *f.mailFrom}, nil
}

// openInbox builds the inbox's desk on the serve command's job queue.
func openInbox(db *store.DB, screener *risk.Screener, q *jobs.Queue, mail desk.Mailer, f *inboxFlags, baseURL string, loc *time.Location, logger *slog.Logger) (*desk.Desk, error) {
	if *f.triageEvery <= 0 {
		return nil, signpost.Errorf(signpost.EINVALID, "--inbox-triage-interval must be positive")
	}
	cfg := desk.Config{DB: db, Places: db, Notices: db, Screener: screener, Mailer: mail, DutyOfficer: *f.dutyOfficer,
		BaseURL: baseURL, Location: loc, Logger: logger}
	if q != nil {
		cfg.Enqueue = desk.EnqueueWith(q)
	}
	return desk.New(cfg)
}

// runInboxPurge applies the retention period now.
func runInboxPurge(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("inbox purge", "--older-than 8760h [--anonymise]", env)
	dsn := addDBFlag(fs)
	older := fs.Duration("older-than", 0, "the retention period: conversations not open whose last message is older than this go")
	anonymise := fs.Bool("anonymise", false, "anonymise rather than delete")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withInboxDesk(ctx, *dsn, env, func(d *desk.Desk) error {
		pc, err := d.Purge(ctx, cliActor(env), *older, *anonymise, time.Now())
		if err != nil {
			return err
		}
		verb := "deleted"
		if *anonymise {
			verb = "anonymised"
		}
		fmt.Fprintf(env.stdout, "%s %d conversations (%d messages, %d replies, %d notes)\n", verb, pc.Conversations, pc.Messages, pc.Replies, pc.Notes)
		return nil
	})
}

// runInboxExport writes everything held about a handle or address as
// JSON, for a subject-access request; the export is audited.
func runInboxExport(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("inbox export", "--who HANDLE-OR-ADDRESS", env)
	dsn := addDBFlag(fs)
	who := fs.String("who", "", "the resident's handle or e-mail address")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withInboxDesk(ctx, *dsn, env, func(d *desk.Desk) error {
		data, err := d.Export(ctx, cliActor(env), *who)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(data)
	})
}

func withInboxDesk(ctx context.Context, dsn string, env *environment, fn func(*desk.Desk) error) error {
	screener, err := risk.New(nil)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return withDB(ctx, dsn, func(db *store.DB) error {
		d, err := desk.New(desk.Config{DB: db, Places: db, Notices: db, Screener: screener, Logger: logger})
		if err != nil {
			return err
		}
		return fn(d)
	})
}
