package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
)

// fakeSSO stands in for the identity provider's side of auth.OIDC (which
// auth's own tests run against a fake issuer): it hands out one flow and
// accepts the code "good" with that flow's state.
type fakeSSO struct {
	flow   auth.Flow
	signIn func() (auth.Session, error)
}

func (f *fakeSSO) AuthURL() (string, auth.Flow) {
	return "https://login.example/authorize?state=" + f.flow.State, f.flow
}

func (f *fakeSSO) Exchange(_ context.Context, flow auth.Flow, state, code string) (auth.User, auth.Session, error) {
	if flow != f.flow || state != f.flow.State {
		return auth.User{}, auth.Session{}, signpost.Errorf(signpost.EUNAUTHORIZED, "single sign-on failed (the sign-in request did not match): try signing in again")
	}
	if code != "good" {
		return auth.User{}, auth.Session{}, signpost.Errorf(signpost.EFORBIDDEN, "your organisation has not given you a Signpost role: ask your administrator")
	}
	sess, err := f.signIn()
	return auth.User{}, sess, err
}

func TestSingleSignOn(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	tok := strings.Repeat("A", 43)
	sso := &fakeSSO{flow: auth.Flow{State: "S" + tok, Nonce: "N" + tok, Verifier: "V" + tok}, signIn: func() (auth.Session, error) {
		return f.auth.SignIn(context.Background(), staffEmail(auth.Approver), staffPassword, "")
	}}
	f.srv.deps.SSO = sso
	b := &browser{t: t, h: f.srv, cookies: map[string]string{}}

	form := b.do("GET", "/staff/sign-in", nil).Body.String()
	if !strings.Contains(form, `href="/staff/sso"`) || !strings.Contains(form, "Sign in with your organisation account") {
		t.Fatalf("no single sign-on button on the sign-in page")
	}
	start := b.do("GET", "/staff/sso", nil)
	if start.Code != http.StatusSeeOther || !strings.HasPrefix(start.Header().Get("Location"), "https://login.example/authorize") {
		t.Fatalf("start: %d %q", start.Code, start.Header().Get("Location"))
	}
	// Coming back with someone else's state, or refused by the provider.
	for _, tt := range []struct {
		query string
		want  int
		says  string
	}{
		{"state=forged&code=good", http.StatusUnauthorized, "did not match"},
		{"error=access_denied&error_description=tenant+secrets", http.StatusUnauthorized, "cancelled or refused"},
	} {
		b.do("GET", "/staff/sso", nil) // a fresh flow cookie each time
		rec := b.do("GET", "/staff/sso/callback?"+tt.query, nil)
		if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.says) || !strings.Contains(rec.Body.String(), "govuk-error-summary") || strings.Contains(rec.Body.String(), "tenant secrets") {
			t.Errorf("%s: %d %.300s", tt.query, rec.Code, rec.Body.String())
		}
	}
	// The flow cookie is used once: the callback cleared it.
	if rec := b.do("GET", "/staff/sso/callback?"+url.Values{"state": {sso.flow.State}, "code": {"good"}}.Encode(), nil); rec.Code != http.StatusBadRequest {
		t.Errorf("callback without a flow cookie: %d", rec.Code)
	}
	b.do("GET", "/staff/sso", nil)
	if rec := b.do("GET", "/staff/sso/callback?"+url.Values{"state": {sso.flow.State}, "code": {"no-role"}}.Encode(), nil); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "not given you a Signpost role") {
		t.Errorf("no role: %d", rec.Code)
	}
	b.do("GET", "/staff/sso", nil)
	rec := b.do("GET", "/staff/sso/callback?"+url.Values{"state": {sso.flow.State}, "code": {"good"}}.Encode(), nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/staff" {
		t.Fatalf("callback: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if home := b.do("GET", "/staff", nil); home.Code != 200 || !strings.Contains(home.Body.String(), staffEmail(auth.Approver)) {
		t.Errorf("signed in by single sign-on, /staff: %d", home.Code)
	}
}
