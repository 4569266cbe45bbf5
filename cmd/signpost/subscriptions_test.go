package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/internal/mailpit"
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
