package web

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/internal/a11y"
)

// TestBrowserWorkflow walks the whole approval workflow in headless
// Chromium, as two people with separate cookie jars: an author writes a
// risky notice, sees its risks, submits it; an approver approves it; the
// author publishes, updates and closes it; the approver retracts it. The
// residents' page is checked after each step. It skips, saying why, when
// Chromium is not installed.
func TestBrowserWorkflow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := a11y.LocateOrSkip(t)
	f := newFixture(t)
	addStaff(t, f)
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	// Plain-http cookies, as on the demo: the browser talks to 127.0.0.1.
	f.srv.cfg.BaseURL = ts.URL
	// The browser judges cookie expiry by the real clock, so sessions
	// must be made by it too.
	f.clock.Set(time.Now())

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// Each person gets a Chromium of their own, so their cookies (and
	// sessions) are apart as on two people's computers.
	person := func() context.Context {
		tab, stop := c.Browser(ctx, t.TempDir())
		t.Cleanup(stop)
		// Started without a step timeout: cancelling the first run would
		// stop the browser.
		if err := chromedp.Do(tab); err != nil {
			t.Fatalf("start chromium: %v", err)
		}
		return tab
	}
	author, approver := person(), person()

	run := func(tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		// Chromium on a loaded machine is slow, but a step that takes a
		// minute has failed; say where the browser was.
		step, cancel := context.WithTimeout(tab, time.Minute)
		defer cancel()
		if err := chromedp.Do(step, actions...); err != nil {
			where, _ := chromedp.Run(tab, chromedp.Location())
			body, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v\nat %s:\n%.1500s", what, err, where, body)
		}
	}
	text := func(tab context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	button := func(label string) string { return `//button[normalize-space()="` + label + `"]` }
	// click presses a button and waits for the next page's confirmation
	// banner, which the page before it never shows.
	click := func(tab context.Context, label, wantDone string) {
		t.Helper()
		run(tab, "click "+label, chromedp.Click(button(label)),
			chromedp.WaitVisible(`//p[contains(@class, "govuk-notification-banner__heading") and contains(., "`+wantDone+`")]`))
	}
	signInAs := func(tab context.Context, role auth.Role) {
		run(tab, "sign in as "+string(role),
			chromedp.Navigate(ts.URL+"/staff/sign-in"),
			chromedp.SendKeys(chromedp.CSS(`#email`), staffEmail(role)),
			chromedp.SendKeys(chromedp.CSS(`#password`), staffPassword),
			chromedp.Click(button("Sign in")),
			chromedp.WaitVisible(`//h1[normalize-space()="Staff area"]`))
	}
	residents := func(id string) (int, string) {
		t.Helper()
		if err := f.srv.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		r := get(t, f.srv, "/notices/"+id)
		return r.status, r.body
	}

	signInAs(author, auth.Author)
	signInAs(approver, auth.Approver)

	// The author writes a risky notice and sees its risks.
	run(author, "compose",
		chromedp.Navigate(ts.URL+"/staff/notices"),
		chromedp.Click(`//a[normalize-space()="Write a notice"]`),
		chromedp.WaitVisible(chromedp.CSS(`#headline`)),
		chromedp.SetValue(chromedp.CSS(`#category`), "roads"),
		chromedp.SetValue(chromedp.CSS(`#status`), "gritting-in-progress"),
		chromedp.SendKeys(chromedp.CSS(`#place_1`), "ward:NDW01"),
		chromedp.SendKeys(chromedp.CSS(`#headline`), "Greenbank roads are being gritted"),
		chromedp.SendKeys(chromedp.CSS(`#body`), "Stop moaning, you idiots, the gritters are out."),
		chromedp.Click(button("Save and check risks")),
		chromedp.WaitVisible(chromedp.CSS(`#risks`)))
	if marks := text(author, "mark"); !strings.Contains(marks, "idiots") {
		t.Errorf("risky words not highlighted: %q", marks)
	}
	if page := text(author, "main"); !strings.Contains(page, "needs approval by someone else") || !strings.Contains(page, "Bluesky") {
		t.Errorf("draft page lacks the approval notice or previews:\n%s", page)
	}
	draftURL, err := chromedp.Run(author, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	draftURL, _, _ = strings.Cut(draftURL, "?")
	click(author, "Submit for approval", "Submitted for approval")
	if page := text(author, "main"); !strings.Contains(page, "You cannot approve your own work") {
		t.Errorf("the author is offered approval of their own work:\n%s", page)
	}

	// Someone else approves; the author publishes.
	run(approver, "open the draft", chromedp.Navigate(draftURL), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	click(approver, "Approve", "Approved")
	run(author, "reopen the draft", chromedp.Navigate(draftURL), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	click(author, "Publish now", "Published")
	it, err := f.srv.deps.Desk.Item(ctx, mustID(t, draftURL))
	if err != nil || it.NoticeID == 0 {
		t.Fatalf("published item: %+v, %v", it, err)
	}
	id := itoa(it.NoticeID)
	if status, body := residents(id); status != 200 || !strings.Contains(body, "Greenbank roads are being gritted") {
		t.Fatalf("residents' page after publishing: %d", status)
	}

	// An update, written from the published notice's page.
	run(author, "write an update",
		chromedp.Navigate(ts.URL+"/staff/notices/published/"+id),
		chromedp.Click(`//a[normalize-space()="Write an update"]`),
		chromedp.WaitVisible(chromedp.CSS(`#headline`)),
		chromedp.SetValue(chromedp.CSS(`#headline`), "Greenbank roads have been gritted"),
		chromedp.SetValue(chromedp.CSS(`#status`), "gritted"),
		chromedp.SetValue(chromedp.CSS(`#body`), "All Greenbank roads were gritted overnight."),
		chromedp.Click(button("Save and check risks")),
		chromedp.WaitVisible(chromedp.CSS(`#risks`)))
	click(author, "Publish now", "Published")
	if status, body := residents(id); status != 200 || !strings.Contains(body, "Greenbank roads have been gritted") {
		t.Fatalf("residents' page after the update: %d", status)
	}

	// Close, then retract.
	run(author, "open the notice", chromedp.Navigate(ts.URL+"/staff/notices/published/"+id), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	click(author, "Close this notice", "Closed")
	if n, err := f.db.Notice(ctx, it.NoticeID); err != nil || n.ClosedAt == nil {
		t.Fatalf("notice after closing: %+v, %v", n, err)
	}
	if status, _ := residents(id); status != 200 {
		t.Fatalf("residents' page after closing: %d", status)
	}
	run(approver, "retract",
		chromedp.Navigate(ts.URL+"/staff/notices/published/"+id),
		chromedp.SendKeys(chromedp.CSS(`#reason`), "Posted for the wrong ward"))
	click(approver, "Retract this notice", "Retracted")
	if status, body := residents(id); status != 410 || !strings.Contains(body, "withdrawn") {
		t.Errorf("residents' page after retraction: %d", status)
	}
}
