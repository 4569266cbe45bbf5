package main

import (
	"context"
	"encoding/base64"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/demo"
	"github.com/signpost-uk/signpost/internal/mailpit"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
	"github.com/signpost-uk/signpost/subscribe"
)

// TestServeSubscriptions runs serve with e-mail updates on, against a real
// SMTP server: subscribe through the site, confirm through the e-mail,
// publish with the command line, and the subscriber gets the notice.
func TestServeSubscriptions(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	c := newCLI(t)
	flags := []string{"--addr", "127.0.0.1:0", "--demo", "--subscriptions", "--smtp-addr", mp.SMTPAddr, "--mail-from", "Northdale Council <alerts@northdale.example>",
		"--smtp-ca", mp.CertFile, "--allow-net", "127.0.0.1/32", "--subscribe-poll", "100ms", "--job-poll", "50ms"}
	if _, _, err := c.run("", append([]string{"serve"}, flags...)...); err == nil || !strings.Contains(err.Error(), "SIGNPOST_SUBSCRIPTION_KEY") {
		t.Fatalf("serve --subscriptions without a key: %v", err)
	}
	c.vars["SIGNPOST_SUBSCRIPTION_KEY"] = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	c.vars["SIGNPOST_SMTP_PASSWORD"] = "smtp-secret"
	base, stop := startServe(t, c, flags...)

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	fetch := func(method, target string, form url.Values) string {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, target, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s %s: %d %.300s", method, target, res.StatusCode, b)
		}
		return string(b)
	}
	if !strings.Contains(fetch("GET", base+"/wards/NDW01", nil), "Get e-mail updates about Greenbank") {
		t.Error("ward page has no e-mail updates link")
	}
	form := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(fetch("GET", base+"/subscribe?topic=ward:NDW01", nil))
	if form == nil {
		t.Fatal("no form token")
	}
	if page := fetch("POST", base+"/subscribe", url.Values{"email": {"ann@example.org"}, "topic": {"ward:NDW01"}, "csrf_token": {form[1]}}); !strings.Contains(page, "Check your e-mail") {
		t.Fatalf("after subscribing: %.300s", page)
	}
	msgs := mp.WaitCount(t, 1, 20*time.Second)
	m, err := mp.Message(context.Background(), msgs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`http://\S+/subscribe/confirm/\S+`).FindString(m.Text)
	if link == "" {
		t.Fatalf("no link in %q", m.Text)
	}
	fetch("POST", link, url.Values{})

	c.must("notice", "create", "--category", "waste", "--status", "delayed", "--place", "ward:NDW01", "--headline", "Greenbank bins a day late")
	// Wait for it by subject: the demo's scheduled notices may also go out.
	var got []mailpit.Summary
	for deadline := time.Now().Add(2 * time.Minute); len(got) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the notice was not e-mailed within 2 minutes")
		}
		if got, err = mp.Search(context.Background(), `to:ann@example.org subject:"Greenbank bins a day late"`); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // polling mailpit, with the deadline above
	}
	n, err := mp.Message(context.Background(), got[0].ID)
	if err != nil || len(n.ListUnsubscribe.Links) != 1 || !strings.HasPrefix(n.ListUnsubscribe.Links[0], base+"/unsubscribe/") {
		t.Errorf("List-Unsubscribe %+v, %v", n.ListUnsubscribe, err)
	}
	stop()
}

// TestSubscriptionsThroughNotify wires e-mail updates to GOV.UK Notify as
// serve's flags say, and checks what each misconfiguration is told.
func TestSubscriptionsThroughNotify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := fake.NewNotify()
	defer srv.Close()
	db := storetest.Open(t, store.SQLite)
	if err := demo.Load(ctx, db, time.Now()); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"SIGNPOST_SUBSCRIPTION_KEY": base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
		"SIGNPOST_NOTIFY_API_KEY":   srv.Key("signpost_live"),
	}
	open := func(baseURL string, vars map[string]string, args ...string) (*subscribe.Service, error) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		sf, inf := addSubscribeFlags(fs), addInboxFlags(fs)
		if err := fs.Parse(append([]string{"--subscriptions", "--notify-api-url", srv.URL}, args...)); err != nil {
			t.Fatal(err)
		}
		env := &environment{getenv: func(k string) string { return vars[k] }, stdout: io.Discard, stderr: io.Discard}
		return openSubscriptions(env, db, slog.New(slog.NewTextHandler(io.Discard, nil)), sf, inf, baseURL, "Northdale Council", "127.0.0.1/32")
	}
	noKey := map[string]string{"SIGNPOST_SUBSCRIPTION_KEY": vars["SIGNPOST_SUBSCRIPTION_KEY"]}
	for _, tt := range []struct {
		name    string
		baseURL string
		vars    map[string]string
		args    []string
		want    string
	}{
		{"smtp needs a server", "https://northdale.example", vars, nil, "needs --smtp-addr"},
		{"unknown transport", "https://northdale.example", vars, []string{"--subscribe-transport", "fax"}, `--subscribe-transport "fax"`},
		{"no template", "https://northdale.example", vars, []string{"--subscribe-transport", "notify"}, "needs --notify-template"},
		{"no API key", "https://northdale.example", noKey, []string{"--subscribe-transport", "notify", "--notify-template", srv.TemplateID}, "SIGNPOST_NOTIFY_API_KEY"},
		{"plain http site", "http://northdale.example", vars, []string{"--subscribe-transport", "notify", "--notify-template", srv.TemplateID}, "https --base-url"},
		{"bad reply-to", "https://northdale.example", vars, []string{"--subscribe-transport", "notify", "--notify-template", srv.TemplateID, "--notify-reply-to", "me@northdale.example"}, "not a UUID"},
	} {
		if _, err := open(tt.baseURL, tt.vars, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}

	svc, err := open("https://northdale.example/", vars, "--subscribe-transport", "notify", "--notify-template", srv.TemplateID, "--notify-reply-to", srv.ReplyToID)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Request(ctx, "ann@example.org", "ward:NDW01"); err != nil {
		t.Fatal(err)
	}
	got := srv.Emails()
	if len(got) != 1 {
		t.Fatalf("Notify took %d e-mails, want the confirmation", len(got))
	}
	if e := got[0]; e.To != "ann@example.org" || e.ReplyToID != srv.ReplyToID || !strings.HasPrefix(e.Subject, "Confirm your e-mail updates") ||
		!strings.HasPrefix(e.Unsubscribe, "https://northdale.example/") || !strings.Contains(e.Body, "https://northdale.example/subscribe/confirm/") {
		t.Errorf("confirmation = %+v", e)
	}
}
