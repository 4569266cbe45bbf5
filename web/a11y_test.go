package web

import (
	"net/http/httptest"
	"testing"

	"github.com/signpost-uk/signpost/internal/a11y"
)

// TestAccessibility runs axe-core in headless Chromium over every resident
// page (and the error pages), at desktop and 320px widths, and fails on any
// WCAG 2.2 AA violation. It skips, saying why, when Chromium or axe-core is
// not installed, unless SIGNPOST_A11Y_REQUIRED is set.
func TestAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	f := newFixture(t)
	snap := f.srv.snap.Load()
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	a11y.Run(t, ts.URL, []string{
		"/",
		"/area",
		"/area?postcode=ND1+1BX",
		"/area?postcode=ZZ9+9ZZ",
		"/area?postcode=nonsense",
		"/notices/" + itoa(snap.notices[0].ID),
		"/schools",
		"/schools/" + snap.schools[0].URN,
		"/routes",
		"/routes/" + snap.routes[0].ID,
		"/wards",
		"/wards/" + snap.wards[0].Code,
		"/rounds",
		"/rounds/" + snap.rounds[0].ID,
		"/map",
		"/no-such-page",
	})
}
