package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/risk"
)

const staffPassword = "plough-lantern-harbour-42"

// staffEmail is the test account for a role.
func staffEmail(role auth.Role) string { return string(role) + "@northdale.example" }

// addStaff creates one account per role.
func addStaff(t testing.TB, f *fixture) {
	t.Helper()
	for _, role := range auth.Roles() {
		_, err := f.auth.CreateUser(context.Background(), "test", auth.NewUser{Email: staffEmail(role), Name: "Test " + string(role), Role: role, Password: staffPassword})
		if err != nil {
			t.Fatalf("create %s: %v", role, err)
		}
	}
}

// signIn starts a session for role's account through the auth service.
func signIn(t testing.TB, f *fixture, role auth.Role) auth.Session {
	t.Helper()
	sess, err := f.auth.SignIn(context.Background(), staffEmail(role), staffPassword, "192.0.2.1")
	if err != nil {
		t.Fatalf("sign in as %s: %v", role, err)
	}
	return sess
}

// sessionCookie is the cookie header for sess on the fixture's https site.
func sessionCookie(sess auth.Session) string {
	return auth.SessionCookie(sess, true).String()
}

// exampleRequest builds ex as a request, signed in when sess is non-nil.
func exampleRequest(method string, ex routeExample, sess *auth.Session) *http.Request {
	var body io.Reader
	form := url.Values{}
	for k, v := range ex.form {
		form[k] = v
	}
	switch {
	case ex.json != "":
		body = strings.NewReader(ex.json)
	case ex.form != nil:
		if sess != nil {
			form.Set(auth.CSRFField, sess.CSRFToken)
		}
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, ex.path, body)
	switch {
	case ex.json != "":
		req.Header.Set("Content-Type", "application/json")
	case ex.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if sess != nil {
		req.Header.Set("Cookie", sessionCookie(*sess))
		if method == http.MethodPost && ex.form == nil {
			req.Header.Set(auth.CSRFHeader, sess.CSRFToken)
		}
	}
	return req
}

// TestRouteTable requests every route in the table anonymously and as each
// role, and checks the status its access level implies: public routes
// answer the example's status to everyone; staff routes send anonymous
// visitors to the sign-in page (the API answers 401), refuse too low a role
// with 403 and serve the rest. A route without examples fails the test.
func TestRouteTable(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	examples := routeExamples(t, f)
	seen := map[string]bool{}
	for _, rt := range f.srv.routes {
		key := rt.method + " " + rt.pattern
		seen[key] = true
		if rt.access != accessPublic {
			if _, err := auth.ParseRole(rt.access); err != nil {
				t.Errorf("%s: access %q is neither public nor a role", key, rt.access)
			}
		}
		if _, ok := examples[key]; !ok {
			t.Errorf("%s: no example request in routeExamples", key)
		}
	}
	for key := range examples {
		if !seen[key] {
			t.Errorf("example for %s, which is not in the route table", key)
		}
	}
	identities := append([]auth.Role{""}, auth.Roles()...)
	for _, who := range identities {
		name := string(who)
		if who == "" {
			name = "anonymous"
		}
		t.Run(name, func(t *testing.T) {
			var sess *auth.Session
			if who != "" {
				s := signIn(t, f, who)
				sess = &s
			}
			for _, rt := range f.srv.routes {
				key := rt.method + " " + rt.pattern
				for _, ex := range examples[key] {
					rec := httptest.NewRecorder()
					f.srv.ServeHTTP(rec, exampleRequest(rt.method, ex, sess))
					want := ex.status
					if rt.access != accessPublic {
						min, _ := auth.ParseRole(rt.access)
						switch {
						case who == "" && strings.HasPrefix(ex.path, "/api/"):
							want = http.StatusUnauthorized
						case who == "":
							want = http.StatusSeeOther
						case !who.AtLeast(min):
							want = http.StatusForbidden
						}
						// Staff pages are never stored; the dashboard's print
						// stylesheet, the same for everyone, may be.
						cc := rec.Header().Get("Cache-Control")
						css := strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css")
						if !strings.Contains(cc, "no-store") && !css && rec.Code != http.StatusSeeOther {
							t.Errorf("%s %s: Cache-Control %q on a staff route", rt.method, ex.path, cc)
						}
					}
					if rec.Code != want {
						t.Errorf("%s %s: status %d, want %d; body %.200q", rt.method, ex.path, rec.Code, want, rec.Body.String())
					}
					if who == "" && want == http.StatusSeeOther && rt.access != accessPublic {
						loc := rec.Header().Get("Location")
						if !strings.HasPrefix(loc, "/staff/sign-in?next=") {
							t.Errorf("%s %s: redirects to %q, want the sign-in page", rt.method, ex.path, loc)
						}
					}
					if key == "POST /staff/sign-out" && sess != nil {
						s := signIn(t, f, who) // that ended the session
						sess = &s
					}
				}
			}
		})
	}
}

// TestStaffRoleRefused checks the too-low-role path with a route that
// needs more than any route in the table does today.
func TestStaffRoleRefused(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	h := f.srv.staffOnly(auth.Approver, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	for _, tt := range []struct {
		role auth.Role
		want int
	}{{auth.Viewer, 403}, {auth.Author, 403}, {auth.Approver, 200}, {auth.Admin, 200}} {
		sess := signIn(t, f, tt.role)
		r := get(t, h, "/staff/approve", "Cookie", sessionCookie(sess))
		if r.status != tt.want {
			t.Errorf("%s: status %d, want %d", tt.role, r.status, tt.want)
		}
	}
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// browser is a minimal cookie-keeping client over the handler.
type browser struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]string
}

func (b *browser) do(method, target string, form url.Values, header ...string) *httptest.ResponseRecorder {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for name, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return rec
}

func (b *browser) token(body string) string {
	b.t.Helper()
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no CSRF token in page: %.300s", body)
	}
	return m[1]
}

func TestSignInFlow(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	b := &browser{t: t, h: f.srv, cookies: map[string]string{}}

	// Anonymous: a staff page sends you to sign in, remembering where.
	rec := b.do("GET", "/staff/check", nil)
	if rec.Code != 303 || rec.Header().Get("Location") != "/staff/sign-in?next=%2Fstaff%2Fcheck" {
		t.Fatalf("anonymous /staff/check: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = b.do("GET", rec.Header().Get("Location"), nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `name="next" value="/staff/check"`) {
		t.Fatalf("sign-in form: %d %.500s", rec.Code, rec.Body.String())
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("sign-in form Cache-Control %q", cc)
	}
	tok := b.token(rec.Body.String())
	form := func(email, password string) url.Values {
		return url.Values{"email": {email}, "password": {password}, "next": {"/staff/check"}, auth.CSRFField: {tok}}
	}

	// Wrong token, cross-site, empty fields, wrong password: refused, and
	// the same message whether or not the address has an account.
	bad := form(staffEmail(auth.Viewer), staffPassword)
	bad.Set(auth.CSRFField, tok+"x")
	if rec := b.do("POST", "/staff/sign-in", bad); rec.Code != 403 || !strings.Contains(rec.Body.String(), "form had expired") {
		t.Errorf("bad token: %d", rec.Code)
	}
	if rec := b.do("POST", "/staff/sign-in", form(staffEmail(auth.Viewer), staffPassword), "Sec-Fetch-Site", "cross-site"); rec.Code != 403 {
		t.Errorf("cross-site sign-in: %d", rec.Code)
	}
	if rec := b.do("POST", "/staff/sign-in", form("", "")); rec.Code != 400 || !strings.Contains(rec.Body.String(), "Enter your e-mail address") || !strings.Contains(rec.Body.String(), "Enter your password") {
		t.Errorf("empty form: %d", rec.Code)
	}
	for _, email := range []string{staffEmail(auth.Viewer), "nobody@northdale.example"} {
		rec := b.do("POST", "/staff/sign-in", form(email, "wrong password here"))
		if rec.Code != 401 || !strings.Contains(rec.Body.String(), "The e-mail address or password is wrong") {
			t.Errorf("wrong password for %s: %d %.300s", email, rec.Code, rec.Body.String())
		}
		if strings.Contains(rec.Body.String(), "wrong password here") {
			t.Errorf("the password was echoed back")
		}
	}

	// The right password: a session cookie, Secure and HttpOnly on the
	// https site, and back to where you were going.
	rec = b.do("POST", "/staff/sign-in", form(staffEmail(auth.Viewer), staffPassword))
	if rec.Code != 303 || rec.Header().Get("Location") != "/staff/check" {
		t.Fatalf("sign in: %d %q %.300s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	var session *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == auth.SessionCookieName(true) {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", session)
	}
	rec = b.do("GET", "/staff", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Test viewer") || !strings.Contains(rec.Body.String(), "viewer") {
		t.Fatalf("staff home: %d %.300s", rec.Code, rec.Body.String())
	}

	// Sign out needs the session's token; then staff pages redirect again.
	if rec := b.do("POST", "/staff/sign-out", url.Values{}); rec.Code != 403 {
		t.Errorf("sign out without token: %d", rec.Code)
	}
	rec = b.do("POST", "/staff/sign-out", url.Values{auth.CSRFField: {b.token(b.do("GET", "/staff", nil).Body.String())}})
	if rec.Code != 303 {
		t.Fatalf("sign out: %d", rec.Code)
	}
	if rec := b.do("GET", "/staff", nil); rec.Code != 303 {
		t.Errorf("after sign-out /staff: %d", rec.Code)
	}
}

func TestSignInLockOut(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	b := &browser{t: t, h: f.srv, cookies: map[string]string{}}
	tok := b.token(b.do("GET", "/staff/sign-in", nil).Body.String())
	try := func(password string) *httptest.ResponseRecorder {
		return b.do("POST", "/staff/sign-in", url.Values{"email": {staffEmail(auth.Author)}, "password": {password}, auth.CSRFField: {tok}})
	}
	for range f.auth.Config().MaxFailures {
		try("not the password")
	}
	rec := try(staffPassword) // right, but too late
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "too many failed sign-ins") {
		t.Errorf("locked out: %d %.400s", rec.Code, rec.Body.String())
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/staff/check", "/staff/check"},
		{"/staff/shift?campaign=winter", "/staff/shift?campaign=winter"},
		{"", "/staff"},
		{"//evil.example/", "/staff"},
		{`/\evil.example`, "/staff"},
		{"https://evil.example/", "/staff"},
		{"javascript:alert(1)", "/staff"},
		{"staff", "/staff"},
		{"/a\nb", "/staff"},
		{"/%2F%2Fevil", "/%2F%2Fevil"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/staff", "//x", `/\x`, "http://x", "/a?b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.Contains(got, `\`) {
			t.Fatalf("safeNext(%q) = %q leaves the site", s, got)
		}
	})
}

func TestHighlight(t *testing.T) {
	text := "Café <b>bad</b> word ✓ end\nline two"
	at := func(s string) (int, int) {
		i := strings.Index(text, s)
		return i, i + len(s)
	}
	s1, e1 := at("<b>bad</b>")
	s2, e2 := at("bad")
	s3, e3 := at("word ✓")
	s4, e4 := at("end\nline")
	tests := []struct {
		name string
		fs   []risk.Finding
		want string // pieces joined by |: [N]text for a mark (* where its number follows), / for a break
	}{
		{"none", nil, "Café <b>bad</b> word ✓ end|/|line two"},
		{"one", []risk.Finding{{Start: s3, End: e3}}, "Café <b>bad</b> |[1]word ✓*| end|/|line two"},
		{"nested is listed not marked", []risk.Finding{{Start: s1, End: e1}, {Start: s2, End: e2}}, "Café |[1]<b>bad</b>*| word ✓ end|/|line two"},
		{"overlap marked from the end of the first", []risk.Finding{{Start: s1, End: s2 + 1}, {Start: s2, End: e1}}, "Café |[1]<b>b*|[2]ad</b>*| word ✓ end|/|line two"},
		{"mark across lines", []risk.Finding{{Start: s4, End: e4}}, "Café <b>bad</b> word ✓ |[1]end|/|[1]line*| two"},
		{"mid-character span is not marked", []risk.Finding{{Start: 4, End: 5}}, "Café <b>bad</b> word ✓ end|/|line two"},
		{"out of range", []risk.Finding{{Start: -1, End: 3}, {Start: 3, End: 999}, {Start: 5, End: 5}}, "Café <b>bad</b> word ✓ end|/|line two"},
	}
	for _, tt := range tests {
		var parts []string
		for _, p := range highlight(text, tt.fs) {
			switch {
			case p.Break:
				parts = append(parts, "/")
			case p.N > 0 && p.Ref:
				parts = append(parts, "["+itoa(int64(p.N))+"]"+p.Text+"*")
			case p.N > 0:
				parts = append(parts, "["+itoa(int64(p.N))+"]"+p.Text)
			default:
				parts = append(parts, p.Text)
			}
		}
		if got := strings.Join(parts, "|"); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func FuzzHighlight(f *testing.F) {
	f.Add("Ring 07700 900123 now", 5, 17, 0, 3)
	f.Add("é✓\nx", 1, 2, 0, 5)
	f.Fuzz(func(t *testing.T, text string, s1, e1, s2, e2 int) {
		pieces := highlight(text, []risk.Finding{{Start: s1, End: e1}, {Start: s2, End: e2}})
		var b strings.Builder
		for _, p := range pieces {
			if p.Break {
				b.WriteByte('\n')
				continue
			}
			b.WriteString(p.Text)
		}
		if b.String() != text {
			t.Fatalf("pieces %q do not rebuild %q", b.String(), text)
		}
	})
}

func TestCheckPage(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t)
	addStaff(t, f)
	f.srv.log = slogToLevel(&logs, -8) // everything, to prove no text reaches it
	sess := signIn(t, f, auth.Viewer)
	post := func(form url.Values) result {
		form.Set(auth.CSRFField, sess.CSRFToken)
		req := httptest.NewRequest("POST", "/staff/check", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", sessionCookie(sess))
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		return result{rec.Code, rec.Header(), rec.Body.String()}
	}
	text := "Ring Zoë on 07700 900123 <script>alert(1)</script>\nThanks"
	r := post(url.Values{"text": {text}, "context": {"outgoing"}})
	if r.status != 200 {
		t.Fatalf("status %d: %.500s", r.status, r.body)
	}
	for _, want := range []string{"Nothing you paste here is saved or logged", "Overall risk", "personal-data", "<mark>07700 900123</mark>",
		"&lt;script&gt;alert(1)&lt;/script&gt;", "Zoë", "<br>", `href="#finding-1"`, `id="finding-1"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(r.body, "<script>alert") {
		t.Error("the draft's markup was not escaped")
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if strings.Contains(logs.String(), "07700") || strings.Contains(logs.String(), "Zoë") {
		t.Errorf("the draft reached the log: %s", logs.String())
	}
	// The same findings as the JSON API gives for the same text.
	rep := f.srv.deps.Screener.Screen(context.Background(), strings.ReplaceAll(text, "\r\n", "\n"), risk.Options{Now: f.clock.Now()})
	if n := strings.Count(r.body, `class="govuk-summary-card" id="finding-`); n != len(rep.Findings) {
		t.Errorf("%d findings listed, screener gives %d", n, len(rep.Findings))
	}
	if !strings.Contains(r.body, ">"+rep.Level.String()+"</strong>") {
		t.Errorf("overall level %s not shown", rep.Level)
	}
	// Incoming and pre-election choices are kept on the form.
	r = post(url.Values{"text": {"hello"}, "context": {"incoming"}, "pre_election": {"yes"}})
	if !regexp.MustCompile(`value="incoming" checked`).MatchString(r.body) || !strings.Contains(r.body, `value="yes" checked`) {
		t.Errorf("choices not kept")
	}
	// Empty text is an error on the field.
	if r := post(url.Values{"text": {"   "}}); r.status != 400 || !strings.Contains(r.body, "Enter the text you want to check") {
		t.Errorf("empty: %d", r.status)
	}
	// Without the CSRF token, refused.
	req := httptest.NewRequest("POST", "/staff/check", strings.NewReader("text=hello"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", sessionCookie(sess))
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Errorf("no CSRF token: %d", rec.Code)
	}
}

func TestCheckAPINeedsSession(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	sess := signIn(t, f, auth.Viewer)
	body := `{"text": "Ring me on 07700 900123"}`
	tests := []struct {
		name   string
		header []string
		want   int
	}{
		{"anonymous", nil, 401},
		{"no CSRF header", []string{"Cookie", sessionCookie(sess)}, 403},
		{"signed in", []string{"Cookie", sessionCookie(sess), auth.CSRFHeader, sess.CSRFToken}, 200},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("POST", "/api/v1/check", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(tt.header); i += 2 {
			req.Header.Set(tt.header[i], tt.header[i+1])
		}
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s: %d, want %d: %s", tt.name, rec.Code, tt.want, rec.Body.String())
		}
		if tt.want == 200 {
			var rep risk.Report
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || len(rep.Findings) == 0 {
				t.Errorf("report %v %+v", err, rep)
			}
		}
	}
}

func TestSecureCookies(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		base string
		tls  bool
		want bool
	}{
		{"https://signpost.example", false, true}, // TLS ended at a proxy
		{"http://127.0.0.1:8080", false, false},   // the demo
		{"http://127.0.0.1:8080", true, true},
	}
	for _, tt := range tests {
		s, err := NewServer(Config{BaseURL: tt.base, Now: f.clock.Now}, Deps{Places: f.db, Notices: f.db})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/staff/sign-in", nil)
		if tt.tls {
			req.TLS = &tls.ConnectionState{}
		}
		if got := s.secureCookies(req); got != tt.want {
			t.Errorf("%s tls=%v: secure %v, want %v", tt.base, tt.tls, got, tt.want)
		}
		rec := httptest.NewRecorder()
		s.handleSignInForm().ServeHTTP(rec, req)
		cs := rec.Result().Cookies()
		if len(cs) != 1 || cs[0].Secure != tt.want || cs[0].Name != signInCookieName(tt.want) || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode {
			t.Errorf("%s tls=%v: sign-in cookie %+v", tt.base, tt.tls, cs)
		}
	}
}

func TestSignInTokenExpires(t *testing.T) {
	f := newFixture(t)
	tok := f.srv.newSignInToken()
	if !f.srv.validSignInToken(tok) {
		t.Fatal("fresh token refused")
	}
	for _, bad := range []string{"", tok + "x", "1." + tok, strings.Replace(tok, ".", "!", 1)} {
		if f.srv.validSignInToken(bad) {
			t.Errorf("accepted %q", bad)
		}
	}
	f.clock.Set(testNow.Add(signInTokenTTL + time.Minute))
	if f.srv.validSignInToken(tok) {
		t.Error("token still valid after its lifetime")
	}
	f.clock.Set(testNow)
	if other := newFixture(t); other.srv.validSignInToken(tok) {
		t.Error("another server's token accepted")
	}
}
