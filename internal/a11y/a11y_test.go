package a11y

import (
	"fmt"
	"image"
	"image/color"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testServer serves the pages in testdata and the compiled stylesheet from
// web/static, with the Content-Security-Policy the residents' site uses, so
// the checks are shown to work on pages that forbid inline script.
func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.Dir("../../web/static"))))
	mux.Handle("GET /", http.FileServer(http.Dir("testdata")))
	// What the server emits per council: only the brand colour hook.
	mux.HandleFunc("GET /brand.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Write([]byte(":root { --brand-colour: #00594f; }\n"))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/clean.html" {
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'")
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func rules(vs []Violation) []string {
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.Rule)
	}
	return ids
}

func TestCheck(t *testing.T) {
	c := LocateOrSkip(t)
	srv := testServer(t)

	tests := []struct {
		page string
		// want maps each rule that must be reported to pieces of its
		// targets, so failures are shown to point at the elements to fix; an
		// empty want means the page must be clean.
		want map[string][]string
		// wantNot maps rules to elements they must not name.
		wantNot map[string][]string
	}{
		{
			page: "/violating.html",
			want: map[string][]string{
				"image-alt":     {"img"},
				"html-has-lang": {"html"},
				RuleReflow:      {"div.wide"},
				// The second link is below the first screenful: the check
				// must follow focus when Tab scrolls the page.
				RuleFocusVisible:  {`a.nofocus "All roads"`, `a.nofocus "Bottom link"`},
				RuleSkipLinkFirst: {`a.nofocus "All roads"`},
			},
			wantNot: map[string][]string{RuleFocusVisible: {"Default focus ring", "Sibling ring"}},
		},
		{page: "/clean.html"},
	}

	urls := make([]string, len(tests))
	for i, tt := range tests {
		urls[i] = srv.URL + tt.page
	}
	// One browser for all pages, as Run uses it.
	found, err := c.Check(t.Context(), urls)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	for i, tt := range tests {
		t.Run(tt.page, func(t *testing.T) {
			got := found[urls[i]]
			if len(tt.want) == 0 {
				for _, v := range got {
					t.Errorf("unexpected violation: %s", v)
				}
				return
			}
			for rule, targets := range tt.want {
				j := slices.IndexFunc(got, func(v Violation) bool { return v.Rule == rule })
				if j < 0 {
					t.Errorf("rule %s not reported; got %v", rule, rules(got))
					continue
				}
				for _, target := range targets {
					if !slices.ContainsFunc(got[j].Targets, func(s string) bool { return strings.Contains(s, target) }) {
						t.Errorf("%s: targets %q do not name %q", rule, got[j].Targets, target)
					}
				}
			}
			for rule, targets := range tt.wantNot {
				for _, v := range got {
					for _, target := range targets {
						if v.Rule == rule && slices.ContainsFunc(v.Targets, func(s string) bool { return strings.Contains(s, target) }) {
							t.Errorf("%s wrongly names %q: %q", rule, target, v.Targets)
						}
					}
				}
			}
			for _, v := range got {
				if v.Help == "" || v.Impact == "" {
					t.Errorf("violation %s lacks help or impact: %+v", v.Rule, v)
				}
			}
		})
	}
}

// recordingTB stands in for the test that calls Run, to see what Run reports.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.errors = append(r.errors, "fatal: "+fmt.Sprintf(format, args...))
}

func TestRun(t *testing.T) {
	LocateOrSkip(t)
	srv := testServer(t)
	rec := &recordingTB{TB: t}
	Run(rec, srv.URL+"/", []string{"/violating.html"})
	if !slices.ContainsFunc(rec.errors, func(s string) bool {
		return strings.HasPrefix(s, "/violating.html: image-alt (")
	}) {
		t.Errorf("Run did not report the missing alt text as a failure of the page; reported %q", rec.errors)
	}
}

func TestCheckServerError(t *testing.T) {
	c := LocateOrSkip(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	defer srv.Close()
	if _, err := c.Check(t.Context(), []string{srv.URL + "/"}); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("Check of a 500 page: err = %v, want an HTTP 500 error", err)
	}
}

// TestScreenshots writes PNGs of the clean page for a person to look at when
// SIGNPOST_A11Y_SCREENSHOTS names a directory.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("SIGNPOST_A11Y_SCREENSHOTS")
	if dir == "" {
		t.Skip("set SIGNPOST_A11Y_SCREENSHOTS to a directory to write screenshots")
	}
	c := LocateOrSkip(t)
	srv := testServer(t)
	for _, width := range []int64{320, 1024} {
		png, err := c.Screenshot(t.Context(), srv.URL+"/clean.html", width)
		if err != nil {
			t.Fatalf("Screenshot at %dpx: %v", width, err)
		}
		name := filepath.Join(dir, fmt.Sprintf("clean-%d.png", width))
		if err := os.WriteFile(name, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDiffers(t *testing.T) {
	white := func(w, h int) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = 0xff
		}
		return img
	}
	tests := []struct {
		name  string
		after func() image.Image
		want  bool
	}{
		{"unchanged", func() image.Image { return white(10, 10) }, false},
		{"anti-aliasing noise", func() image.Image {
			img := white(10, 10)
			img.Set(3, 3, color.RGBA{0xfd, 0xfd, 0xfd, 0xff})
			return img
		}, false},
		{"one yellow pixel", func() image.Image {
			img := white(10, 10)
			img.Set(9, 9, color.RGBA{0xff, 0xdd, 0x00, 0xff})
			return img
		}, true},
		{"outline", func() image.Image {
			img := white(10, 10)
			for x := range 10 {
				img.Set(x, 0, color.Black)
			}
			return img
		}, true},
		{"same pixels, other origin", func() image.Image {
			return white(20, 20).SubImage(image.Rect(5, 5, 15, 15))
		}, false},
		{"other size", func() image.Image { return white(10, 11) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := differs(white(10, 10), tt.after()); got != tt.want {
				t.Errorf("differs = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMergeViolations(t *testing.T) {
	a := Violation{Rule: "image-alt", Targets: []string{"img"}}
	b := Violation{Rule: "image-alt", Targets: []string{"img.logo"}}
	c := Violation{Rule: "color-contrast", Targets: []string{"img"}}
	tests := []struct {
		name       string
		have, more []Violation
		want       int
	}{
		{"both empty", nil, nil, 0},
		{"same rule same nodes", []Violation{a}, []Violation{a}, 1},
		{"same rule other nodes", []Violation{a}, []Violation{b}, 2},
		{"other rule same nodes", []Violation{a}, []Violation{c}, 2},
		{"duplicates within more", nil, []Violation{c, c}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mergeViolations(tt.have, tt.more); len(got) != tt.want {
				t.Errorf("merged %d violations, want %d: %v", len(got), tt.want, got)
			}
		})
	}
}
