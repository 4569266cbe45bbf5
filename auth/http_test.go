package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func TestRoles(t *testing.T) {
	t.Parallel()
	order := auth.Roles()
	for i, r := range order {
		for j, min := range order {
			if got := r.AtLeast(min); got != (i >= j) {
				t.Errorf("%s.AtLeast(%s) = %v", r, min, got)
			}
		}
		if auth.Role("").AtLeast(r) || auth.Role("root").AtLeast(r) || r.AtLeast("") {
			t.Errorf("a non-role compares with %s", r)
		}
	}
	cases := []struct {
		p    auth.Permission
		want auth.Role // lowest role that may
	}{
		{auth.ViewConsole, auth.Viewer},
		{auth.Compose, auth.Author},
		{auth.PublishUrgent, auth.Author},
		{auth.Approve, auth.Approver},
		{auth.Retract, auth.Approver},
		{auth.ExportArchive, auth.Approver},
		{auth.Deliveries, auth.Approver},
		{auth.ViewAudit, auth.Admin},
		{auth.ManageUsers, auth.Admin},
		{auth.ManageChannels, auth.Admin},
		{auth.ManagePolicy, auth.Admin},
		{auth.ManageCosts, auth.Admin},
		{"launch-rockets", ""},
	}
	for _, tc := range cases {
		for _, r := range order {
			want := tc.want != "" && r.AtLeast(tc.want)
			if got := r.Can(tc.p); got != want {
				t.Errorf("%s.Can(%s) = %v, want %v", r, tc.p, got, want)
			}
		}
	}
	for in, want := range map[string]auth.Role{"Admin": auth.Admin, " viewer ": auth.Viewer, "APPROVER": auth.Approver} {
		if got, err := auth.ParseRole(in); got != want || err != nil {
			t.Errorf("ParseRole(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := auth.ParseRole("superuser"); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("ParseRole(superuser) = %v", err)
	}
}

func ok() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
}

// TestRequireRole: anonymous and each role against each route minimum.
func TestRequireRole(t *testing.T) {
	t.Parallel()
	for _, min := range auth.Roles() {
		h := auth.RequireRole(min)(ok())
		for _, who := range append([]auth.Role{""}, auth.Roles()...) {
			req := httptest.NewRequest("GET", "/console", nil)
			if who != "" {
				req = req.WithContext(auth.NewContext(req.Context(), auth.User{Email: "x@northdale.gov.uk", Role: who}, auth.Session{}))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			want := http.StatusOK
			switch {
			case who == "":
				want = http.StatusUnauthorized
			case !who.AtLeast(min):
				want = http.StatusForbidden
			}
			if rec.Code != want {
				t.Errorf("route for %s, visitor %q: status %d, want %d", min, who, rec.Code, want)
			}
		}
	}
}

func TestRequireCSRF(t *testing.T) {
	t.Parallel()
	sess := auth.Session{CSRFToken: "the-right-token-for-this-session-0123456789ab"}
	withSession := func(r *http.Request) *http.Request {
		return r.WithContext(auth.NewContext(r.Context(), auth.User{Role: auth.Author}, sess))
	}
	form := func(v string) *http.Request {
		r := httptest.NewRequest("POST", "/console/notices", strings.NewReader(url.Values{"csrf_token": {v}, "headline": {"Roads gritted"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	cases := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"GET needs no token", withSession(httptest.NewRequest("GET", "/console", nil)), 200},
		{"HEAD needs no token", withSession(httptest.NewRequest("HEAD", "/console", nil)), 200},
		{"form with the token", withSession(form(sess.CSRFToken)), 200},
		{"form with a wrong token", withSession(form("the-right-token-for-this-session-0123456789ac")), 403},
		{"form with an empty token", withSession(form("")), 403},
		{"form with no session", form(sess.CSRFToken), 403},
		{"header with the token", func() *http.Request {
			r := withSession(httptest.NewRequest("DELETE", "/console/notices/1", nil))
			r.Header.Set(auth.CSRFHeader, sess.CSRFToken)
			return r
		}(), 200},
		{"PUT with no token", withSession(httptest.NewRequest("PUT", "/console/notices/1", nil)), 403},
		{"cross-site form with the token", func() *http.Request {
			r := withSession(form(sess.CSRFToken))
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}(), 403},
		{"same-origin form with the token", func() *http.Request {
			r := withSession(form(sess.CSRFToken))
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			return r
		}(), 200},
	}
	h := auth.RequireCSRF(ok())
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tc.req)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.want)
		}
	}
}

func TestCheckCSRF(t *testing.T) {
	t.Parallel()
	s := auth.Session{CSRFToken: "abc"}
	for tok, want := range map[string]bool{"abc": true, "abd": false, "ab": false, "abcd": false, "": false} {
		if got := auth.CheckCSRF(s, tok); got != want {
			t.Errorf("CheckCSRF(%q) = %v", tok, got)
		}
	}
	if auth.CheckCSRF(auth.Session{}, "") {
		t.Error("an empty session token matched an empty token")
	}
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 1, 6, 16, 0, 0, 0, time.UTC)
	for _, secure := range []bool{true, false} {
		c := auth.SessionCookie(auth.Session{Token: "tok", ExpiresAt: exp}, secure)
		wantName := "signpost_session"
		if secure {
			wantName = "__Host-signpost_session"
		}
		if c.Name != wantName || c.Value != "tok" || c.Path != "/" || c.Domain != "" || !c.HttpOnly ||
			c.Secure != secure || c.SameSite != http.SameSiteLaxMode || !c.Expires.Equal(exp) {
			t.Errorf("secure=%v: cookie %+v", secure, c)
		}
		if err := c.Valid(); err != nil {
			t.Errorf("secure=%v: cookie invalid: %v", secure, err)
		}
		clear := auth.ClearSessionCookie(secure)
		if clear.Name != wantName || clear.MaxAge >= 0 || clear.Value != "" {
			t.Errorf("secure=%v: clearing cookie %+v", secure, clear)
		}
	}
}

// TestMiddlewareWithRealSessions signs in through the service and sends the
// cookie through LoadSession, RequireCSRF and RequireRole as a console
// route will.
func TestMiddlewareWithRealSessions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{})
		ctx := context.Background()
		route := auth.LoadSession(f.svc, true)(auth.RequireCSRF(auth.RequireRole(auth.Approver)(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				u, _, _ := auth.FromContext(r.Context())
				w.Write([]byte(u.Email))
			}))))
		approver, _ := f.svc.SignIn(ctx, "approver@northdale.gov.uk", password, "")
		author, _ := f.svc.SignIn(ctx, "author@northdale.gov.uk", password, "")
		send := func(method string, sess *auth.Session, csrf string) *httptest.ResponseRecorder {
			var body *strings.Reader
			if csrf != "" {
				body = strings.NewReader(url.Values{"csrf_token": {csrf}}.Encode())
			} else {
				body = strings.NewReader("")
			}
			req := httptest.NewRequest(method, "https://signpost.example/console/approve/1", body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if sess != nil {
				req.AddCookie(auth.SessionCookie(*sess, true))
			}
			rec := httptest.NewRecorder()
			route.ServeHTTP(rec, req)
			return rec
		}
		if rec := send("GET", nil, ""); rec.Code != 401 {
			t.Errorf("anonymous GET: %d", rec.Code)
		}
		if rec := send("GET", &author, ""); rec.Code != 403 {
			t.Errorf("author GET: %d", rec.Code)
		}
		if rec := send("GET", &approver, ""); rec.Code != 200 || rec.Body.String() != "approver@northdale.gov.uk" {
			t.Errorf("approver GET: %d %q", rec.Code, rec.Body)
		}
		if rec := send("POST", &approver, author.CSRFToken); rec.Code != 403 {
			t.Errorf("approver POST with another session's CSRF token: %d", rec.Code)
		}
		if rec := send("POST", &approver, approver.CSRFToken); rec.Code != 200 {
			t.Errorf("approver POST with its CSRF token: %d", rec.Code)
		}
		f.clock.Advance(31 * time.Minute)
		rec := send("GET", &approver, "")
		if rec.Code != 401 {
			t.Errorf("idle session GET: %d", rec.Code)
		}
		cleared := false
		for _, c := range rec.Result().Cookies() {
			cleared = cleared || (c.Name == "__Host-signpost_session" && c.MaxAge < 0)
		}
		if !cleared {
			t.Error("an ended session's cookie was not cleared")
		}
	})
}
