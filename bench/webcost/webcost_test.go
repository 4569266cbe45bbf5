package webcost

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/demo"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
	"github.com/signpost-uk/signpost/web"
)

// pages are the URLs of the snow-day benchmark.
var pages = []struct{ name, url string }{
	{"home", "/"},
	{"area", "/area?postcode=ND1%201BX"},
	{"feed", "/feeds/notices.atom"},
}

// discardWriter is the least a ResponseWriter can do: a fresh header map per
// request, as net/http gives, and a body that goes nowhere.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(b)
	return len(b), nil
}

func demoServer(b *testing.B) *web.Server {
	b.Helper()
	ctx := context.Background()
	db := storetest.Open(b, store.SQLite)
	if err := demo.Load(ctx, db, time.Now()); err != nil {
		b.Fatalf("demo: %v", err)
	}
	srv, err := web.NewServer(web.Config{CouncilName: demo.Council, BaseURL: "http://127.0.0.1:8080"},
		web.Deps{Places: db, Notices: db, Ready: db.Ping})
	if err != nil {
		b.Fatalf("NewServer: %v", err)
	}
	if err := srv.Refresh(ctx); err != nil {
		b.Fatalf("Refresh: %v", err)
	}
	return srv
}

// withHeaders is bare plus every header Signpost sends with the page, set
// the ordinary way: what the headers alone cost.
func withHeaders(body []byte, header http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, vs := range header {
			h.Set(k, vs[0])
		}
		w.Write(body)
	})
}

// bare writes a body the way the least a Go server could: content type,
// length and the body.
func bare(body []byte, ctype string) http.Handler {
	n := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Content-Length", n)
		w.Write(body)
	})
}

func BenchmarkServe(b *testing.B) {
	srv := demoServer(b)
	for _, p := range pages {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.url, nil))
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			b.Fatalf("%s: status %d, %d bytes", p.url, rec.Code, rec.Body.Len())
		}
		body, ctype := rec.Body.Bytes(), rec.Header().Get("Content-Type")
		for _, h := range []struct {
			name string
			h    http.Handler
		}{{"signpost", srv}, {"bare", bare(body, ctype)}, {"headers", withHeaders(body, rec.Header())}} {
			b.Run(h.name+"/"+p.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				b.RunParallel(func(pb *testing.PB) {
					req := httptest.NewRequest(http.MethodGet, p.url, nil)
					for pb.Next() {
						w := &discardWriter{h: make(http.Header)}
						h.h.ServeHTTP(w, req)
						if w.n != len(body) {
							b.Errorf("%s wrote %d bytes, want %d", p.url, w.n, len(body))
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkRebuild is what one notice update costs the server: a new
// snapshot from the store, then the first request for each page renders it
// (template, gzip, ETag) into the new snapshot's cache.
func BenchmarkRebuild(b *testing.B) {
	srv := demoServer(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := srv.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
		for _, p := range pages {
			w := &discardWriter{h: make(http.Header)}
			srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p.url, nil))
			if w.status != http.StatusOK {
				b.Fatalf("%s: status %d", p.url, w.status)
			}
		}
	}
}
