package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzAreaPostcode checks that no postcode query, however odd, gets a 500
// from the page or the API, and that what we echo back stays escaped.
func FuzzAreaPostcode(f *testing.F) {
	for _, s := range []string{"ND1 1BX", "nd11bx", "ZZ9 9ZZ", "", " ", "GIR 0AA", "<script>", "ND1\x001BX", "\xff\xfe", strings.Repeat("A", 500), "ND1-1BX", "%", "ü1 1BX"} {
		f.Add(s)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, postcode string) {
		for _, target := range []string{
			"/area?postcode=" + url.QueryEscape(postcode),
			"/api/v1/postcodes/" + url.PathEscape(postcode),
		} {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			u, err := url.Parse(target)
			if err != nil {
				t.Fatalf("parse %q: %v", target, err)
			}
			req.URL = u
			rec := httptest.NewRecorder()
			fx.srv.ServeHTTP(rec, req)
			switch rec.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			default:
				t.Fatalf("%s: status %d", target, rec.Code)
			}
			if strings.Contains(rec.Body.String(), "<script>") {
				t.Fatalf("%s: unescaped input echoed", target)
			}
		}
	})
}
