package web

import (
	"context"
	"encoding/csv"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/shift"
	"github.com/signpost-uk/signpost/shift/shifttest"
)

// memShift is an in-memory ShiftSource.
type memShift struct{ d shift.Data }

func (m memShift) Campaigns(context.Context) ([]shift.Campaign, error) { return m.d.Campaigns, nil }
func (m memShift) ChangeVersion(context.Context) (int64, error)        { return 1, nil }
func (m memShift) ShiftData(_ context.Context, from, to time.Time) (shift.Data, error) {
	d := m.d
	d.Contacts = nil
	for _, c := range m.d.Contacts {
		if !c.Date.Before(from) && !c.Date.After(to) {
			d.Contacts = append(d.Contacts, c)
		}
	}
	return d, nil
}

func shiftServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := shifttest.Scenario{Name: "winter-page", Seed: 3, From: shifttest.Date(2022, 9, 1), Years: 3, CampStart: shifttest.Date(2025, 12, 1), CampDays: 60,
		Categories: []string{"schools", "roads", "waste"}, Targeted: []string{"schools", "roads"},
		Channels: []string{"phone", "web", "social", "face-to-face"}, Base: 60, Uplift: 3, Shift: 0.3, DigitalTake: 0.4, Trend: -0.03}
	d, _ := s.Generate()
	h, err := NewShiftDashboard(memShift{d}, ShiftDashboardConfig{Prefix: "/staff/shift", CouncilName: "Northdale Council", Options: shift.Options{Draws: 200}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func shiftGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestShiftDashboardPage(t *testing.T) {
	t.Parallel()
	srv := shiftServer(t)
	res, body := shiftGet(t, srv.URL+"/staff/shift?campaign=winter-page")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	for _, want := range []string{"Summary for the board", "avoided an estimated", "depends heavily", "Contacts by channel over time",
		"Calls received against calls expected", "Cumulative net saving", "Channel mix before and during the campaign",
		`href="/staff/shift/print.css"`, `/staff/shift/data.csv?campaign=winter-page&amp;table=baseline`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Every chart is an SVG with a title and description it points at, and
	// parses as XML; every chart has a table with a caption beside it.
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(body, -1)
	if len(svgs) != 4 {
		t.Fatalf("%d SVG charts, want 4", len(svgs))
	}
	for _, svg := range svgs {
		if !strings.Contains(svg, `role="img"`) || !strings.Contains(svg, "<title id=") || !strings.Contains(svg, "<desc id=") {
			t.Errorf("chart is not labelled for screen readers: %.200s", svg)
		}
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Errorf("chart is not well-formed: %v", err)
		}
		if strings.Contains(svg, "style=") {
			t.Error("chart uses style attributes, which the CSP blocks")
		}
	}
	if n := strings.Count(body, "<caption"); n < 5 {
		t.Errorf("%d table captions, want one per chart and the estimate", n)
	}
}

func TestShiftDashboardFiltersAndCSV(t *testing.T) {
	t.Parallel()
	srv := shiftServer(t)
	for _, table := range []string{"report", "daily", "channels", "baseline", "saving", "mix"} {
		res, body := shiftGet(t, srv.URL+"/staff/shift/data.csv?campaign=winter-page&category=schools&from=2025-12-10&table="+table)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("%s: status %d, type %q", table, res.StatusCode, res.Header.Get("Content-Type"))
			continue
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Errorf("%s: %v, %d rows", table, err, len(recs))
		}
		if table == "daily" && recs[1][0] != "2025-12-10" {
			t.Errorf("the from filter was ignored: first day %s", recs[1][0])
		}
		if table == "report" {
			for _, rec := range recs[1:] {
				if rec[1] == "avoided_calls" && rec[2] != "all" && rec[2] != "schools" {
					t.Errorf("the category filter was ignored: row for %s", rec[2])
				}
			}
		}
	}
	for _, bad := range []string{"?campaign=nope", "?campaign=winter-page&category=waste", "?campaign=winter-page&from=2027-01-01"} {
		if res, _ := shiftGet(t, srv.URL+"/staff/shift"+bad); res.StatusCode/100 != 4 {
			t.Errorf("%s: status %d, want a 4xx", bad, res.StatusCode)
		}
	}
	if res, body := shiftGet(t, srv.URL+"/staff/shift/print.css"); res.StatusCode != http.StatusOK || !strings.Contains(body, "@media print") {
		t.Errorf("print stylesheet: %d %q", res.StatusCode, body)
	}
}

// BenchmarkShiftDashboard times the dashboard page on ten years × 20
// categories × 6 channels: "first" builds the estimate (a new handler each
// time, so nothing is cached), "cached" is every later view until the data
// change. The budget is 300 ms.
func BenchmarkShiftDashboard(b *testing.B) {
	src := memShift{shifttest.Bench()}
	req := httptest.NewRequest("GET", "/staff/shift?campaign=bench", nil)
	newHandler := func() http.Handler {
		h, err := NewShiftDashboard(src, ShiftDashboardConfig{Prefix: "/staff/shift"})
		if err != nil {
			b.Fatal(err)
		}
		return h
	}
	serve := func(h http.Handler) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			serve(newHandler())
		}
	})
	b.Run("cached", func(b *testing.B) {
		h := newHandler()
		serve(h)
		for b.Loop() {
			serve(h)
		}
	})
}
