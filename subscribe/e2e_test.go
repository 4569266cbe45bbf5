package subscribe_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel/email"
	"github.com/signpost-uk/signpost/demo"
	"github.com/signpost-uk/signpost/internal/mailpit"
	"github.com/signpost-uk/signpost/jobs"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
	"github.com/signpost-uk/signpost/subscribe"
	"github.com/signpost-uk/signpost/web"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// logBuffer keeps what the service logs, to check no address is in it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// system is Signpost as serve wires it for subscriptions: the store, the
// residents' site, the job queue with the sender, and a real SMTP server.
type system struct {
	t    *testing.T
	db   *store.DB
	mp   *mailpit.Server
	svc  *subscribe.Service
	q    *jobs.Queue
	site *httptest.Server
	log  *logBuffer
}

func newSystem(t *testing.T, db *store.DB, chunk int) *system {
	t.Helper()
	mp := mailpit.Start(t)
	mailer, err := email.New(email.Config{Addr: mp.SMTPAddr, Username: "alerts", Password: "pw", From: "Northdale Council <alerts@northdale.example>", TLS: mp.TLS()})
	if err != nil {
		t.Fatal(err)
	}
	s := startSystem(t, db, chunk, mailer, false)
	s.mp = mp
	return s
}

// startSystem wires the system around a mailer; the site is served over
// TLS when tls is set, as GOV.UK Notify takes only https unsubscribe links.
func startSystem(t *testing.T, db *store.DB, chunk int, mailer *email.Connector, tls bool) *system {
	t.Helper()
	ctx := context.Background()
	if err := demo.Load(ctx, db, time.Now()); err != nil {
		t.Fatal(err)
	}
	signer, err := subscribe.NewSigner(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	s := &system{t: t, db: db, log: &logBuffer{}}
	logger := slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.site = httptest.NewUnstartedServer(nil)
	siteURL := "http://" + s.site.Listener.Addr().String()
	if tls {
		siteURL = "https://" + s.site.Listener.Addr().String()
	}
	s.svc, err = subscribe.New(subscribe.Config{SiteURL: siteURL, CouncilName: demo.Council, Store: db, Places: db,
		Mail: mailer, Signer: signer, ChunkSize: chunk, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.NewServer(web.Config{CouncilName: demo.Council, BaseURL: siteURL}, web.Deps{Places: db, Notices: db, Subscriptions: s.svc, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	s.site.Config.Handler = srv
	if tls {
		s.site.StartTLS()
	} else {
		s.site.Start()
	}
	t.Cleanup(s.site.Close)

	workers := river.NewWorkers()
	if err := subscribe.AddWorkers(workers, s.svc); err != nil {
		t.Fatal(err)
	}
	s.q, err = jobs.Open(ctx, db, jobs.Config{Workers: workers, Queues: map[string]int{subscribe.Queue: 4}, PollInterval: 20 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.q.Stop(ctx)
	})
	// Notices the demo published before anyone subscribed reach nobody.
	if _, err := s.svc.FanOutPending(ctx, s.q); err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	csrfField   = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	confirmLink = regexp.MustCompile(`https?://[^\s]+/subscribe/confirm/[A-Za-z0-9_-]+`)
)

// subscribe fills in the form as a resident's browser does.
func (s *system) subscribe(address, topic string) {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: s.site.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := s.fetch(c, "GET", s.site.URL+"/subscribe?topic="+url.QueryEscape(topic), nil, 200)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		s.t.Fatalf("no form token on /subscribe")
	}
	s.fetch(c, "POST", s.site.URL+"/subscribe", url.Values{"email": {address}, "topic": {topic}, "csrf_token": {m[1]}}, 303)
}

func (s *system) fetch(c *http.Client, method, target string, form url.Values, want int) string {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		s.t.Fatalf("%s %s: %d, want %d: %.300s", method, target, res.StatusCode, want, b)
	}
	return string(b)
}

// mailTo returns the messages to an address whose subject starts with
// prefix.
func (s *system) mailTo(address, prefix string) []mailpit.Message {
	s.t.Helper()
	ctx := context.Background()
	found, err := s.mp.Search(ctx, "to:"+address)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []mailpit.Message
	for _, f := range found {
		if strings.HasPrefix(f.Subject, prefix) {
			m, err := s.mp.Message(ctx, f.ID)
			if err != nil {
				s.t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// publish fans out whatever was published and waits until every send
// of ref is made.
func (s *system) publish(ref store.RevisionRef) {
	s.t.Helper()
	ctx := context.Background()
	if _, err := s.svc.FanOutPending(ctx, s.q); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, pending, err := s.db.SendCounts(ctx, ref)
		if err != nil {
			s.t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("notice %d revision %d: %d sends still pending", ref.NoticeID, ref.Revision, pending)
		}
		time.Sleep(20 * time.Millisecond) // polling the observable state, with the deadline above
	}
}

// TestEndToEnd: subscribe through the form, confirm through the e-mail,
// publish, update and retract a notice, and unsubscribe with one click —
// checking every message mailpit received.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newSystem(t, db, 1) // one subscriber per job: several jobs per revision
		s.subscribe("ann@example.org", "ward:NDW01")
		s.subscribe("bob@example.org", "school:142316")
		s.subscribe("carol@example.org", "ward:NDW01") // never confirms
		s.subscribe("dan@example.org", "ward:NDW02")
		s.mp.WaitCount(t, 4, 10*time.Second)

		browser := &http.Client{}
		for _, who := range []string{"ann@example.org", "bob@example.org", "dan@example.org"} {
			msgs := s.mailTo(who, "Confirm your e-mail updates")
			if len(msgs) != 1 {
				t.Fatalf("%s: %d confirmation e-mails", who, len(msgs))
			}
			link := confirmLink.FindString(msgs[0].Text)
			if link == "" {
				t.Fatalf("%s: no confirmation link in %q", who, msgs[0].Text)
			}
			if page := s.fetch(browser, "GET", link, nil, 200); !strings.Contains(page, ">Confirm</button>") {
				t.Fatalf("%s: confirm page has no button", who)
			}
			s.fetch(browser, "POST", link, url.Values{}, 200)
		}

		// Holy Trinity is in Greenbank (NDW01): ann (ward) and bob
		// (school) get it; carol never confirmed; dan is in Harbour.
		n, err := db.CreateNotice(ctx, signpost.NoticeInput{Category: signpost.CategorySchools, Status: signpost.StatusClosed,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "142316"}}, Headline: "Holy Trinity Nursery closed today", Body: "The heating has failed."})
		if err != nil {
			t.Fatal(err)
		}
		s.publish(store.RevisionRef{NoticeID: n.ID, Revision: 1})
		s.publish(store.RevisionRef{NoticeID: n.ID, Revision: 1}) // again: nothing new
		unsub := map[string]string{}
		for who, want := range map[string]int{"ann@example.org": 1, "bob@example.org": 1, "carol@example.org": 0, "dan@example.org": 0} {
			msgs := s.mailTo(who, "Holy Trinity")
			if len(msgs) != want {
				t.Errorf("%s: %d messages about the notice, want %d", who, len(msgs), want)
				continue
			}
			if want == 0 {
				continue
			}
			m := msgs[0]
			lu := m.ListUnsubscribe
			if len(lu.Links) != 1 || !strings.HasPrefix(lu.Links[0], s.site.URL+"/unsubscribe/") || lu.HeaderPost != "List-Unsubscribe=One-Click" || lu.Errors != "" {
				t.Errorf("%s: List-Unsubscribe %+v", who, lu)
				continue
			}
			if !strings.Contains(m.Text, "The heating has failed.") || !strings.Contains(m.Text, s.site.URL+"/notices/") || !strings.Contains(m.Text, lu.Links[0]) {
				t.Errorf("%s: text %q", who, m.Text)
			}
			unsub[who] = lu.Links[0]
		}
		if unsub["ann@example.org"] == unsub["bob@example.org"] {
			t.Fatal("two subscribers share an unsubscribe link")
		}
		// A duplicate job (a retry after a crash) sends nothing again.
		events, cancel := s.q.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		dup, err := s.q.Insert(ctx, subscribe.SendArgs{NoticeID: n.ID, Revision: 1, From: 1, To: 1 << 40}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for done := false; !done; {
			select {
			case ev := <-events:
				if ev.Job.ID == dup.Job.ID {
					if ev.Kind != river.EventKindJobCompleted {
						t.Fatalf("duplicate job: %s", ev.Kind)
					}
					done = true
				}
			case <-time.After(20 * time.Second):
				t.Fatal("duplicate job did not finish")
			}
		}

		// ann's mail client unsubscribes with one click (RFC 8058).
		res, err := http.Post(unsub["ann@example.org"], "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("one-click unsubscribe: %d", res.StatusCode)
		}

		// The update reaches bob only; then the retraction.
		n2, err := db.UpdateNotice(ctx, n.ID, signpost.NoticeInput{Category: signpost.CategorySchools, Status: signpost.StatusPartiallyOpen,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "142316"}}, Headline: "Holy Trinity Nursery open for some pupils"})
		if err != nil {
			t.Fatal(err)
		}
		s.publish(store.RevisionRef{NoticeID: n.ID, Revision: n2.Revision})
		n3, err := db.RetractNotice(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		s.publish(store.RevisionRef{NoticeID: n.ID, Revision: n3.Revision})
		// A later notice for Greenbank: ann has gone, carol never came.
		later, err := db.CreateNotice(ctx, signpost.NoticeInput{Category: signpost.CategoryWaste, Status: signpost.StatusDelayed,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceWard, ID: "NDW01"}}, Headline: "Greenbank bins a day late"})
		if err != nil {
			t.Fatal(err)
		}
		s.publish(store.RevisionRef{NoticeID: later.ID, Revision: 1})

		for _, tt := range []struct {
			who, subject string
			want         int
		}{
			{"ann@example.org", "Update: ", 0}, {"ann@example.org", "Withdrawn: ", 0}, {"ann@example.org", "Greenbank bins", 0},
			{"bob@example.org", "Update: Holy Trinity Nursery open", 1}, {"bob@example.org", "Withdrawn: Holy Trinity", 1}, {"bob@example.org", "Greenbank bins", 0},
			{"carol@example.org", "", 1}, // the confirmation only
			{"dan@example.org", "", 1},
		} {
			if got := len(s.mailTo(tt.who, tt.subject)); got != tt.want {
				t.Errorf("%s: %d messages starting %q, want %d", tt.who, got, tt.subject, tt.want)
			}
		}
		// Everything mailpit holds: 4 confirmations, 2 first sends, bob's
		// update and withdrawal; the duplicate job added nothing.
		if c, err := s.mp.Count(ctx); err != nil || c != 8 {
			t.Errorf("mailpit holds %d messages, want 8 (%v)", c, err)
		}
		if logged := s.log.String(); strings.Contains(logged, "@example.org") || !strings.Contains(logged, "subscribe: revision queued") {
			t.Errorf("the log names an address, or says nothing:\n%s", logged)
		}
	})
}
