package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/internal/a11y"
	"github.com/signpost-uk/signpost/store"
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
		"/contact",
		"/contact/sent",
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
		// Nor the enquiry form's.
		"contact": {"email": {"not-an-address"}},
	}
	h := testPosts(f.srv, drafts, sess.CSRFToken)
	conv := inboxConversation(f, "ann", "Is Holy Trinity Primary School open today?")
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
		"/staff/inbox",
		"/staff/inbox/stats",
		"/staff/inbox/" + itoa(conv),
	}, map[string]string{"Cookie": sessionCookie(sess)})
	a11y.Run(t, ts.URL, []string{"/test-post/contact?case=contact"})
}

// TestInboxAccessibility checks the inbox console as an administrator,
// who sees every form: an urgent conversation with a linked notice, a
// reply held for approval, notes, a redacted message, the saved replies
// and export pages, and the reply and export forms with errors.
func TestInboxAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	f := newFixture(t)
	addStaff(t, f)
	admin, author := signIn(t, f, auth.Admin), signIn(t, f, auth.Author)
	school, _ := closedSchool(t, f)
	conv := inboxConversation(f, "ann", "Is "+school+" open today? My neighbour's carer hasn't been for three days and he can't get out of bed")
	other := inboxConversation(f, "bob", "You lot are idiots")
	path := "/staff/inbox/" + itoa(conv)
	for _, step := range []struct {
		sess       auth.Session
		path, text string
	}{
		{author, path + "/reply", "Bloody hell, sorry, the gritters are late"},
		{author, path + "/notes", "Rang the school"},
		{admin, "/staff/inbox/saved", ""},
	} {
		form := url.Values{"text": {step.text}, "title": {"Gritting"}, "body": {"Priority routes first."}}
		if rec := as(t, f, step.sess, "POST", step.path, form); rec.Code != 303 {
			t.Fatalf("%s: %d", step.path, rec.Code)
		}
	}
	msgs, _ := f.db.Messages(context.Background(), other)
	if rec := as(t, f, admin, "POST", "/staff/inbox/messages/"+itoa(msgs[0].ID)+"/redact", nil); rec.Code != 303 {
		t.Fatalf("redact: %d", rec.Code)
	}
	forms := map[string]url.Values{"reply": {"text": {""}}, "export": {"who": {""}}}
	h := testPosts(f.srv, forms, admin.CSRFToken)
	cookie := map[string]string{"Cookie": sessionCookie(admin)}
	if r := get(t, h, "/test-post"+path+"/reply?case=reply", "Cookie", cookie["Cookie"]); r.status != 400 || !strings.Contains(r.body, "govuk-error-summary") {
		t.Fatalf("reply error page: %d %.300s", r.status, r.body)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	a11y.RunWithHeaders(t, ts.URL, []string{
		"/staff/inbox",
		path,
		"/staff/inbox/" + itoa(other),
		"/test-post" + path + "/reply?case=reply",
		"/staff/inbox/saved",
		"/staff/inbox/saved?edit=1",
		"/staff/inbox/export",
		"/test-post/staff/inbox/export?case=export",
		"/staff/inbox/stats",
	}, cookie)
}

// testPosts lets the checker, which can only GET, see pages that answer a
// POST: GET /test-post/PATH?case=NAME becomes a POST of forms[NAME] to
// PATH with token as its CSRF token.
func testPosts(next http.Handler, forms map[string]url.Values, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/test-post/") {
			form := forms[r.URL.Query().Get("case")]
			form.Set(auth.CSRFField, token)
			post := r.Clone(r.Context())
			post.Method = http.MethodPost
			post.URL.Path = strings.TrimPrefix(r.URL.Path, "/test-post")
			post.URL.RawQuery = ""
			post.Body = io.NopCloser(strings.NewReader(form.Encode()))
			post.ContentLength = int64(len(form.Encode()))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r = post
		}
		next.ServeHTTP(w, r)
	})
}

// TestConsoleAccessibility checks the notice console's pages, signed in as
// an admin (who sees every form on them), including a draft with risks
// highlighted, and the compose and settings forms with their error summaries.
func TestConsoleAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	f := newFixture(t)
	addStaff(t, f)
	author := console{t, f, signIn(t, f, auth.Author)}
	admin := signIn(t, f, auth.Admin)
	risky := "/staff/notices/drafts/" + idInPath(t, author.step("/staff/notices", noticeForm("Greenbank roads gritted", "Stop moaning, you idiots. Ring Zoë on 07700 900123.")))
	seeded := seedDeliveries(t, f)
	author.step(risky+"/submit", url.Values{"version": {"1"}})
	published := itoa(f.srv.snap.Load().notices[0].ID)
	forms := map[string]url.Values{
		"compose":  {"headline": {""}, "place_1": {"nowhere"}, "channels": {"site only", "masto"}},
		"settings": {"approval_from": {"sometimes"}, "pre_election_from": {"soon"}},
		"return":   {"version": {"2"}, "comment": {""}},
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/test-post/") {
			form := forms[r.URL.Query().Get("case")]
			form.Set(auth.CSRFField, admin.CSRFToken)
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
	cookie := sessionCookie(admin)
	for path, status := range map[string]int{
		"/test-post/staff/notices?case=compose":            400,
		"/test-post/staff/settings/workflow?case=settings": 400,
		"/test-post" + risky + "/return?case=return":       400,
	} {
		if r := get(t, h, path, "Cookie", cookie); r.status != status || !strings.Contains(r.body, "govuk-error-summary") {
			t.Fatalf("%s: %d %.300s", path, r.status, r.body)
		}
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	a11y.RunWithHeaders(t, ts.URL, []string{
		"/staff/notices",
		"/staff/notices/new",
		"/staff/notices/new?notice=" + published,
		risky,
		risky + "/edit",
		"/staff/notices/published/" + published,
		"/staff/settings/workflow",
		"/staff/deliveries",
		"/staff/notices/published/" + itoa(seeded.firstNotice),
		"/staff/deliveries?notice=" + itoa(seeded.firstNotice) + "&done=retried",
		"/staff/deliveries?from=31/2/2026&notice=x",
		"/test-post/staff/notices?case=compose",
		"/test-post/staff/settings/workflow?case=settings",
		"/test-post" + risky + "/return?case=return",
	}, map[string]string{"Cookie": cookie})
}

// TestAdminAccessibility checks the administration pages as an
// administrator: staff accounts, one account (with and without a banner),
// channel costs, and their forms with errors.
func TestAdminAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	f := newFixture(t)
	addStaff(t, f)
	admin := signIn(t, f, auth.Admin)
	forms := map[string]url.Values{
		"user-add":    {"name": {""}, "email": {"not an address"}, "role": {""}, "password": {"short"}},
		"user-role":   {"email": {staffEmail(auth.Admin)}, "role": {"viewer"}},
		"retention":   {"keep_days": {"-3"}},
		"cost":        {"channel": {"Phone!"}, "effective_from": {"31/2/2026"}, "fully_loaded": {"1"}, "marginal": {"2"}, "source": {""}},
		"channel":     {"type": {"email"}, "name": {"Bad Name"}, "smtp": {"mail"}, "categories": {"snow"}},
		"credentials": {"token": {""}},
	}
	// An unhealthy channel, so every page shows the banner too.
	ctx := context.Background()
	if _, err := f.db.CreateChannel(ctx, store.Channel{Name: "masto", Type: "mastodon", Config: json.RawMessage(`{"server":"https://mastodon.example","categories":["roads"]}`)}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetChannelHealth(ctx, "masto", false, "permanent: The access token is invalid (HTTP 401)"); err != nil {
		t.Fatal(err)
	}
	h := testPosts(f.srv, forms, admin.CSRFToken)
	cookie := sessionCookie(admin)
	for _, c := range []struct{ path, status string }{
		{"/test-post/staff/admin/users?case=user-add", "400"},
		{"/test-post/staff/admin/users/role?case=user-role", "409"},
		{"/test-post/staff/admin/costs?case=cost", "400"},
		{"/test-post/staff/admin/retention?case=retention", "400"},
		{"/test-post/staff/admin/channels?case=channel", "400"},
		{"/test-post/staff/admin/channels/masto/credentials?case=credentials", "400"},
	} {
		if r := get(t, h, c.path, "Cookie", cookie); itoa(int64(r.status)) != c.status || !strings.Contains(r.body, "govuk-error-summary") {
			t.Fatalf("%s: %d %.300s", c.path, r.status, r.body)
		}
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	a11y.RunWithHeaders(t, ts.URL, []string{
		"/staff",
		"/staff/admin/users",
		"/staff/admin/users/account?email=" + staffEmail(auth.Author),
		"/staff/admin/users/account?email=" + staffEmail(auth.Author) + "&done=role",
		"/test-post/staff/admin/users?case=user-add",
		"/test-post/staff/admin/users/role?case=user-role",
		"/staff/admin/costs",
		"/test-post/staff/admin/costs?case=cost",
		"/staff/admin/retention",
		"/test-post/staff/admin/retention?case=retention",
		"/staff/admin/channels",
		"/staff/admin/channels/new",
		"/staff/admin/channels/new?type=email",
		"/test-post/staff/admin/channels?case=channel",
		"/staff/admin/channels/masto",
		"/staff/admin/channels/masto?done=added",
		"/test-post/staff/admin/channels/masto/credentials?case=credentials",
		"/staff/admin/channels/masto/remove",
	}, map[string]string{"Cookie": cookie})
}
