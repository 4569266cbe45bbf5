package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxBodyBytes bounds every request body; the public site takes none, the
// screening API takes a post's text.
const maxBodyBytes = 1 << 20

// securityHeaders go on every response. The CSP allows no inline script or
// style; JSON-LD in <script type="application/ld+json"> is data, which
// browsers do not execute, so script-src does not need to allow it.
var securityHeaders = []struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Referrer-Policy", []string{"strict-origin-when-cross-origin"}},
	{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
}

// middleware wraps the mux with what every request gets: security headers,
// a body size limit, panic recovery, metrics and a log line, plus our own
// 404 and 405 pages in place of the mux's plain-text ones.
func (s *Server) middleware(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		for _, kv := range securityHeaders {
			h[kv.key] = kv.value
		}
		if r.Body != nil && r.ContentLength != 0 {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		sw := &statusWriter{ResponseWriter: w}
		_, pattern := mux.Handler(r)
		route := routeLabel(pattern)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "route", route, "method", r.Method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !sw.wroteHeader {
					s.errorPage(sw, r, http.StatusInternalServerError, "")
				}
			}
			s.observe(r, route, sw.status(), time.Since(start), sw.bytes)
		}()
		if pattern == "" {
			s.unmatched(sw, r, mux)
			return
		}
		mux.ServeHTTP(sw, r)
	})
}

// routeLabel keeps metrics and logs to the registered patterns: raw paths
// would hold postcodes and grow without bound.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	return pattern
}

// unmatched replaces the mux's plain-text 404 and 405 with our pages (or
// JSON under /api/), keeping its Allow header; redirects pass through.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	h, _ := mux.Handler(r)
	cw := &captureWriter{header: http.Header{}}
	h.ServeHTTP(cw, r)
	switch cw.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", cw.header.Get("Allow"))
		s.errorPage(w, r, http.StatusMethodNotAllowed, "")
	case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusFound, http.StatusTemporaryRedirect:
		if loc := cw.header.Get("Location"); loc != "" {
			w.Header().Set("Location", loc)
		}
		w.WriteHeader(cw.status)
	default:
		s.errorPage(w, r, http.StatusNotFound, "")
	}
}

// captureWriter records what the mux's own error handlers would write.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return len(b), nil
}

// statusWriter remembers the status and size for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
	bytes       int
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.code
}

// observe records metrics and logs the request. Successful requests log at
// Debug: on a snow day they number thousands a second and the metrics
// already count them; client errors log at Info and server errors at Error.
// Neither the query string nor the client address is logged (postcodes and
// IPs are personal data), and the path only as its route pattern.
func (s *Server) observe(r *http.Request, route string, status int, d time.Duration, n int) {
	s.metrics.observe(route, status, d)
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelInfo
	}
	ctx := r.Context()
	if !s.log.Enabled(ctx, level) {
		return
	}
	s.log.LogAttrs(ctx, level, "request",
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int("bytes", n),
		slog.Duration("duration", d),
	)
}

// metrics are the HTTP request counters and latency histograms, labelled by
// route pattern and status code.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// The snapshot: how fresh it is and what rebuilding it costs.
	version  prometheus.Gauge
	builtAt  prometheus.Gauge
	rebuilds prometheus.Histogram
	failures prometheus.Counter
	// children caches the per-(route, code) series: a lock-free lookup
	// instead of hashing label values on every request.
	children sync.Map // metricKey → *metricChild
}

type metricKey struct {
	route string
	code  int
}

type metricChild struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signpost_http_requests_total",
			Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "signpost_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern and status code.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"route", "code"}),
	}
	m.version = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "signpost_snapshot_version",
		Help: "The store change version the pages are rendered from.",
	})
	m.builtAt = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "signpost_snapshot_built_timestamp_seconds",
		Help: "When the current snapshot was built (Unix time).",
	})
	m.rebuilds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "signpost_snapshot_rebuild_seconds",
		Help:    "Time to rebuild the snapshot from the store after a change.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
	})
	m.failures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "signpost_snapshot_rebuild_failures_total",
		Help: "Snapshot rebuilds that failed; pages keep the previous snapshot.",
	})
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.latency, err = register(reg, m.latency); err != nil {
		return nil, err
	}
	if m.version, err = register(reg, m.version); err != nil {
		return nil, err
	}
	if m.builtAt, err = register(reg, m.builtAt); err != nil {
		return nil, err
	}
	if m.rebuilds, err = register(reg, m.rebuilds); err != nil {
		return nil, err
	}
	if m.failures, err = register(reg, m.failures); err != nil {
		return nil, err
	}
	return m, nil
}

// register adds c to reg; a second Server on the same registry (a restart
// in tests) shares the collector already there.
func register[C prometheus.Collector](reg *prometheus.Registry, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("register web metrics: %w", err)
	}
	return c, nil
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	k := metricKey{route, status}
	c, ok := m.children.Load(k)
	if !ok {
		code := strconv.Itoa(status)
		c, _ = m.children.LoadOrStore(k, &metricChild{
			requests: m.requests.WithLabelValues(route, code),
			latency:  m.latency.WithLabelValues(route, code),
		})
	}
	mc := c.(*metricChild)
	mc.requests.Inc()
	mc.latency.Observe(d.Seconds())
}

// isAPI reports whether a request wants JSON errors rather than pages.
func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/")
}

// ready wraps the readiness func with a timeout so /readyz answers promptly.
func (s *Server) ready(ctx context.Context) error {
	if s.deps.Ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.deps.Ready(ctx)
}
