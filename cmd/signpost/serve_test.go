package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCouncil writes a second council's open data in the Northdale formats
// but with its own codes, names and a different header order, BOM and LF
// line ends, to show nothing is specific to Northdale.
func writeCouncil(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"wards":     "\ufeffward_name,ward_code,lat,lon\nMarsh End,E05009001,51.501,0.101\nHigh Street,E05009002,51.512,0.122\n",
		"postcodes": "postcode,ward_code,lat,lon\nzz11aa,E05009001,51.5011,0.1012\nZZ1 2AB,E05009002,51.5120,0.1220\n",
		"schools":   "urn,name,phase,ward_code,postcode,lat,lon,phone\n900001,Marsh End Academy,secondary,E05009001,ZZ1 1AA,51.5015,0.1015,020 7946 0001\n900002,High Street Infants,primary,E05009002,ZZ1 2AB,51.5121,0.1221,\n",
		"routes": `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"route_id":"P1","name":"Primary 1","priority":1,"wards":["E05009001","E05009002"],"length_km":3.2},
"geometry":{"type":"LineString","coordinates":[[0.100,51.500],[0.110,51.505],[0.122,51.512]]}}]}`,
		"rounds": "round_id,ward_code,collection_day,streams,postcode_sector\nMON-1,E05009001,monday,Refuse;Food,ZZ1 1\nTHU-2,E05009002,Thursday,recycling,ZZ1 2\n",
	}
	paths := map[string]string{}
	for kind, body := range files {
		p := filepath.Join(dir, kind)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[kind] = p
	}
	return paths
}

func TestServeAnotherCouncil(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	files := writeCouncil(t)
	for _, kind := range []string{"wards", "postcodes", "schools", "routes", "rounds"} {
		c.must("import", kind, files[kind])
	}
	id := strings.TrimSpace(c.must("notice", "create", "--category", "schools", "--status", "closed",
		"--place", "school:900001", "--headline", "Marsh End Academy closed today"))
	c.must("notice", "create", "--category", "roads", "--status", "gritted", "--place", "route:P1", "--headline", "Primary 1 gritted")

	base, stop := startServe(t, c, "--addr", "127.0.0.1:0", "--council-name", "Marshford Borough Council")

	get := func(path string, wantStatus int, want ...string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != wantStatus {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, wantStatus)
		}
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				t.Errorf("GET %s: no %q in the response", path, w)
			}
		}
	}
	get("/", 200, "Marshford Borough Council", "Marsh End Academy closed today")
	get("/area?postcode=zz11aa", 200, "Marsh End Academy", "Closed")
	get("/area?postcode=ZZ9+9ZZ", 200)
	get("/area?postcode=not-a-postcode", 400)
	get("/feeds/notices.atom", 200, "Marsh End Academy closed today", "Primary 1 gritted")
	get("/feeds/notices.json?ward=E05009001", 200, "Marsh End Academy closed today")
	get("/notices/"+id, 200, "Marsh End Academy closed today")
	get("/cap/"+id+".xml", 200, "urn:oasis:names:tc:emergency:cap:1.2")
	get("/calendar/rounds/MON-1.ics", 200, "BEGIN:VCALENDAR")
	get("/api/v1/postcodes/ZZ1%201AA", 200, "E05009001")
	get("/healthz", 200)
	get("/readyz", 200)

	stop()
}

// startServe runs 'signpost serve' with args until stop is called, and
// returns its address and the lines it printed after the first.
func startServe(t *testing.T, c *cli, args ...string) (base string, stop func() []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		env := &environment{getenv: func(k string) string { return c.vars[k] }, stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard}
		done <- run(ctx, append([]string{"serve"}, args...), env)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed nothing: %v", <-done)
	}
	i := strings.Index(line, "http://")
	if i < 0 {
		cancel()
		t.Fatalf("serve did not print its URL: %q", line)
	}
	rest := make(chan []string, 1)
	go func() {
		var lines []string
		for {
			l, err := br.ReadString('\n')
			if l != "" {
				lines = append(lines, l)
			}
			if err != nil {
				rest <- lines
				return
			}
		}
	}()
	return strings.TrimSpace(line[i:]), func() []string {
		t.Helper()
		cancel() // as SIGTERM does: the server drains and run returns cleanly
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after shutdown", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not shut down within 30s")
		}
		return <-rest
	}
}

func TestServeDemoCreatesStaffAccountsOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	base, stop := startServe(t, c, "--demo", "--addr", "127.0.0.1:0")
	resp, err := http.Get(base + "/staff/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("sign-in page: %d", resp.StatusCode)
	}
	printed := strings.Join(stop(), "\n")
	for _, want := range []string{"admin     demo.admin@northdale.example  ", "author    demo.author@northdale.example  ", "approver  demo.approver@northdale.example  "} {
		if !strings.Contains(printed, want) {
			t.Errorf("demo did not print the %q account: %q", strings.Fields(want)[0], printed)
		}
	}
	// A second start finds the account and prints no password.
	_, stop = startServe(t, c, "--demo", "--addr", "127.0.0.1:0")
	for _, l := range stop() {
		if strings.Contains(l, "password") {
			t.Errorf("second start printed a password again: %q", l)
		}
	}
	out := c.must("user", "list")
	for _, email := range []string{"demo.admin@northdale.example", "demo.author@northdale.example", "demo.approver@northdale.example"} {
		if strings.Count(out, email) != 1 {
			t.Errorf("user list has %s %d times: %q", email, strings.Count(out, email), out)
		}
	}
}

// TestServeSingleSignOn starts serve against a provider that publishes
// only its discovery document (all serve needs at start) and checks the
// sign-in page offers single sign-on and the button leads to the
// provider, carrying the client id and the default callback.
func TestServeSingleSignOn(t *testing.T) {
	t.Parallel()
	var issuer string
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer": %q, "authorization_endpoint": %q, "token_endpoint": %q, "jwks_uri": %q, "id_token_signing_alg_values_supported": ["RS256"]}`,
			issuer, issuer+"/authorize", issuer+"/token", issuer+"/keys")
	}))
	defer idp.Close()
	issuer = idp.URL
	c := newCLI(t)
	c.vars["SIGNPOST_OIDC_CLIENT_SECRET"] = "from-the-environment"
	base, stop := startServe(t, c, "--addr", "127.0.0.1:0", "--oidc-issuer", issuer, "--oidc-client-id", "signpost-test", "--oidc-roles", "Signpost.Admin=admin")
	defer stop()
	resp, err := http.Get(base + "/staff/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Sign in with your organisation account") {
		t.Errorf("sign-in page without the single sign-on button")
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(base + "/staff/sso")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	to, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(to.String(), issuer+"/authorize") || to.Query().Get("client_id") != "signpost-test" ||
		to.Query().Get("redirect_uri") != base+"/staff/sso/callback" || to.Query().Get("code_challenge_method") != "S256" {
		t.Errorf("start of single sign-on redirects to %q", resp.Header.Get("Location"))
	}
	if strings.Contains(to.String(), "from-the-environment") {
		t.Errorf("the client secret is in the redirect")
	}

	// A wrong issuer stops serve at start, saying why.
	if _, _, err := c.run("", "serve", "--addr", "127.0.0.1:0", "--oidc-issuer", idp.URL+"/nowhere", "--oidc-client-id", "x"); err == nil || !strings.Contains(err.Error(), "single sign-on") {
		t.Errorf("serve with a wrong issuer: %v", err)
	}
}
