// Package web serves Signpost over HTTP: the residents' service-disruption
// site (server-rendered GOV.UK Frontend pages that work without JavaScript),
// the open feeds (Atom, JSON Feed, CAP, iCalendar), the read-only JSON API and
// the operational endpoints (/healthz, /readyz, /metrics), and the staff
// area under /staff (sign-in, the "Before you post" self-check, the
// channel-shift dashboard), where every route needs a signed-in role.
//
// On a snow day every resident opens the same few pages at once while the
// comms team updates notices every few seconds, so nothing on the hot path
// talks to the database: the Server keeps an in-memory snapshot of every
// place and current notice, rebuilt whenever the store's ChangeVersion moves,
// and caches each rendered response (plain and gzipped, with a strong ETag)
// per URL per snapshot. A request is then a map lookup and a write.
package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/inbox/desk"
	"github.com/signpost-uk/signpost/risk"
)

// Config is what a council sets about its own site.
type Config struct {
	CouncilName string // "Northdale Council"
	ServiceName string // shown in the header; default "Service disruptions"
	LogoURL     string // same-origin path or data: URL (the CSP allows no other images)
	BrandColour string // "#rrggbb"; default GOV.UK blue
	BaseURL     string // absolute, no trailing slash, e.g. "https://disruptions.northdale.gov.uk"
	Timezone    string // IANA name; default "Europe/London"
	ContactURL  string // where residents go when the site cannot help
	// PollInterval is how often Run asks the store whether anything
	// changed; default 250ms, so an update is visible within a second.
	PollInterval time.Duration
	// CacheControl is sent with public pages, feeds and API responses.
	CacheControl string
	// MaxCachedAreas bounds how many postcode pages are kept per snapshot.
	MaxCachedAreas int
	// Now is the clock; tests set it. Default time.Now.
	Now func() time.Time
	// MetricsToken, when set, lets a scraper read /metrics from anywhere
	// with "Authorization: Bearer TOKEN". Unset, /metrics answers only
	// direct requests from this host, never ones relayed by a proxy.
	MetricsToken string
}

// ContactCounter records that a resident was served digitally, so the
// channel-shift report can set digital contacts against phone calls. It is
// called from a background flush with counts aggregated in memory; it never
// sees personal data (no IPs, no postcodes).
type ContactCounter interface {
	CountContacts(ctx context.Context, day time.Time, channel, category string, n int) error
}

// Deps are the Server's collaborators; wire them in cmd/signpost.
type Deps struct {
	Places  signpost.PlaceStore
	Notices signpost.NoticeStore
	Logger  *slog.Logger
	// Counter may be nil: then nothing is counted.
	Counter ContactCounter
	// Registry receives the HTTP metrics; nil means a private registry
	// (still served at /metrics).
	Registry *prometheus.Registry
	// Ready reports whether the database is reachable; nil means always
	// ready.
	Ready func(ctx context.Context) error
	// Screener serves POST /api/v1/check; nil means the default policy.
	Screener *risk.Screener
	// Auth signs staff in (an *auth.Service); nil means nobody can, so
	// every staff page sends people to a sign-in page that cannot succeed.
	Auth StaffAuth
	// Shift feeds the channel-shift dashboard (a *store.DB); nil shows a
	// "not set up" page there.
	Shift ShiftSource
	// Inbox serves the residents' inbox console and the enquiry form;
	// nil shows "not set up" there.
	Inbox *desk.Desk
	// ContactLimit is how many enquiry-form messages one client may send
	// per ContactWindow; defaults 5 per 10 minutes.
	ContactLimit  int
	ContactWindow time.Duration
	// FacebookHook receives Page comments and Messenger messages; nil
	// answers 404 at /hooks/facebook.
	FacebookHook FacebookWebhook
	// Archive searches and exports what was published (an
	// *archive.Service); nil shows a "not set up" page there.
	Archive ArchiveService
	// Subscriptions serves the e-mail update pages (a *subscribe.Service);
	// nil hides the links and answers those pages with "not available".
	Subscriptions Subscriptions
	// Desk is the approval workflow behind /staff/notices (a
	// *publish.Desk); nil shows a "not set up" page there.
	Desk Desk
	// Accounts manages staff accounts (an *auth.Service); nil shows a
	// "not set up" page on the admin users pages.
	Accounts StaffAccounts
	// Costs holds the channel costs behind the shift reports (a
	// *costbook.Book); nil shows a "not set up" page on the costs page.
	Costs CostBook
	// Deliveries shows deliveries to channels and retries failed ones (a
	// *delivery.Console); nil shows "not set up" on its pages.
	Deliveries DeliveryConsole
	// Channels manages the channels notices go to (a *manage.Service);
	// nil shows a "not set up" page on the channels pages and no banner
	// about unhealthy channels.
	Channels ChannelAdmin
	// SSO signs staff in through the council's identity provider (an
	// *auth.OIDC); nil leaves the sign-in page with passwords only.
	SSO SingleSignOn
}

// Server is the whole HTTP surface. It is an http.Handler; call Run in a
// goroutine to keep its snapshot fresh.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	loc     *time.Location
	now     func() time.Time
	pages   *pages
	mux     *http.ServeMux
	handler http.Handler
	routes  []route
	metrics *metrics
	counts  *contactBatch
	// contactLimit counts enquiry-form posts per client.
	contactLimit *windowLimiter
	// csrfKey signs the sign-in form's double-submit tokens; it is new
	// with every Server, so a restart only expires open sign-in forms.
	csrfKey []byte

	snap      atomic.Pointer[snapshot]
	day       atomic.Pointer[dayStamp]
	refreshMu sync.Mutex // one rebuild at a time
}

var hexColour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// NewServer builds the handler tree. It does not touch the database: the
// first request (or Refresh, or Run) builds the snapshot.
func NewServer(cfg Config, deps Deps) (*Server, error) {
	if deps.Places == nil || deps.Notices == nil {
		return nil, fmt.Errorf("web: Places and Notices are required")
	}
	if cfg.CouncilName == "" {
		cfg.CouncilName = "Your council"
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = "Service disruptions"
	}
	if cfg.BrandColour == "" {
		cfg.BrandColour = "#1d70b8"
	}
	if !hexColour.MatchString(cfg.BrandColour) {
		return nil, signpost.Errorf(signpost.EINVALID, "brand colour %q: want #rrggbb", cfg.BrandColour)
	}
	if err := checkLogoURL(cfg.LogoURL); err != nil {
		return nil, err
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Timezone == "" {
		cfg.Timezone = "Europe/London"
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	if cfg.CacheControl == "" {
		// Short enough that a CDN shows an update within a minute, long
		// enough to absorb the 7am peak.
		cfg.CacheControl = "public, max-age=30, stale-while-revalidate=30"
	}
	if cfg.MaxCachedAreas <= 0 {
		cfg.MaxCachedAreas = 20000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("web: timezone %q: %w", cfg.Timezone, err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if deps.Screener == nil {
		if deps.Screener, err = risk.New(nil); err != nil {
			return nil, fmt.Errorf("web: default screener: %w", err)
		}
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, loc: loc, now: cfg.Now, csrfKey: make([]byte, 32)}
	rand.Read(s.csrfKey) // never fails (crypto/rand panics instead)
	s.pages, err = newPages(cfg)
	if err != nil {
		return nil, err
	}
	s.metrics, err = newMetrics(deps.Registry)
	if err != nil {
		return nil, err
	}
	if deps.Counter != nil {
		s.counts = newContactBatch()
	}
	if deps.ContactLimit <= 0 {
		deps.ContactLimit = 5
	}
	if deps.ContactWindow <= 0 {
		deps.ContactWindow = 10 * time.Minute
	}
	s.deps = deps
	s.contactLimit = newWindowLimiter(deps.ContactLimit, deps.ContactWindow)
	s.routes = s.routeTable()
	s.mux = http.NewServeMux()
	for _, rt := range s.routes {
		h := rt.handler
		if rt.access != accessPublic {
			role, err := auth.ParseRole(rt.access)
			if err != nil {
				return nil, fmt.Errorf("web: route %s %s: %w", rt.method, rt.pattern, err)
			}
			h = s.staffOnly(role, h)
		}
		s.mux.Handle(rt.method+" "+rt.pattern, h)
	}
	s.handler = s.middleware(s.mux)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Run keeps the snapshot fresh until ctx ends: it polls the store's change
// version every PollInterval (other processes sharing the database move it
// too), rebuilds at midnight so "today" stays today, and flushes the contact
// counts. It returns nil when ctx is cancelled.
func (s *Server) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	flush := time.NewTicker(10 * time.Second)
	defer flush.Stop()
	defer s.flushCounts(context.WithoutCancel(ctx))
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if _, err := s.poll(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("snapshot poll failed", "err", err)
			}
		case <-flush.C:
			s.flushCounts(ctx)
		}
	}
}

// Refresh rebuilds the snapshot now, whatever the change version says, so
// that a change made in this process is visible to the next request.
func (s *Server) Refresh(ctx context.Context) error {
	_, err := s.rebuild(ctx, true)
	return err
}

// poll rebuilds the snapshot if the store's version or the local date moved,
// and reports whether it did.
func (s *Server) poll(ctx context.Context) (bool, error) {
	return s.rebuild(ctx, false)
}

func (s *Server) rebuild(ctx context.Context, force bool) (bool, error) {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	v, err := s.deps.Notices.ChangeVersion(ctx)
	if err != nil {
		s.metrics.failures.Inc()
		return false, fmt.Errorf("read change version: %w", err)
	}
	now := s.now().In(s.loc)
	if cur := s.snap.Load(); !force && cur != nil && cur.version == v && sameDay(cur.builtAt, now) {
		return false, nil
	}
	start := time.Now()
	snap, err := buildSnapshot(ctx, s.deps.Places, s.deps.Notices, v, now, s.cfg.MaxCachedAreas)
	if err != nil {
		s.metrics.failures.Inc()
		return false, err
	}
	s.metrics.rebuilds.Observe(time.Since(start).Seconds())
	s.metrics.version.Set(float64(v))
	s.metrics.builtAt.Set(float64(now.Unix()))
	if cur := s.snap.Load(); cur != nil {
		snap.cache.succeed(cur.cache)
	}
	s.snap.Store(snap)
	return true, nil
}

// current returns the snapshot, building the first one on demand.
func (s *Server) current(ctx context.Context) (*snapshot, error) {
	if snap := s.snap.Load(); snap != nil {
		return snap, nil
	}
	if _, err := s.rebuild(ctx, false); err != nil {
		s.log.Error("build snapshot", "err", err)
		return nil, signpost.Errorf(signpost.EUNAVAILABLE, "The service is unavailable at the moment. Please try again in a few minutes.")
	}
	return s.snap.Load(), nil
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.In(a.Location()).Date()
	return ay == by && am == bm && ad == bd
}
