package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is the cheapest ResponseWriter, so the benchmark measures
// the handler, not the recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkHotPaths measures the snow-day requests served from the cache:
// go test -run=^$ -bench=HotPaths -benchmem ./web
func BenchmarkHotPaths(b *testing.B) {
	f := newFixture(b)
	for _, path := range []string{"/", "/area?postcode=ND1+1BX", "/feeds/notices.atom", "/api/v1/postcodes/ND1%201BX"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					f.srv.ServeHTTP(w, req)
				}
			})
		})
	}
}

// BenchmarkUpdateCycle measures what one notice update costs the server: a
// snapshot rebuild from the store, then the first (uncached) render of the
// hot pages. At one update a second this is the background load.
func BenchmarkUpdateCycle(b *testing.B) {
	f := newFixture(b)
	w := &discardWriter{h: http.Header{}}
	reqs := []*http.Request{
		httptest.NewRequest(http.MethodGet, "/", nil),
		httptest.NewRequest(http.MethodGet, "/area?postcode=ND1+1BX", nil),
		httptest.NewRequest(http.MethodGet, "/feeds/notices.atom", nil),
	}
	for _, r := range reqs {
		r.Header.Set("Accept-Encoding", "gzip")
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.srv.Refresh(b.Context()); err != nil {
			b.Fatal(err)
		}
		for _, r := range reqs {
			clear(w.h)
			f.srv.ServeHTTP(w, r)
		}
	}
}
