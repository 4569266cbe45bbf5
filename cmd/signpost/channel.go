package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/channel/manage"
	"github.com/signpost-uk/signpost/netsafe"
	"github.com/signpost-uk/signpost/secret"
	"github.com/signpost-uk/signpost/store"
)

func runChannel(ctx context.Context, args []string, env *environment) error {
	subs := map[string]func(context.Context, []string, *environment) error{
		"add": channelAdd, "list": channelList, "test": channelTest, "credentials": channelCredentials, "remove": channelRemove, "rotate": channelRotate,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(env.stderr, "Usage: signpost channel add|list|test|credentials|remove|rotate [flags]\n\n"+
			"  add <type> --name NAME …   add a channel: mastodon, bluesky, facebook, x, email or webhook\n"+
			"  list                       list channels and their health (never their credentials)\n"+
			"  test NAME                  check a channel's credentials without posting\n"+
			"  credentials NAME …         replace a channel's credentials (a revoked or expired token) and check them\n"+
			"  remove NAME                delete a channel\n"+
			"  rotate                     re-seal every channel's credentials with the current SIGNPOST_SECRET_KEY\n\n"+
			"Credentials are read from an environment variable named by --token-env, or from standard input\n"+
			"with --token-stdin, never from the command line, and are stored encrypted with SIGNPOST_SECRET_KEY.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return signpost.Errorf(signpost.EINVALID, "channel needs an action: add, list, test, credentials, remove or rotate")
	}
	return subs[args[0]](ctx, args[1:], env)
}

func channelAdd(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("channel add", "<mastodon|bluesky|facebook|x|email|webhook> --name NAME [--token-env VAR | --token-stdin] [--categories C,…] [type flags]\n\n"+
		"  mastodon: --server URL [--visibility public|unlisted]      token: access token\n"+
		"  bluesky:  --identifier HANDLE [--service PDS-URL]          token: app password\n"+
		"  facebook: --page-id ID                                     token: Page access token\n"+
		"  x:        (no flags)                                       token: OAuth 2.0 user access token\n"+
		"  email:    --smtp HOST:PORT --from ADDRESS [--username U] [--site-url URL] [--imap HOST:PORT [--mailbox FOLDER]]   token: SMTP (and IMAP) password\n"+
		"    or:     --transport notify --notify-template ID [--notify-reply-to ID] --site-url https://…   token: GOV.UK Notify API key\n"+
		"            (the template's subject is ((subject)) and its body ((body)); Signpost fills both in)\n"+
		"  webhook:  --url URL                                        token: signing secret (generated and printed if none given)", env)
	dsn := addDBFlag(fs)
	name := fs.String("name", "", "a short name for the channel, e.g. mastodon-main")
	tf := addTokenFlags(fs, "the token or password")
	allow := fs.String("allow-net", "", "private or loopback ranges the channel may reach (e.g. an intranet webhook), as for serve")
	// One flag per setting of every type, named as the staff console's
	// form fields are.
	for _, typ := range channel.Types {
		for _, f := range manage.Fields(typ) {
			if f.Name != manage.TokenField && fs.Lookup(f.Flag()) == nil {
				fs.String(f.Flag(), "", string(typ)+": "+f.Hint)
			}
		}
	}
	notifyAPI := fs.String("notify-api-url", "", "email through Notify: API base URL (testing only)")
	var categories stringList
	fs.Var(&categories, "categories", "notice categories this channel publishes by default, comma-separated (e.g. schools,roads)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fs.Usage()
			return flag.ErrHelp
		}
		fs.Usage()
		return signpost.Errorf(signpost.EINVALID, "give the channel type first: mastodon, bluesky, facebook, x, email or webhook")
	}
	typ := channel.Type(strings.ToLower(args[0]))
	if !typ.Valid() {
		return signpost.Errorf(signpost.EINVALID, "unknown channel type %q: want mastodon, bluesky, facebook, x, email or webhook", args[0])
	}
	if err := parseFlags(fs, args[1:], env); err != nil {
		return err
	}
	token, err := tf.read(fs, env)
	if err != nil {
		return err
	}
	if *name == "" {
		return signpost.Errorf(signpost.EINVALID, "--name is required")
	}
	keys, err := secret.FromEnv(env.getenv)
	if err != nil {
		return err
	}
	if token == "" && typ != channel.Webhook {
		return signpost.Errorf(signpost.EINVALID, "a %s channel needs a token: name the variable holding it with --token-env, or pipe it in with --token-stdin", typ)
	}
	nc := manage.NewChannel{Name: *name, Type: typ, Token: token, Settings: map[string]string{}}
	for _, f := range manage.Fields(typ) {
		if fl := fs.Lookup(f.Flag()); fl != nil && f.Name != manage.TokenField {
			nc.Settings[f.Name] = fl.Value.String()
		}
	}
	nc.Settings[manage.NotifyAPI] = *notifyAPI
	for _, c := range categories {
		nc.Categories = append(nc.Categories, signpost.Category(strings.ToLower(c)))
	}
	return withChannelService(ctx, *dsn, env, keys, *allow, func(svc *manage.Service) error {
		added, err := svc.Add(ctx, cliActor(env), nc)
		if ps, ok := err.(manage.Problems); ok {
			return cliProblems(ps)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "added %s channel %q; check it with: signpost channel test %s\n", typ, *name, *name)
		if added.Secret != "" {
			fmt.Fprintf(env.stdout, "webhook signing secret (give it to the receiver; it is not shown again): %s\n", added.Secret)
		}
		return nil
	})
}

// cliProblems names each problem by its flag, which a field's name
// decides whatever the channel's type.
func cliProblems(ps manage.Problems) error {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = "--" + manage.Field{Name: p.Field}.Flag() + ": " + p.Message
	}
	return signpost.Errorf(signpost.EINVALID, "%s", strings.Join(msgs, "; "))
}

// channelService manages channels with the command line's keys (nil for
// actions that need none) and network allowlist.
func channelService(db *store.DB, env *environment, keys *secret.Keyring, allowNet string) (*manage.Service, error) {
	allow, err := netsafe.ParseAllow(allowNet)
	if err != nil {
		return nil, signpost.Errorf(signpost.EINVALID, "--allow-net: %v", err)
	}
	cfg := manage.Config{DB: db, Net: netsafe.Options{Allow: allow, Timeout: 30 * time.Second,
		Logger: slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}}
	if keys != nil {
		cfg.Keys = keys
	}
	return manage.New(cfg), nil
}

// withChannelService runs fn with a Service over the database at dsn.
func withChannelService(ctx context.Context, dsn string, env *environment, keys *secret.Keyring, allowNet string, fn func(*manage.Service) error) error {
	return withDB(ctx, dsn, func(db *store.DB) error {
		svc, err := channelService(db, env, keys, allowNet)
		if err != nil {
			return err
		}
		return fn(svc)
	})
}

// tokenFlags are how a command takes a secret: from an environment
// variable or standard input, never from the command line, where it would
// land in shell history and process listings.
type tokenFlags struct {
	env   *string
	stdin *bool
}

func addTokenFlags(fs *flag.FlagSet, what string) tokenFlags {
	return tokenFlags{
		env:   fs.String("token-env", "", "name of the environment variable holding "+what),
		stdin: fs.Bool("token-stdin", false, "read "+what+" from standard input"),
	}
}

// read refuses arguments left after the flags (most likely a token typed
// on the command line, so not repeated in the error), then reads the
// token from the named variable or standard input; "" if neither is given.
func (tf tokenFlags) read(fs *flag.FlagSet, env *environment) (string, error) {
	if fs.NArg() > 0 {
		return "", signpost.Errorf(signpost.EINVALID, "unexpected argument after the flags: tokens are never taken from the command line; use --token-env or --token-stdin")
	}
	varName, stdin := *tf.env, *tf.stdin
	switch {
	case varName != "" && stdin:
		return "", signpost.Errorf(signpost.EINVALID, "give either --token-env or --token-stdin, not both")
	case varName != "":
		v := strings.TrimSpace(env.getenv(varName))
		if v == "" {
			return "", signpost.Errorf(signpost.EINVALID, "--token-env %s: that variable is empty or not set", varName)
		}
		return v, nil
	case stdin:
		line, err := bufio.NewReader(io.LimitReader(env.stdin, 64<<10)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read token from standard input: %w", err)
		}
		if line = strings.TrimSpace(line); line == "" {
			return "", signpost.Errorf(signpost.EINVALID, "--token-stdin: standard input was empty")
		}
		return line, nil
	}
	return "", nil
}

func channelList(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("channel list", "[--format text|json]", env)
	dsn := addDBFlag(fs)
	format := fs.String("format", "text", "text or json")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return signpost.Errorf(signpost.EINVALID, "--format %q: want text or json", *format)
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		cs, err := db.Channels(ctx)
		if err != nil {
			return err
		}
		if *format == "json" {
			enc := json.NewEncoder(env.stdout)
			for _, c := range cs {
				if err := enc.Encode(map[string]any{"name": c.Name, "type": c.Type, "config": c.Config, "healthy": c.Healthy,
					"last_error": c.LastError, "checked_at": c.CheckedAt}); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tTYPE\tDEFAULT FOR\tHEALTH\tCHECKED\tLAST ERROR")
		for _, c := range cs {
			var cfg delivery.ChannelConfig
			json.Unmarshal(c.Config, &cfg) // written by channel add; a bad one lists no categories
			defaults := "-"
			if len(cfg.Categories) > 0 {
				defaults = fmt.Sprint(cfg.Categories)
				defaults = strings.Trim(strings.ReplaceAll(defaults, " ", ","), "[]")
			}
			health, checked := "ok", "never"
			if !c.Healthy {
				health = "UNHEALTHY"
			}
			if c.CheckedAt != nil {
				checked = c.CheckedAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Type, defaults, health, checked, c.LastError)
		}
		return tw.Flush()
	})
}

func channelTest(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("channel test", "NAME [--allow-net CIDR,…]\n\nChecks the channel's credentials without posting and records the result.", env)
	dsn := addDBFlag(fs)
	allow := fs.String("allow-net", "", "private or loopback ranges channels may reach (e.g. an intranet webhook); logged when used")
	name, err := parseChannelArgs(fs, args, env)
	if err != nil {
		return err
	}
	keys, err := secret.FromEnv(env.getenv)
	if err != nil {
		return err
	}
	return withChannelService(ctx, *dsn, env, keys, *allow, func(svc *manage.Service) error {
		res, err := svc.Test(ctx, cliActor(env), name)
		if err != nil {
			return err
		}
		if !res.Healthy {
			return signpost.Errorf(signpost.EUNAVAILABLE, "channel %s failed its check: %s", name, res.Message)
		}
		fmt.Fprintf(env.stdout, "channel %s: ok\n", name)
		return nil
	})
}

func channelCredentials(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("channel credentials", "NAME (--token-env VAR | --token-stdin) [--allow-net CIDR,…]\n\n"+
		"Replaces the channel's credentials, when the network has revoked or expired them, and checks the\n"+
		"channel with the new ones (a channel that passes works again). Deliveries waiting for it are kept.", env)
	dsn := addDBFlag(fs)
	tf := addTokenFlags(fs, "the new token or password")
	allow := fs.String("allow-net", "", "private or loopback ranges the channel may reach (e.g. an intranet webhook), as for serve")
	name, err := parseChannelArgs(fs, args, env)
	if err != nil {
		return err
	}
	token, err := tf.read(fs, env)
	if err != nil {
		return err
	}
	keys, err := secret.FromEnv(env.getenv)
	if err != nil {
		return err
	}
	if token == "" {
		return signpost.Errorf(signpost.EINVALID, "give the new token: name the variable holding it with --token-env, or pipe it in with --token-stdin")
	}
	return withChannelService(ctx, *dsn, env, keys, *allow, func(svc *manage.Service) error {
		res, err := svc.ReplaceCredentials(ctx, cliActor(env), name, map[string]string{manage.TokenField: token})
		if ps, ok := err.(manage.Problems); ok {
			return cliProblems(ps)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "replaced the credentials of channel %s\n", name)
		if !res.Healthy {
			return signpost.Errorf(signpost.EUNAVAILABLE, "channel %s failed its check with the new credentials: %s", name, res.Message)
		}
		fmt.Fprintf(env.stdout, "channel %s: ok\n", name)
		return nil
	})
}

func channelRemove(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("channel remove", "NAME", env)
	dsn := addDBFlag(fs)
	name, err := parseChannelArgs(fs, args, env)
	if err != nil {
		return err
	}
	return withChannelService(ctx, *dsn, env, nil, "", func(svc *manage.Service) error {
		skipped, err := svc.Remove(ctx, cliActor(env), name)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "removed channel %s; %d pending deliveries to it will not be made\n", name, skipped)
		return nil
	})
}

func channelRotate(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("channel rotate", "\n\nRe-seals every channel's credentials with SIGNPOST_SECRET_KEY. Put the old key in\nSIGNPOST_SECRET_KEYS_OLD first; remove it once this has run.", env)
	dsn := addDBFlag(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	keys, err := secret.FromEnv(env.getenv)
	if err != nil {
		return err
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		n, err := db.RotateChannelCredentials(ctx, func(name, sealed string) (string, error) {
			return keys.Rotate(sealed, []byte(name))
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "re-sealed the credentials of %d channel(s) with key %s\n", n, keys.CurrentID())
		return nil
	})
}

// parseChannelArgs takes the leading channel name, so flags may follow
// it, then parses the flags.
func parseChannelArgs(fs *flag.FlagSet, args []string, env *environment) (string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs.Usage()
		return "", signpost.Errorf(signpost.EINVALID, "give the channel name first")
	}
	return args[0], parseFlags(fs, args[1:], env)
}
