package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/netsafe"
	"github.com/signpost-uk/signpost/secret"
	"github.com/signpost-uk/signpost/store"
)

func runChannel(ctx context.Context, args []string, env *environment) error {
	subs := map[string]func(context.Context, []string, *environment) error{
		"add": channelAdd, "list": channelList, "test": channelTest, "remove": channelRemove, "rotate": channelRotate,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(env.stderr, "Usage: signpost channel add|list|test|remove|rotate [flags]\n\n"+
			"  add <type> --name NAME …   add a channel: mastodon, bluesky, facebook, x, email or webhook\n"+
			"  list                       list channels and their health (never their credentials)\n"+
			"  test NAME                  check a channel's credentials without posting\n"+
			"  remove NAME                delete a channel\n"+
			"  rotate                     re-seal every channel's credentials with the current SIGNPOST_SECRET_KEY\n\n"+
			"Credentials are read from an environment variable named by --token-env, or from standard input\n"+
			"with --token-stdin, never from the command line, and are stored encrypted with SIGNPOST_SECRET_KEY.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return signpost.Errorf(signpost.EINVALID, "channel needs an action: add, list, test, remove or rotate")
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
	tokenEnv := fs.String("token-env", "", "name of the environment variable holding the token or password")
	tokenStdin := fs.Bool("token-stdin", false, "read the token or password from standard input")
	var cfg delivery.ChannelConfig
	fs.StringVar(&cfg.Server, "server", "", "mastodon: the instance URL")
	fs.StringVar(&cfg.Visibility, "visibility", "", "mastodon: public (default) or unlisted")
	fs.StringVar(&cfg.Service, "service", "", "bluesky: the account's PDS (default https://bsky.social)")
	fs.StringVar(&cfg.Identifier, "identifier", "", "bluesky: the account's handle")
	fs.StringVar(&cfg.PageID, "page-id", "", "facebook: the Page id")
	fs.StringVar(&cfg.Graph, "graph-url", "", "facebook: Graph API base URL (testing only)")
	fs.StringVar(&cfg.API, "api-url", "", "x: API base URL (testing only)")
	fs.StringVar(&cfg.SMTP, "smtp", "", "email: submission server host:port")
	fs.StringVar(&cfg.Username, "username", "", "email: SMTP user name")
	fs.StringVar(&cfg.From, "from", "", "email: sender, e.g. \"Northdale Council <alerts@northdale.gov.uk>\"")
	fs.StringVar(&cfg.SiteURL, "site-url", "", "email: the residents' site, for unsubscribe links")
	fs.StringVar(&cfg.IMAP, "imap", "", "email: IMAP server host:port of the mailbox residents write to (993 for TLS, else STARTTLS); read into the inbox")
	fs.StringVar(&cfg.Mailbox, "mailbox", "", "email: the IMAP folder to read (default INBOX)")
	fs.StringVar(&cfg.Transport, "transport", "", "email: how to send, smtp (default) or notify (GOV.UK Notify)")
	fs.StringVar(&cfg.NotifyTemplate, "notify-template", "", "email through Notify: the id of an e-mail template with the subject ((subject)) and the body ((body))")
	fs.StringVar(&cfg.NotifyReplyTo, "notify-reply-to", "", "email through Notify: the id of one of the service's reply-to addresses (default: the service's own)")
	fs.StringVar(&cfg.NotifyAPI, "notify-api-url", "", "email through Notify: API base URL (testing only)")
	fs.StringVar(&cfg.URL, "url", "", "webhook: the receiver's URL")
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
	if fs.NArg() > 0 {
		return signpost.Errorf(signpost.EINVALID, "unexpected argument %q: tokens are never taken from the command line; use --token-env or --token-stdin", fs.Arg(0))
	}
	if *name == "" {
		return signpost.Errorf(signpost.EINVALID, "--name is required")
	}
	for _, c := range categories {
		cfg.Categories = append(cfg.Categories, signpost.Category(strings.ToLower(c)))
	}
	if err := cfg.Check(typ); err != nil {
		return err
	}
	keys, err := secret.FromEnv(env.getenv)
	if err != nil {
		return err
	}
	token, err := readToken(env, *tokenEnv, *tokenStdin)
	if err != nil {
		return err
	}
	generated := false
	if token == "" {
		if typ != channel.Webhook {
			return signpost.Errorf(signpost.EINVALID, "a %s channel needs a token: name the variable holding it with --token-env, or pipe it in with --token-stdin", typ)
		}
		var b [32]byte
		rand.Read(b[:])
		token, generated = base64.RawURLEncoding.EncodeToString(b[:]), true
	}
	// Build the connector now so bad settings fail here, not at the first
	// notice.
	if _, err := connectorFor(*name, typ, cfg, token, channelNet{}, env); err != nil {
		return signpost.Errorf(signpost.EINVALID, "%v", err)
	}
	sealed, err := keys.Seal([]byte(token), []byte(*name))
	if err != nil {
		return err
	}
	config, _ := json.Marshal(cfg)
	return withDB(ctx, *dsn, func(db *store.DB) error {
		if _, err := db.CreateChannel(ctx, store.Channel{Name: *name, Type: string(typ), Config: config, Credentials: sealed}); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "added %s channel %q; check it with: signpost channel test %s\n", typ, *name, *name)
		if generated {
			fmt.Fprintf(env.stdout, "webhook signing secret (give it to the receiver; it is not shown again): %s\n", token)
		}
		return nil
	})
}

// readToken reads the secret from the named variable or standard input.
func readToken(env *environment, varName string, stdin bool) (string, error) {
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

// channelNet is how connectors reach the network: through netsafe, with
// the allowlist an admin set (--allow-net / SIGNPOST_ALLOW_NET).
type channelNet struct {
	allow []string
}

func (n channelNet) options(env *environment) (netsafe.Options, error) {
	allow, err := netsafe.ParseAllow(strings.Join(n.allow, ","))
	if err != nil {
		return netsafe.Options{}, signpost.Errorf(signpost.EINVALID, "--allow-net: %v", err)
	}
	return netsafe.Options{Allow: allow, Timeout: 30 * time.Second, Logger: slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}, nil
}

// connectorFor wires a connector for one channel through netsafe.
func connectorFor(name string, typ channel.Type, cfg delivery.ChannelConfig, token string, n channelNet, env *environment) (channel.Connector, error) {
	opts, err := n.options(env)
	if err != nil {
		return nil, err
	}
	return delivery.Build(name, typ, cfg, token, delivery.Net{
		Client: netsafe.NewClient(opts),
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return netsafe.DialContext(ctx, opts, network, addr)
		},
	})
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
	name, rest, err := channelNameArg(args)
	if err != nil {
		fs.Usage()
		return err
	}
	if err := parseFlags(fs, rest, env); err != nil {
		return err
	}
	keys, err := secret.FromEnv(env.getenv)
	if err != nil {
		return err
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		c, err := db.Channel(ctx, name)
		if err != nil {
			return err
		}
		var cfg delivery.ChannelConfig
		if err := json.Unmarshal(c.Config, &cfg); err != nil {
			return fmt.Errorf("channel %s: configuration: %w", name, err)
		}
		token, err := keys.Open(c.Credentials, []byte(c.Name))
		if err != nil {
			return err
		}
		conn, err := connectorFor(c.Name, channel.Type(c.Type), cfg, string(token), channelNet{allow: []string{*allow}}, env)
		if err != nil {
			return signpost.Errorf(signpost.EINVALID, "channel %s: %v", name, err)
		}
		hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		herr := conn.Health(hctx)
		// Only a permanent failure says the channel is broken; a timeout
		// or rate limit says nothing about the credentials.
		if herr == nil || channel.IsPermanent(herr) {
			msg := ""
			if herr != nil {
				msg = herr.Error()
			}
			if err := db.SetChannelHealth(ctx, name, herr == nil, msg); err != nil {
				return err
			}
		}
		if herr != nil {
			return signpost.Errorf(signpost.EUNAVAILABLE, "channel %s failed its check: %v", name, herr)
		}
		fmt.Fprintf(env.stdout, "channel %s: ok\n", name)
		return nil
	})
}

func channelRemove(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("channel remove", "NAME", env)
	dsn := addDBFlag(fs)
	name, rest, err := channelNameArg(args)
	if err != nil {
		fs.Usage()
		return err
	}
	if err := parseFlags(fs, rest, env); err != nil {
		return err
	}
	return withDB(ctx, *dsn, func(db *store.DB) error {
		if err := db.DeleteChannel(ctx, name); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "removed channel %s\n", name)
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

// channelNameArg takes the leading channel name, so flags may follow it.
func channelNameArg(args []string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", nil, signpost.Errorf(signpost.EINVALID, "give the channel name first")
	}
	return args[0], args[1:], nil
}
