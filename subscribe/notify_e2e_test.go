package subscribe_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel/email"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/channel/notify"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// emailsTo returns what the fake Notify took for an address whose subject
// starts with prefix.
func emailsTo(srv *fake.Notify, address, prefix string) []fake.NotifyEmail {
	var out []fake.NotifyEmail
	for _, e := range srv.Emails() {
		if e.To == address && strings.HasPrefix(e.Subject, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// TestEndToEndNotify runs residents' e-mail updates through GOV.UK Notify
// instead of SMTP: confirmations and notices go through the template with
// each subscriber's own https unsubscribe link, and when Notify takes a
// send but the answer is lost, the job's retry finds it by reference and
// nobody gets the notice twice.
func TestEndToEndNotify(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := fake.NewNotify()
		t.Cleanup(srv.Close)
		nc, err := notify.New(notify.Config{APIKey: srv.Key("signpost_live"), TemplateID: srv.TemplateID, API: srv.URL, Client: fake.Client()})
		if err != nil {
			t.Fatal(err)
		}
		mailer, err := email.New(email.Config{Transport: nc})
		if err != nil {
			t.Fatal(err)
		}
		s := startSystem(t, db, 100, mailer, true)
		who := []string{"ann@example.org", "bob@example.org", "cat@example.org"}
		for _, a := range who {
			s.subscribe(a, "ward:NDW01")
		}
		browser := s.site.Client()
		for _, a := range who {
			msgs := emailsTo(srv, a, "Confirm your e-mail updates")
			if len(msgs) != 1 {
				t.Fatalf("%s: %d confirmation e-mails", a, len(msgs))
			}
			link := confirmLink.FindString(msgs[0].Body)
			if link == "" || !strings.HasPrefix(msgs[0].Unsubscribe, s.site.URL+"/") {
				t.Fatalf("%s: confirmation %+v", a, msgs[0])
			}
			s.fetch(browser, "POST", link, url.Values{}, 200)
		}

		n, err := db.CreateNotice(ctx, signpost.NoticeInput{Category: signpost.CategoryWaste, Status: signpost.StatusDelayed,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceWard, ID: "NDW01"}}, Headline: "Greenbank bins a day late", Body: "The lorry has broken down."})
		if err != nil {
			t.Fatal(err)
		}
		// Notify takes the first send and the connection drops before
		// its answer: the job fails and River runs it again.
		srv.LoseAnswers(1)
		s.publish(store.RevisionRef{NoticeID: n.ID, Revision: 1})
		refs := map[string]bool{}
		for _, a := range who {
			msgs := emailsTo(srv, a, "Greenbank bins")
			if len(msgs) != 1 {
				t.Errorf("%s: %d e-mails about the notice, want 1", a, len(msgs))
				continue
			}
			m := msgs[0]
			if !strings.HasPrefix(m.Unsubscribe, s.site.URL+"/unsubscribe/") || !strings.Contains(m.Body, m.Unsubscribe) ||
				!strings.Contains(m.Body, "The lorry has broken down.") || !strings.Contains(m.Body, s.site.URL+"/notices/") {
				t.Errorf("%s: e-mail %+v", a, m)
			}
			if refs[m.Reference] || strings.Contains(m.Reference, "example") {
				t.Errorf("%s: reference %q is shared or names the address", a, m.Reference)
			}
			refs[m.Reference] = true
		}
		if srv.Injected() != 1 {
			t.Errorf("the fake lost %d answers, want 1", srv.Injected())
		}

		// bob unsubscribes with one click through the link Notify put in
		// the headers; the update reaches the other two.
		bob := emailsTo(srv, "bob@example.org", "Greenbank bins")[0]
		res, err := browser.Post(bob.Unsubscribe, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("one-click unsubscribe: %d", res.StatusCode)
		}
		n2, err := db.UpdateNotice(ctx, n.ID, signpost.NoticeInput{Category: signpost.CategoryWaste, Status: signpost.StatusDelayed,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceWard, ID: "NDW01"}}, Headline: "Greenbank bins two days late"})
		if err != nil {
			t.Fatal(err)
		}
		s.publish(store.RevisionRef{NoticeID: n.ID, Revision: n2.Revision})
		for a, want := range map[string]int{"ann@example.org": 1, "bob@example.org": 0, "cat@example.org": 1} {
			if got := len(emailsTo(srv, a, "Update: Greenbank bins two days late")); got != want {
				t.Errorf("%s: %d updates, want %d", a, got, want)
			}
		}
		// 3 confirmations, 3 notices, 2 updates: nothing twice.
		if got := len(srv.Emails()); got != 8 {
			t.Errorf("Notify took %d e-mails, want 8", got)
		}
		if logged := s.log.String(); strings.Contains(logged, "@example.org") {
			t.Errorf("the log names an address:\n%s", logged)
		}
	})
}
