package web

import (
	"crypto/subtle"
	"embed"
	"fmt"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"path"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed static
var staticFS embed.FS

//go:embed openapi.json
var openAPIDoc []byte

// handleHealthz reports that the process is alive; it touches nothing else
// so that a slow database never gets a healthy process restarted.
func (s *Server) handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	})
}

// handleReadyz reports whether the database answers, so a load balancer
// stops sending traffic to an instance that cannot refresh.
func (s *Server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := s.ready(r.Context()); err != nil {
			s.log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: database unavailable\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
}

func (s *Server) handleMetrics() http.Handler {
	h := promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{Registry: s.deps.Registry})
	want := []byte("Bearer " + s.cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case s.cfg.MetricsToken != "":
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "metrics need the scrape token", http.StatusUnauthorized)
				return
			}
		case !directLocal(r):
			http.Error(w, "metrics are served to this host only; set SIGNPOST_METRICS_TOKEN to scrape from elsewhere", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// directLocal reports whether r came straight from this host. A request a
// reverse proxy relayed also arrives from loopback, so any forwarding
// header makes it remote: counts of routes, errors and pools are a map
// for an attacker and not for the public.
func directLocal(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Host"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// handleStatic serves the compiled stylesheet and images embedded from
// web/static. They change only with a new binary, so each is prepared once
// (gzipped, with an ETag from its content) and caches may keep it a day.
func (s *Server) handleStatic() http.Handler {
	files := map[string]*response{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = http.DetectContentType(body)
		}
		files["/"+p] = newResponse(http.StatusOK, ctype, body, time.Time{}, "public, max-age=86400")
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("web: read embedded static files: %v", err)) // the embed guarantees them
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, ok := files[r.URL.Path]
		if !ok {
			s.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		resp.write(w, r)
	})
}

func (s *Server) handleOpenAPI() http.Handler {
	resp := newResponse(http.StatusOK, "application/json", openAPIDoc, time.Time{}, s.cfg.CacheControl)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { resp.write(w, r) })
}
