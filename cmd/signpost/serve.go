package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/archive"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/channel/manage"
	"github.com/signpost-uk/signpost/costbook"
	"github.com/signpost-uk/signpost/demo"
	"github.com/signpost-uk/signpost/inbox/sources"
	"github.com/signpost-uk/signpost/publish"
	"github.com/signpost-uk/signpost/web"
)

// channelAlertInterval is how often serve looks for channels that have
// stopped working and not yet been told about: a cheap read of one table.
const channelAlertInterval = 15 * time.Second

func runServe(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("serve", "[--demo] [--addr HOST:PORT] [--db DSN]", env)
	dsn := addDBFlag(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	demoData := fs.Bool("demo", false, "load the fictional Northdale council and a snow-day scenario (only adds notices to an empty database)")
	council := fs.String("council-name", "", "the council's name, shown on every page (default: Northdale Council with --demo)")
	service := fs.String("service-name", "Service disruptions", "the service's name in the header")
	brand := fs.String("brand-colour", "#1d70b8", "the council's brand colour, #rrggbb")
	logo := fs.String("logo-url", "", "the council's logo: a same-origin path or data: URL")
	baseURL := fs.String("base-url", "", "the public address of the site, for feeds and links (default http://ADDR)")
	contactURL := fs.String("contact-url", "", "where residents can contact the council")
	logFormat := fs.String("log-format", "text", "text or json")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	policyFile := fs.String("policy", "", "screening policy file (YAML); default: the built-in policy (see 'signpost check --print-policy')")
	oidcFlags := map[string]*string{
		"SIGNPOST_OIDC_ISSUER":        fs.String("oidc-issuer", "", "OpenID Connect issuer for single sign-on, e.g. https://login.microsoftonline.com/TENANT/v2.0; the client secret is read from SIGNPOST_OIDC_CLIENT_SECRET only"),
		"SIGNPOST_OIDC_CLIENT_ID":     fs.String("oidc-client-id", "", "single sign-on client (application) id"),
		"SIGNPOST_OIDC_REDIRECT_URL":  fs.String("oidc-redirect-url", "", "single sign-on callback registered with the provider (default BASE-URL/staff/sso/callback)"),
		"SIGNPOST_OIDC_ROLE_CLAIM":    fs.String("oidc-role-claim", "roles", "ID token claim holding roles or groups"),
		"SIGNPOST_OIDC_ROLES":         fs.String("oidc-roles", "", "claim values to roles, e.g. Signpost.Admin=admin,Signpost.Approver=approver"),
		"SIGNPOST_OIDC_DEFAULT_ROLE":  fs.String("oidc-default-role", "", "role for someone no claim value maps (default: refuse them)"),
		"SIGNPOST_OIDC_LINK_BY_EMAIL": fs.String("oidc-link-by-email", "false", "let a first single sign-on attach to an existing account with the same verified address"),
	}
	purgeDaily := fs.Bool("purge-daily", true, "purge the archive once a day as its retention setting says ('signpost archive retention'; by default it keeps everything)")
	shutdown := fs.Duration("shutdown-timeout", 15*time.Second, "how long to let requests in flight finish on SIGTERM")
	qf := addQueueFlags(fs)
	sf := addSubscribeFlags(fs)
	inboxPoll := fs.Duration("inbox-poll-interval", time.Minute, "how often to read new mentions and messages from Mastodon, Bluesky and monitored mailboxes; 0 turns polling off")
	scheduleEvery := fs.Duration("schedule-interval", 15*time.Second, "how often to publish notices scheduled for a set time")
	inf := addInboxFlags(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	logger, err := newLogger(env, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	screener, err := loadScreener(*policyFile)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if *demoData {
		if err := demo.Load(ctx, db, time.Now()); err != nil {
			return err
		}
		if *council == "" {
			*council = demo.Council
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return signpost.Errorf(signpost.EUNAVAILABLE, "cannot listen on %s: %v", *addr, err)
	}
	url := "http://" + ln.Addr().String()
	if *baseURL == "" {
		*baseURL = url
	}

	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		return fmt.Errorf("time zone: %w", err)
	}
	inboxMail, err := inf.mailer(env)
	if err != nil {
		return err
	}
	subs, err := openSubscriptions(env, db, logger, sf, inf, *baseURL, *council, *qf.allowNet)
	if err != nil {
		return err
	}
	bg, err := openBackground(ctx, db, env, logger, *baseURL, qf, inboxMail, london, subs)
	if err != nil {
		return err
	}
	inboxDesk, err := openInbox(db, screener, bg.queue, inboxMail, inf, *baseURL, london, logger)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for name, pool := range db.Pools() {
		reg.MustRegister(collectors.NewDBStatsCollector(pool, name))
	}
	// Staff sign in with the accounts 'signpost user add' creates.
	staff, err := auth.NewService(db, auth.Config{})
	if err != nil {
		return err
	}
	desk := publish.NewDesk(db, screener, london, logger)
	sso, err := singleSignOn(ctx, staff, oidcFlags, env, strings.TrimSuffix(*baseURL, "/"))
	if err != nil {
		return err
	}
	archived := archive.New(db)
	deps := web.Deps{
		Places: db, Notices: db, Logger: logger, Registry: reg, Ready: db.Ping,
		Counter: db, Screener: screener, Auth: staff, Shift: db, Archive: archived, Inbox: inboxDesk, Desk: desk, Accounts: staff, Costs: costbook.New(db), SSO: sso, Channels: bg.channels,
		Deliveries: delivery.NewConsole(db, bg.queue),
	}
	if hook := facebookHook(env, db, logger); hook != nil {
		deps.FacebookHook = hook
	}
	if subs != nil {
		deps.Subscriptions = subs
	}
	srv, err := web.NewServer(web.Config{
		CouncilName: *council, ServiceName: *service, BrandColour: *brand, LogoURL: *logo,
		BaseURL: strings.TrimSuffix(*baseURL, "/"), ContactURL: *contactURL,
		// From the environment only, like every secret: argv is visible to
		// every user of the host.
		MetricsToken: env.getenv("SIGNPOST_METRICS_TOKEN"),
	}, deps)
	if err != nil {
		return err
	}
	if err := srv.Refresh(ctx); err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	var staffNote string
	if *demoData {
		if staffNote, err = demoStaffAccount(ctx, staff, url); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.stdout, "Signpost is serving %s at %s\n%s", *council, url, staffNote)
	logger.Info("serving", "addr", ln.Addr().String(), "db", string(db.Engine()))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Run(gctx) })
	g.Go(func() error { pruneSessions(gctx, staff, logger); return nil })
	// Jobs in flight get the same grace as requests; any left over are
	// rescued by the next process.
	g.Go(func() error { return bg.queue.Run(gctx, *shutdown) })
	// Every server polls; the inbox ignores a message it already has,
	// so two servers reading the same channel store it once.
	if *inboxPoll > 0 {
		poller := &sources.Runner{Channels: db, Connectors: bg.conns, Sink: db, Cursors: db, Health: db, Interval: *inboxPoll, Logger: logger}
		g.Go(func() error { return poller.Run(gctx) })
	}
	// Every server runs the scheduled-publishing loop; claims in the
	// database make sure each scheduled notice is published once.
	g.Go(func() error { return desk.Run(gctx, *scheduleEvery) })
	// Every server triages; claims make sure each message is triaged, and
	// its duty-officer alert sent, once.
	g.Go(func() error { return inboxDesk.Run(gctx, *inf.triageEvery, *inf.retention, *inf.anonymise) })
	// Every server looks; claims in the database make sure each outage of
	// a channel is e-mailed to the administrators once.
	alerter := &manage.Alerter{Store: db, Mailer: inboxMail, BaseURL: strings.TrimSuffix(*baseURL, "/"), Location: london, Logger: logger}
	g.Go(func() error { return alerter.Run(gctx, channelAlertInterval) })
	if *purgeDaily {
		g.Go(func() error { archived.RunDaily(gctx, logger); return nil })
	}
	g.Go(func() error { return bg.dispatcher.Run(gctx) })
	if subs != nil {
		// Every server looks; the fan-out's claim in the database makes
		// sure each revision is e-mailed once.
		g.Go(func() error { return subs.Run(gctx, bg.queue, *sf.poll) })
	}
	g.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		logger.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), *shutdown)
		defer cancel()
		return hs.Shutdown(sctx)
	})
	return g.Wait()
}

// singleSignOn sets up OpenID Connect sign-in when --oidc-issuer is given,
// discovering the provider now so that a wrong issuer stops the server at
// start rather than at someone's first sign-in. The client secret comes
// from the environment only: flags show in ps.
func singleSignOn(ctx context.Context, staff *auth.Service, flags map[string]*string, env *environment, baseURL string) (web.SingleSignOn, error) {
	cfg, err := auth.LoadOIDCConfig(func(name string) string {
		if name == "SIGNPOST_OIDC_REDIRECT_URL" && *flags[name] == "" {
			return baseURL + "/staff/sso/callback"
		}
		if f, ok := flags[name]; ok {
			return *f
		}
		return env.getenv(name)
	})
	if err != nil || cfg == nil {
		return nil, err
	}
	o, err := staff.NewOIDC(ctx, *cfg)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// demoStaffAccount gives a demo a way into the staff pages: when no account
// exists yet it creates an admin, an author and an approver, each with a
// random password printed once, so the approval workflow can be tried with
// two people. A real deployment adds its people with 'signpost user add'.
func demoStaffAccount(ctx context.Context, staff *auth.Service, url string) (string, error) {
	users, err := staff.Users(ctx)
	if err != nil || len(users) > 0 {
		return "", err
	}
	note := fmt.Sprintf("Staff pages: %s/staff — sign in as (passwords shown once):\n", url)
	for _, a := range []struct {
		email, name string
		role        auth.Role
	}{
		{"demo.admin@northdale.example", "Demo administrator", auth.Admin},
		{"demo.author@northdale.example", "Demo author", auth.Author},
		{"demo.approver@northdale.example", "Demo approver", auth.Approver},
	} {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		password := base64.RawURLEncoding.EncodeToString(b[:])
		if _, err := staff.CreateUser(ctx, "cli:serve --demo", auth.NewUser{Email: a.email, Name: a.name, Role: a.role, Password: password}); err != nil {
			return "", fmt.Errorf("demo staff account: %w", err)
		}
		note += fmt.Sprintf("  %-9s %s  %s\n", a.role, a.email, password)
	}
	return note, nil
}

// pruneSessions deletes expired sessions and stale sign-in throttles hourly.
func pruneSessions(ctx context.Context, staff *auth.Service, logger *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if n, err := staff.Prune(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("pruning sessions failed", "err", err)
			} else if n > 0 {
				logger.Info("pruned expired sessions", "rows", n)
			}
		}
	}
}

func newLogger(env *environment, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, signpost.Errorf(signpost.EINVALID, "--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(env.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(env.stderr, opts)), nil
	}
	return nil, signpost.Errorf(signpost.EINVALID, "--log-format %q: want text or json", format)
}
