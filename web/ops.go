package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
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
	return promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{Registry: s.deps.Registry})
}

// handleStatic serves the compiled stylesheet and images embedded from
// web/static. They change only with a new binary, so caches may keep them
// for a day.
func (s *Server) handleStatic() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No directory listings, and our own 404 page for missing files.
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if st, err := fs.Stat(sub, name); err != nil || st.IsDir() || name == "" {
			s.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

func (s *Server) handleOpenAPI() http.Handler {
	resp := newResponse(http.StatusOK, "application/json", openAPIDoc, time.Time{}, s.cfg.CacheControl)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { resp.write(w, r) })
}
