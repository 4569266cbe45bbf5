package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/channel/email"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/subscribe"
)

// subscriptionFixture is the real subscription service over the test
// database, sending to the project's fake SMTP server, with a subscriber
// whose links the route table uses.
type subscriptionFixture struct {
	svc                       *subscribe.Service
	smtp                      *fake.SMTP
	confirmToken, manageToken string
}

func newSubscriptionFixture(t testing.TB, db *store.DB, now func() time.Time) *subscriptionFixture {
	t.Helper()
	srv, err := fake.NewSMTP("alerts", "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	mailer, err := email.New(email.Config{Addr: srv.Addr, Username: "alerts", Password: "pw", From: "Northdale Council <alerts@northdale.example>", TLS: &tls.Config{RootCAs: srv.RootCAs()}})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := subscribe.NewSigner(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := subscribe.New(subscribe.Config{SiteURL: "https://signpost.example", CouncilName: "Northdale Council", Store: db, Places: db,
		Mail: mailer, Signer: signer, Now: now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := db.RequestSubscription(context.Background(), "route@example.org", []string{"ward:NDW01"})
	if err != nil {
		t.Fatal(err)
	}
	return &subscriptionFixture{svc: svc, smtp: srv,
		confirmToken: signer.Sign(subscribe.Token{Purpose: subscribe.PurposeConfirm, Subscriber: sub.ID, Request: sub.Request, Expires: now().Add(time.Hour)}, sub.Email),
		manageToken:  signer.Sign(subscribe.Token{Purpose: subscribe.PurposeManage, Subscriber: sub.ID}, sub.Email)}
}

var confirmLink = regexp.MustCompile(`https://signpost\.example(/subscribe/confirm/[A-Za-z0-9_-]+)`)

// lastMail returns the newest message the fake server took, decoded.
func (sf *subscriptionFixture) lastMail(t *testing.T) (*mail.Message, string) {
	t.Helper()
	mails := sf.smtp.Mails()
	if len(mails) == 0 {
		t.Fatal("no e-mail was sent")
	}
	m, err := mail.ReadMessage(bytes.NewReader(mails[len(mails)-1].Data))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
	return m, string(body)
}

// TestSubscribeFlow goes through the pages as a resident does: the place
// page's link, the form (with its mistakes), the confirmation e-mail, the
// confirm button, the manage page and unsubscribing.
func TestSubscribeFlow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := &browser{t: t, h: f.srv, cookies: map[string]string{}}

	if r := b.do("GET", "/schools/142316", nil); !strings.Contains(r.Body.String(), `href="/subscribe?topic=school%3a142316"`) {
		t.Errorf("school page has no e-mail updates link")
	}
	rec := b.do("GET", "/subscribe?topic=school:142316", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `<option value="school:142316" selected>`) {
		t.Fatalf("form: %d %.300s", rec.Code, rec.Body.String())
	}
	tok := b.token(rec.Body.String())
	form := func(addr, topic string) url.Values {
		return url.Values{"email": {addr}, "topic": {topic}, auth.CSRFField: {tok}}
	}
	sent := len(f.subs.smtp.Mails())
	for _, tt := range []struct {
		name string
		form url.Values
		want string
	}{
		{"no address", form("", "school:142316"), "Enter your e-mail address"},
		{"bad address", form("ann at example", "school:142316"), "correct format"},
		{"display name", form("Ann <ann@example.org>", "school:142316"), "correct format"},
		{"no topic", form("ann@example.org", ""), "Choose what you want"},
		{"unknown topic", form("ann@example.org", "school:000"), "Choose what you want"},
	} {
		rec := b.do("POST", "/subscribe", tt.form)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), tt.want) || !strings.Contains(rec.Body.String(), "govuk-error-summary") {
			t.Errorf("%s: %d, want 400 saying %q", tt.name, rec.Code, tt.want)
		}
	}
	// Bots filling the hidden field are told the same as people and
	// nothing is sent.
	bot := form("bot@example.org", "ward:NDW01")
	bot.Set("website", "http://spam.example")
	if rec := b.do("POST", "/subscribe", bot); rec.Code != 303 {
		t.Errorf("honeypot: %d", rec.Code)
	}
	if len(f.subs.smtp.Mails()) != sent {
		t.Fatalf("e-mail sent for an invalid form or a bot")
	}

	rec = b.do("POST", "/subscribe", form(" Ann@Example.org ", "school:142316"))
	if rec.Code != 303 || rec.Header().Get("Location") != "/subscribe/check-email" {
		t.Fatalf("subscribe: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	m, body := f.subs.lastMail(t)
	if m.Header.Get("To") != "<ann@example.org>" || !strings.Contains(body, "Holy Trinity") && !strings.Contains(body, "142316") {
		t.Errorf("confirmation to %q: %q", m.Header.Get("To"), body)
	}
	link := confirmLink.FindStringSubmatch(body)
	if link == nil {
		t.Fatalf("no confirmation link in %q", body)
	}
	if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasPrefix(m.Header.Get("List-Unsubscribe"), "<https://signpost.example/unsubscribe/") {
		t.Errorf("confirmation headers: %v", m.Header)
	}
	// Nothing is confirmed by opening the link: only by the button.
	rec = b.do("GET", link[1], nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), ">Confirm</button>") {
		t.Fatalf("confirm page: %d %.300s", rec.Code, rec.Body.String())
	}
	if subs := subscribersOf(t, f.db, "ann@example.org"); len(subs.Confirmed()) != 0 {
		t.Fatalf("confirmed by a GET: %+v", subs)
	}
	rec = b.do("POST", link[1], url.Values{})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "You are subscribed") {
		t.Fatalf("confirm: %d %.300s", rec.Code, rec.Body.String())
	}
	if got := subscribersOf(t, f.db, "ann@example.org").Confirmed(); !slices.Equal(got, []string{"school:142316"}) {
		t.Fatalf("confirmed topics %v", got)
	}
	// The same address asking again gets at most three e-mails an hour
	// (the unknown topic and the first request counted); the page says
	// the same either way.
	before := len(f.subs.smtp.Mails())
	for range 4 {
		if rec := b.do("POST", "/subscribe", form("ann@example.org", "ward:NDW01")); rec.Code != 303 {
			t.Fatalf("repeat request: %d", rec.Code)
		}
	}
	if n := len(f.subs.smtp.Mails()) - before; n != 1 {
		t.Errorf("%d more confirmation e-mails to one address, want 1 (3 an hour)", n)
	}

	// The manage link from the e-mail: stop one topic, then everything.
	unsub := strings.Trim(m.Header.Get("List-Unsubscribe"), "<>")
	manage := strings.TrimPrefix(unsub, "https://signpost.example")
	rec = b.do("GET", manage, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Unsubscribe from everything") {
		t.Fatalf("manage page: %d %.300s", rec.Code, rec.Body.String())
	}
	rec = b.do("POST", manage, url.Values{"List-Unsubscribe": {"One-Click"}})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "You have unsubscribed") {
		t.Fatalf("one-click: %d %.300s", rec.Code, rec.Body.String())
	}
	if _, err := f.db.Subscriber(ctx, subscribersOf(t, f.db, "").ID); err == nil {
		t.Error("subscriber still stored after unsubscribing")
	}
	if rec := b.do("GET", manage, nil); rec.Code != 404 {
		t.Errorf("manage after unsubscribing: %d", rec.Code)
	}
}

// subscribersOf finds a subscriber by address through the confirmation
// e-mails' links is not possible without the key, so the test reads the
// store the way an operator would.
func subscribersOf(t *testing.T, db *store.DB, addr string) store.Subscriber {
	t.Helper()
	for id := int64(1); id < 50; id++ {
		s, err := db.Subscriber(context.Background(), id)
		if err == nil && (addr == "" || s.Email == addr) && s.Email != "route@example.org" {
			return s
		}
	}
	if addr == "" {
		return store.Subscriber{ID: -1}
	}
	t.Fatalf("no subscriber %q", addr)
	return store.Subscriber{}
}

func TestWindowLimiter(t *testing.T) {
	l := newWindowLimiter(2, time.Minute)
	t0 := time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC)
	steps := []struct {
		key  string
		at   time.Duration
		want bool
	}{
		{"a", 0, true}, {"a", time.Second, true}, {"a", 2 * time.Second, false}, {"b", 2 * time.Second, true},
		{"a", 61 * time.Second, true}, {"a", 61 * time.Second, false}, {"a", 3 * time.Minute, true}, {"a", 3 * time.Minute, true}, {"a", 3 * time.Minute, false},
	}
	for i, s := range steps {
		if got := l.allow(s.key, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d (%s at %s) = %v, want %v", i, s.key, s.at, got, s.want)
		}
	}
}
