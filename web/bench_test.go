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
