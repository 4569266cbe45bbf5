package web

import (
	"embed"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
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
	return promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{Registry: s.deps.Registry})
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
