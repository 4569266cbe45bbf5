package auth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// fakeIssuer is a minimal OpenID Connect provider: discovery, a JWKS with
// one RSA key, and a token endpoint that checks PKCE and the client secret
// and returns an RS256 ID token for codes the test issued.
type fakeIssuer struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	mu    sync.Mutex
	codes map[string]grant
}

type grant struct {
	challenge string
	claims    map[string]any
	signWith  *rsa.PrivateKey // nil: the published key
}

const (
	clientID     = "signpost-test"
	clientSecret = "s3cret-from-env"
)

func newFakeIssuer(t *testing.T) *fakeIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fi := &fakeIssuer{key: key, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": fi.srv.URL, "authorization_endpoint": fi.srv.URL + "/authorize",
			"token_endpoint": fi.srv.URL + "/token", "jwks_uri": fi.srv.URL + "/jwks",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		b64 := base64.RawURLEncoding.EncodeToString
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "test-key", "use": "sig", "alg": "RS256",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		if id != clientID || secret != clientSecret || r.PostFormValue("grant_type") != "authorization_code" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		fi.mu.Lock()
		g, found := fi.codes[r.PostFormValue("code")]
		delete(fi.codes, r.PostFormValue("code"))
		fi.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !found || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		signer := key
		if g.signWith != nil {
			signer = g.signWith
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"access_token": "access", "token_type": "Bearer", "expires_in": 3600,
			"id_token": signRS256(t, signer, g.claims),
		})
	})
	fi.srv = httptest.NewServer(mux)
	t.Cleanup(fi.srv.Close)
	return fi
}

func signRS256(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "test-key"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// signIn plays the browser and the provider's login page: it follows
// AuthURL, has the provider issue a code for claims (adjusted by edit), and
// returns the state and code the callback would receive.
func (fi *fakeIssuer) signIn(t *testing.T, o *auth.OIDC, now time.Time, claims map[string]any, signWith *rsa.PrivateKey) (auth.Flow, string, string) {
	t.Helper()
	authURL, flow := o.AuthURL()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if !strings.HasPrefix(authURL, fi.srv.URL+"/authorize?") || q.Get("client_id") != clientID ||
		q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("state") != flow.State || q.Get("nonce") != flow.Nonce || !strings.Contains(q.Get("scope"), "openid") ||
		q.Get("redirect_uri") != "https://signpost.example/auth/callback" {
		t.Fatalf("AuthURL %s is missing part of the request", authURL)
	}
	if q.Get("code_challenge") == flow.Verifier {
		t.Fatal("PKCE challenge is the plain verifier")
	}
	full := map[string]any{
		"iss": fi.srv.URL, "aud": clientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"nonce": q.Get("nonce"),
	}
	for k, v := range claims {
		if v == nil {
			delete(full, k)
			continue
		}
		full[k] = v
	}
	code := "code-" + flow.State[:8]
	fi.mu.Lock()
	fi.codes[code] = grant{challenge: q.Get("code_challenge"), claims: full, signWith: signWith}
	fi.mu.Unlock()
	return flow, q.Get("state"), code
}

func oidcConfig(fi *fakeIssuer) auth.OIDCConfig {
	return auth.OIDCConfig{
		Issuer: fi.srv.URL, ClientID: clientID, ClientSecret: clientSecret,
		RedirectURL: "https://signpost.example/auth/callback", RoleClaim: "roles",
		RoleMap: map[string]auth.Role{"Signpost.Author": auth.Author, "Signpost.Approver": auth.Approver, "Signpost.Admin": auth.Admin},
	}
}

func TestOIDCSignIn(t *testing.T) {
	fi := newFakeIssuer(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	alice := func(extra map[string]any) map[string]any {
		c := map[string]any{"sub": "alice-oid", "email": "Alice.Smith@Northdale.gov.uk", "email_verified": true,
			"name": "Alice Smith", "roles": []string{"Signpost.Author", "Some.Other.App"}}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	type step struct {
		name     string
		claims   map[string]any
		signWith *rsa.PrivateKey
		mangle   func(f *auth.Flow, state, code *string)
		before   func(t *testing.T, ctx context.Context, f *fixture)
		wantCode string    // "" for success
		wantRole auth.Role // on success
	}
	cases := []struct {
		name  string
		cfg   func(*auth.OIDCConfig)
		steps []step
	}{
		{name: "first sign-in creates the account, later ones follow the provider's roles", steps: []step{
			{name: "first", claims: alice(nil), wantRole: auth.Author},
			{name: "promoted", claims: alice(map[string]any{"roles": []string{"Signpost.Author", "Signpost.Approver"}}), wantRole: auth.Approver},
			{name: "single role as a string", claims: alice(map[string]any{"roles": "Signpost.Admin"}), wantRole: auth.Admin},
			{name: "no mapped role left", claims: alice(map[string]any{"roles": []string{"Some.Other.App"}}), wantCode: signpost.EFORBIDDEN},
		}},
		{name: "default role", cfg: func(c *auth.OIDCConfig) { c.DefaultRole = auth.Viewer }, steps: []step{
			{name: "unmapped gets the default", claims: alice(map[string]any{"roles": nil}), wantRole: auth.Viewer},
		}},
		{name: "refusals", steps: []step{
			{name: "state mismatch", claims: alice(nil), mangle: func(_ *auth.Flow, state, _ *string) { *state += "x" }, wantCode: signpost.EUNAUTHORIZED},
			{name: "empty flow", claims: alice(nil), mangle: func(f *auth.Flow, state, _ *string) { *f = auth.Flow{}; *state = "" }, wantCode: signpost.EUNAUTHORIZED},
			{name: "wrong PKCE verifier", claims: alice(nil), mangle: func(f *auth.Flow, _, _ *string) { f.Verifier += "x" }, wantCode: signpost.EUNAUTHORIZED},
			{name: "unknown code", claims: alice(nil), mangle: func(_ *auth.Flow, _, code *string) { *code = "forged" }, wantCode: signpost.EUNAUTHORIZED},
			{name: "nonce mismatch", claims: alice(map[string]any{"nonce": "replayed"}), wantCode: signpost.EUNAUTHORIZED},
			{name: "no nonce", claims: alice(map[string]any{"nonce": nil}), wantCode: signpost.EUNAUTHORIZED},
			{name: "signed by another key", claims: alice(nil), signWith: otherKey, wantCode: signpost.EUNAUTHORIZED},
			{name: "for another client", claims: alice(map[string]any{"aud": "someone-else"}), wantCode: signpost.EUNAUTHORIZED},
			{name: "from another issuer", claims: alice(map[string]any{"iss": "https://evil.example"}), wantCode: signpost.EUNAUTHORIZED},
			{name: "expired", claims: alice(map[string]any{"exp": time.Date(2026, 1, 6, 3, 0, 0, 0, time.UTC).Unix()}), wantCode: signpost.EUNAUTHORIZED},
			{name: "no address", claims: alice(map[string]any{"email": nil}), wantCode: signpost.EFORBIDDEN},
			{name: "nothing was created", claims: alice(nil), wantRole: auth.Author},
		}},
		{name: "an existing local account is not taken over by default", steps: []step{
			{name: "same address", claims: alice(map[string]any{"email": "author@northdale.gov.uk"}), wantCode: signpost.ECONFLICT},
		}},
		{name: "linking by verified address when allowed", cfg: func(c *auth.OIDCConfig) { c.LinkByEmail = true }, steps: []step{
			{name: "unverified address", claims: alice(map[string]any{"email": "author@northdale.gov.uk", "email_verified": false}), wantCode: signpost.ECONFLICT},
			{name: "verified address", claims: alice(map[string]any{"email": "author@northdale.gov.uk", "roles": []string{"Signpost.Approver"}}), wantRole: auth.Approver},
		}},
		{name: "a disabled account stays out", steps: []step{
			{name: "first", claims: alice(nil), wantRole: auth.Author},
			{name: "disabled", claims: alice(nil), wantCode: signpost.EFORBIDDEN,
				before: func(t *testing.T, ctx context.Context, f *fixture) {
					if _, err := f.svc.Disable(ctx, "cli:test", "alice.smith@northdale.gov.uk"); err != nil {
						t.Fatal(err)
					}
				}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				f := newFixture(t, db, auth.Config{})
				ctx := context.Background()
				cfg := oidcConfig(fi)
				if tc.cfg != nil {
					tc.cfg(&cfg)
				}
				o, err := f.svc.NewOIDC(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range tc.steps {
					if st.before != nil {
						st.before(t, ctx, f)
					}
					flow, state, code := fi.signIn(t, o, f.clock.Now(), st.claims, st.signWith)
					if st.mangle != nil {
						st.mangle(&flow, &state, &code)
					}
					u, sess, err := o.Exchange(ctx, flow, state, code)
					if got := signpost.ErrorCode(err); got != st.wantCode {
						t.Fatalf("%s: Exchange error %v, want code %q", st.name, err, st.wantCode)
					}
					if st.wantCode != "" {
						continue
					}
					if u.Role != st.wantRole || !u.SSO {
						t.Errorf("%s: user %+v, want role %s via single sign-on", st.name, u, st.wantRole)
					}
					au, _, err := f.svc.Authenticate(ctx, sess.Token)
					if err != nil || au.ID != u.ID || au.Role != st.wantRole {
						t.Errorf("%s: session authenticates as %+v, %v", st.name, au, err)
					}
				}
				users, _ := f.svc.Users(ctx)
				if len(users) > 5 {
					t.Errorf("%d accounts: a refused sign-in created one", len(users))
				}
				if rep, err := audit.Verify(ctx, db); err != nil || rep.Broken != nil {
					t.Errorf("audit verify = %+v, %v", rep, err)
				}
			})
		})
	}
}

func TestMapClaimRole(t *testing.T) {
	t.Parallel()
	m := map[string]auth.Role{"a": auth.Author, "b": auth.Approver, "x": auth.Admin}
	cases := []struct {
		claim any
		want  auth.Role
	}{
		{"a", auth.Author},
		{[]any{"a", "b"}, auth.Approver},
		{[]any{"b", "a", 7, nil}, auth.Approver},
		{[]string{"x", "a"}, auth.Admin},
		{[]any{"zzz"}, ""},
		{nil, ""},
		{42.0, ""},
		{map[string]any{"a": true}, ""},
	}
	for _, tc := range cases {
		if got, _ := auth.MapClaimRole(tc.claim, m); got != tc.want {
			t.Errorf("MapClaimRole(%v) = %q, want %q", tc.claim, got, tc.want)
		}
	}
}

func TestLoadOIDCConfig(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	if cfg, err := auth.LoadOIDCConfig(env()); cfg != nil || err != nil {
		t.Errorf("no issuer: %+v, %v; want nil, nil", cfg, err)
	}
	cfg, err := auth.LoadOIDCConfig(env("SIGNPOST_OIDC_ISSUER", "https://login.example/tenant/v2.0", "SIGNPOST_OIDC_CLIENT_ID", "id",
		"SIGNPOST_OIDC_CLIENT_SECRET", "secret", "SIGNPOST_OIDC_REDIRECT_URL", "https://signpost.example/auth/callback",
		"SIGNPOST_OIDC_ROLES", "Signpost.Admin=admin, cn=comms=author", "SIGNPOST_OIDC_LINK_BY_EMAIL", "true"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientSecret != "secret" || cfg.RoleClaim != "roles" || !cfg.LinkByEmail || cfg.RoleMap["Signpost.Admin"] != auth.Admin {
		t.Errorf("config = %+v", cfg)
	}
	for _, bad := range [][]string{
		{"SIGNPOST_OIDC_ISSUER", "https://x", "SIGNPOST_OIDC_CLIENT_ID", "id"},
		{"SIGNPOST_OIDC_ISSUER", "https://x", "SIGNPOST_OIDC_CLIENT_ID", "id", "SIGNPOST_OIDC_REDIRECT_URL", "https://y", "SIGNPOST_OIDC_ROLES", "x=root"},
		{"SIGNPOST_OIDC_ISSUER", "https://x", "SIGNPOST_OIDC_CLIENT_ID", "id", "SIGNPOST_OIDC_REDIRECT_URL", "https://y", "SIGNPOST_OIDC_DEFAULT_ROLE", "god"},
		{"SIGNPOST_OIDC_ISSUER", "https://x", "SIGNPOST_OIDC_CLIENT_ID", "id", "SIGNPOST_OIDC_REDIRECT_URL", "https://y", "SIGNPOST_OIDC_LINK_BY_EMAIL", "maybe"},
	} {
		if _, err := auth.LoadOIDCConfig(env(bad...)); signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("LoadOIDCConfig(%v) = %v, want %s", bad, err, signpost.EINVALID)
		}
	}
}

func TestParseRoleMap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want map[string]auth.Role
		ok   bool
	}{
		{"", map[string]auth.Role{}, true},
		{"A=admin", map[string]auth.Role{"A": auth.Admin}, true},
		{" A = Admin , B=viewer,", map[string]auth.Role{"A": auth.Admin, "B": auth.Viewer}, true},
		{"cn=comms=author", map[string]auth.Role{"cn=comms": auth.Author}, true},
		{"A=admin,A=admin", map[string]auth.Role{"A": auth.Admin}, true},
		{"A=admin,A=viewer", nil, false},
		{"A", nil, false},
		{"=admin", nil, false},
		{"A=root", nil, false},
	}
	for _, tc := range cases {
		got, err := auth.ParseRoleMap(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseRoleMap(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && len(got) != len(tc.want) {
			t.Errorf("ParseRoleMap(%q) = %v, want %v", tc.in, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("ParseRoleMap(%q)[%q] = %q, want %q", tc.in, k, got[k], v)
			}
		}
	}
}

// FuzzParseRoleMap: never panics; everything accepted maps a non-empty
// value to a real role.
func FuzzParseRoleMap(f *testing.F) {
	for _, s := range []string{"A=admin", "cn=x,ou=y=author", ",,=,", "A=admin,A=viewer"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := auth.ParseRoleMap(s)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || !v.Valid() {
				t.Fatalf("ParseRoleMap(%q) mapped %q to %q", s, k, v)
			}
		}
	})
}

func TestFlowCookie(t *testing.T) {
	t.Parallel()
	fi := newFakeIssuer(t)
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db, auth.Config{})
	o, err := f.svc.NewOIDC(context.Background(), oidcConfig(fi))
	if err != nil {
		t.Fatal(err)
	}
	_, flow := o.AuthURL()
	for _, secure := range []bool{true, false} {
		c := auth.FlowCookie(flow, secure)
		if !c.HttpOnly || c.Secure != secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge <= 0 || c.MaxAge > 900 || c.Path != "/" {
			t.Errorf("flow cookie %+v", c)
		}
		if secure != strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("flow cookie name %q over HTTPS=%v", c.Name, secure)
		}
		req := httptest.NewRequest("GET", "/auth/callback", nil)
		req.AddCookie(c)
		got, ok := auth.FlowFromRequest(req, secure)
		if !ok || got != flow {
			t.Errorf("flow back from the cookie = %+v, %v; want %+v", got, ok, flow)
		}
		if _, ok := auth.FlowFromRequest(httptest.NewRequest("GET", "/auth/callback", nil), secure); ok {
			t.Error("a flow from a request without the cookie")
		}
		if clear := auth.ClearFlowCookie(secure); clear.Name != c.Name || clear.MaxAge >= 0 {
			t.Errorf("clearing cookie %+v", clear)
		}
	}
	tok := strings.Repeat("A", 43)
	for _, bad := range []string{"", tok, tok + "." + tok, tok + "." + tok + "." + tok + "." + tok,
		tok + ".." + tok, tok + "." + tok + ".short", tok + "." + tok + "." + strings.Repeat("A", 42) + "=",
		tok + "." + tok + "." + strings.Repeat("A", 200)} {
		if _, ok := auth.ParseFlow(bad); ok {
			t.Errorf("ParseFlow(%q) accepted", bad)
		}
	}
}

// FuzzParseFlow: never panics, and accepts only what FlowCookie writes.
func FuzzParseFlow(f *testing.F) {
	tok := strings.Repeat("A", 43)
	for _, s := range []string{tok + "." + tok + "." + tok, "a.b.c", "..", tok + "." + tok + "." + tok + "="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flow, ok := auth.ParseFlow(s)
		if !ok {
			return
		}
		if back := auth.FlowCookie(flow, true).Value; back != s {
			t.Fatalf("ParseFlow(%q) round-trips to %q", s, back)
		}
	})
}
