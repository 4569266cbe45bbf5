package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/publish"
	"github.com/signpost-uk/signpost/store"
)

func runNotice(ctx context.Context, args []string, env *environment) error {
	subs := map[string]func(context.Context, []string, *environment) error{
		"create": noticeCreate, "update": noticeUpdate, "close": noticeClose, "retract": noticeRetract, "list": noticeList,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(env.stderr, "Usage: signpost notice create|update|close|retract|list [flags]\n\nRun 'signpost notice <action> --help' for an action's flags.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return signpost.Errorf(signpost.EINVALID, "notice needs an action: create, update, close, retract or list")
	}
	return subs[args[0]](ctx, args[1:], env)
}

// noticeFlags are the fields an author sets; unset fields keep their
// current values on update.
type noticeFlags struct {
	category, status, headline, body, starts, ends, channels *string
	places                                                   stringList
}

func addNoticeFlags(fs *flag.FlagSet) *noticeFlags {
	nf := &noticeFlags{
		category: fs.String("category", "", "schools, roads, waste, transport, libraries, leisure, health or other"),
		status:   fs.String("status", "", "closed, partially-open, delayed, cancelled, gritting-in-progress, gritted, resumed or information"),
		headline: fs.String("headline", "", "one line that says what is happening"),
		body:     fs.String("body", "", "plain text; '-' reads it from standard input"),
		starts:   fs.String("starts", "", "when the disruption starts: 2026-01-06 or 2026-01-06T07:00 (UK time) or RFC 3339"),
		ends:     fs.String("ends", "", "when it is expected to end, in the same forms"),
		channels: fs.String("channels", "", "comma-separated channel names to publish to besides the website (see 'signpost channel list'); empty for none"),
	}
	fs.Var(&nf.places, "place", "affected place, repeatable: school:<URN>, route:<id>, round:<id>, ward:<code> or all")
	return nf
}

func (nf *noticeFlags) apply(fs *flag.FlagSet, in *signpost.NoticeInput, env *environment) error {
	set := map[string]bool{}
	// Visit sees flags set from SIGNPOST_* variables too: parseFlags sets them.
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["category"] {
		in.Category = signpost.Category(strings.ToLower(*nf.category))
	}
	if set["status"] {
		in.Status = signpost.Status(strings.ToLower(*nf.status))
	}
	if set["headline"] {
		in.Headline = *nf.headline
	}
	if set["body"] {
		in.Body = *nf.body
		if in.Body == "-" {
			var b strings.Builder
			buf := make([]byte, 32<<10)
			for b.Len() <= 20000 {
				n, err := env.stdin.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			in.Body = b.String()
		}
	}
	var err error
	if set["starts"] {
		if in.Starts, err = parseWhen("starts", *nf.starts); err != nil {
			return err
		}
	}
	if set["ends"] {
		if in.Ends, err = parseWhen("ends", *nf.ends); err != nil {
			return err
		}
	}
	if set["channels"] {
		in.Channels = nil
		for _, c := range strings.Split(*nf.channels, ",") {
			if c = strings.TrimSpace(c); c != "" {
				in.Channels = append(in.Channels, c)
			}
		}
	}
	if set["place"] {
		in.Places = nil
		for _, p := range nf.places {
			ref, err := signpost.ParsePlaceRef(p)
			if err != nil {
				return err
			}
			in.Places = append(in.Places, ref)
		}
	}
	return nil
}

// parseWhen reads a date or time given by a person; dates and times
// without a zone are UK local time. An empty value clears the field.
func parseWhen(field, s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		london = time.UTC
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, london); err == nil {
			return &t, nil
		}
	}
	return nil, signpost.Errorf(signpost.EINVALID, "--%s %q: use 2026-01-06, 2026-01-06T07:00 or RFC 3339", field, s)
}

func noticeCreate(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("notice create", "--category C --status S --place P [--place P…] --headline H [--body B] [--starts T] [--ends T] [--channels a,b]\n\nPublishes at once, without the approval workflow, and prints the new notice's id. Without\n--channels the notice goes to the channels configured for its category (channel add --categories);\n--channels '' publishes to the website only.", env)
	dsn := addDBFlag(fs)
	nf := addNoticeFlags(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	var in signpost.NoticeInput
	if err := nf.apply(fs, &in, env); err != nil {
		return err
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		if !flagGiven(fs, "channels") {
			// No choice made: the channels configured for the category.
			var err error
			if in.Channels, err = db.DefaultChannels(ctx, in.Category); err != nil {
				return err
			}
		}
		n, err := publish.Change(ctx, db, cliActor(env), audit.Publish, 0, func(tx *store.Tx) (signpost.Notice, error) {
			return tx.CreateNotice(ctx, in)
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(env.stdout, n.ID)
		return nil
	})
}

func noticeUpdate(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("notice update", "<id> [--status S] [--headline H] [--body B] [--place P…] [--starts T] [--ends T] [--channels a,b]\n\nFields not given keep their current values; the change is a new revision.", env)
	dsn := addDBFlag(fs)
	nf := addNoticeFlags(fs)
	id, rest, err := noticeID(args)
	if err != nil {
		fs.Usage()
		return err
	}
	if err := parseFlags(fs, rest, env); err != nil {
		return err
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		cur, err := db.Notice(ctx, id)
		if err != nil {
			return err
		}
		in := signpost.NoticeInput{Category: cur.Category, Status: cur.Status, Places: cur.Places,
			Headline: cur.Headline, Body: cur.Body, Starts: cur.Starts, Ends: cur.Ends, Channels: cur.Channels}
		if err := nf.apply(fs, &in, env); err != nil {
			return err
		}
		n, err := publish.Change(ctx, db, cliActor(env), audit.Publish, id, func(tx *store.Tx) (signpost.Notice, error) {
			return tx.UpdateNotice(ctx, id, in)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "notice %d is now at revision %d\n", n.ID, n.Revision)
		return nil
	})
}

func noticeClose(ctx context.Context, args []string, env *environment) error {
	return noticeAction(ctx, args, env, "notice close", "<id>\n\nMarks the disruption as over, as a new revision.",
		audit.Close, "closed", (*store.Tx).CloseNotice)
}

func noticeRetract(ctx context.Context, args []string, env *environment) error {
	return noticeAction(ctx, args, env, "notice retract",
		"<id>\n\nWithdraws a notice that was wrong, as a new revision: residents' pages, feeds\nand the API stop showing it and its page answers 410 Gone.",
		audit.Retract, "retracted", (*store.Tx).RetractNotice)
}

// noticeAction runs a change that takes only the notice's id (close,
// retract), audited under whoever runs the command.
func noticeAction(ctx context.Context, args []string, env *environment, name, usage string, action audit.Action, done string,
	change func(*store.Tx, context.Context, int64) (signpost.Notice, error)) error {
	fs := newFlagSet(name, usage, env)
	dsn := addDBFlag(fs)
	id, rest, err := noticeID(args)
	if err != nil {
		fs.Usage()
		return err
	}
	if err := parseFlags(fs, rest, env); err != nil {
		return err
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		n, err := publish.Change(ctx, db, cliActor(env), action, id, func(tx *store.Tx) (signpost.Notice, error) {
			return change(tx, ctx, id)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "notice %d %s at revision %d\n", n.ID, done, n.Revision)
		return nil
	})
}

func noticeList(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("notice list", "[--category C] [--all] [--format text|json]", env)
	dsn := addDBFlag(fs)
	category := fs.String("category", "", "only this category")
	all := fs.Bool("all", false, "include closed and retracted notices")
	format := fs.String("format", "text", "text or json")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return signpost.Errorf(signpost.EINVALID, "--format %q: want text or json", *format)
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		ns, err := db.Notices(ctx, signpost.NoticeFilter{Category: signpost.Category(*category), IncludeClosed: *all, IncludeRetracted: *all})
		if err != nil {
			return err
		}
		if *format == "json" {
			enc := json.NewEncoder(env.stdout)
			for _, n := range ns {
				places := make([]string, len(n.Places))
				for i, p := range n.Places {
					places[i] = p.String()
				}
				if err := enc.Encode(map[string]any{"id": n.ID, "revision": n.Revision, "category": n.Category,
					"status": n.Status, "places": places, "headline": n.Headline, "updated": n.UpdatedAt,
					"closed": n.ClosedAt, "retracted": n.RetractedAt, "channels": n.Channels}); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tREV\tCATEGORY\tSTATUS\tUPDATED\tHEADLINE")
		for _, n := range ns {
			status := string(n.Status)
			if n.Closed() {
				status += " (closed)"
			}
			if n.Retracted() {
				status += " (retracted)"
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", n.ID, n.Revision, n.Category, status, n.UpdatedAt.Format("2006-01-02 15:04"), n.Headline)
		}
		return tw.Flush()
	})
}

// noticeID takes the leading id argument, so flags may follow it.
func noticeID(args []string) (int64, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return 0, nil, signpost.Errorf(signpost.EINVALID, "give the notice id first")
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, signpost.Errorf(signpost.EINVALID, "%q is not a notice id", args[0])
	}
	return id, args[1:], nil
}

func withDB(ctx context.Context, dsn string, fn func(*store.DB) error) error {
	db, err := openDB(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}
