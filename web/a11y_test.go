package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost/auth"
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
	// The checker only loads pages: GET /test-post/… becomes an empty POST
	// to the rest of the path, for the pages a button leads to.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := strings.CutPrefix(r.URL.Path, "/test-post"); ok {
			post := r.Clone(r.Context())
			post.Method, post.URL.Path, post.Body = http.MethodPost, p, http.NoBody
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r = post
		}
		f.srv.ServeHTTP(w, r)
	}))
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
		"/subscribe",
		"/subscribe?topic=school:" + snap.schools[0].URN,
		"/test-post/subscribe", // expired form: the error summary
		"/subscribe/check-email",
		"/subscribe/confirm/" + f.subs.confirmToken,
		"/test-post/subscribe/confirm/" + f.subs.confirmToken,
		"/unsubscribe/" + f.subs.manageToken,
		"/test-post/unsubscribe/" + f.subs.manageToken,
	})
}

// TestStaffAccessibility runs the same checks over the staff pages, signed
// in as a viewer (the session cookie goes with every request). The
// "Before you post" results come from a POST, which the checker cannot
// make, so the test server turns GET /test-post/staff/check?case=… into
// the form's POST with the session's CSRF token.
func TestStaffAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	f := newFixture(t)
	addStaff(t, f)
	sess := signIn(t, f, auth.Viewer)
	drafts := map[string]url.Values{
		"findings": {"text": {"Ring Zoë on 07700 900123 or email zoe.smith@gmail.com.\nThe head says the pupils are inbreds. Vote Labour!"}, "pre_election": {"yes"}},
		"empty":    {"text": {""}},
		// The session's token is not the sign-in form's: the form comes
		// back with its error summary.
		"sign-in": {"email": {""}},
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/test-post/") {
			form := drafts[r.URL.Query().Get("case")]
			form.Set(auth.CSRFField, sess.CSRFToken)
			post := r.Clone(r.Context())
			post.Method = http.MethodPost
			post.URL.Path = strings.TrimPrefix(r.URL.Path, "/test-post")
			post.URL.RawQuery = ""
			post.Body = io.NopCloser(strings.NewReader(form.Encode()))
			post.ContentLength = int64(len(form.Encode()))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r = post
		}
		f.srv.ServeHTTP(w, r)
	})
	// The checks must see the results page, not an error in its place.
	if r := get(t, h, "/test-post/staff/check?case=findings", "Cookie", sessionCookie(sess)); r.status != 200 || !strings.Contains(r.body, "<mark>") {
		t.Fatalf("findings page: %d %.300s", r.status, r.body)
	}
	if r := get(t, h, "/test-post/staff/check?case=empty", "Cookie", sessionCookie(sess)); r.status != 400 || !strings.Contains(r.body, "govuk-error-summary") {
		t.Fatalf("error page: %d %.300s", r.status, r.body)
	}
	if r := get(t, h, "/test-post/staff/sign-in?case=sign-in"); r.status != 403 || !strings.Contains(r.body, "govuk-error-summary") {
		t.Fatalf("sign-in error page: %d %.300s", r.status, r.body)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	// The sign-in page is checked anonymously, with and without errors.
	a11y.Run(t, ts.URL, []string{"/staff/sign-in", "/staff/sign-in?signed-out", "/test-post/staff/sign-in?case=sign-in"})
	a11y.RunWithHeaders(t, ts.URL, []string{
		"/staff",
		"/staff/check",
		"/test-post/staff/check?case=findings",
		"/test-post/staff/check?case=empty",
		"/staff/shift",
		"/staff/archive",
		"/staff/archive?text=closed&category=schools&page=2",
		"/staff/archive?from=nonsense&to=31/2/2026",
	}, map[string]string{"Cookie": sessionCookie(sess)})
}
