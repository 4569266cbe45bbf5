package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/workflow"
)

// exampleDraft makes a draft by an author of its own and returns its
// console path.
func exampleDraft(t testing.TB, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	const email = "drafter@northdale.example"
	u, err := f.auth.User(ctx, email)
	if err != nil {
		if u, err = f.auth.CreateUser(ctx, "test", auth.NewUser{Email: email, Name: "Drafter", Role: auth.Author, Password: staffPassword}); err != nil {
			t.Fatal(err)
		}
	}
	it, err := f.srv.deps.Desk.Create(ctx, workflow.Actor{ID: u.ID, Name: u.Actor(), Role: workflow.Author}, workflow.Create, 0, signpost.NoticeInput{
		Category: signpost.CategoryRoads, Status: signpost.StatusGrittingInProgress, Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}},
		Headline: "All priority routes are being gritted", Body: "Crews are out now."})
	if err != nil {
		t.Fatal(err)
	}
	return itemPath(it.ID)
}

// console drives the console as one signed-in member of staff.
type console struct {
	t    *testing.T
	f    *fixture
	sess auth.Session
}

func (c console) post(path string, form url.Values) result {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set(auth.CSRFField, c.sess.CSRFToken)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", sessionCookie(c.sess))
	rec := httptest.NewRecorder()
	c.f.srv.ServeHTTP(rec, req)
	return result{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

func (c console) get(path string) result {
	c.t.Helper()
	return get(c.t, c.f.srv, path, "Cookie", sessionCookie(c.sess))
}

// step posts and expects a redirect, returning where it goes.
func (c console) step(path string, form url.Values) string {
	c.t.Helper()
	r := c.post(path, form)
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("POST %s: status %d, want 303\n%.2000s", path, r.status, r.body)
	}
	return r.header.Get("Location")
}

// refused posts and expects the refusal status with the error summary.
func (c console) refused(path string, form url.Values, status int, says string) {
	c.t.Helper()
	r := c.post(path, form)
	if r.status != status || !strings.Contains(r.body, says) {
		c.t.Errorf("POST %s: status %d, want %d saying %q\n%.3000s", path, r.status, status, says, r.body)
	}
}

var idAtEnd = regexp.MustCompile(`/(\d+)(\?|$)`)

func idInPath(t *testing.T, path string) string {
	t.Helper()
	m := idAtEnd.FindStringSubmatch(path)
	if m == nil {
		t.Fatalf("no id in %q", path)
	}
	return m[1]
}

func noticeForm(headline, body string) url.Values {
	return url.Values{"category": {"roads"}, "status": {"gritting-in-progress"}, "place_1": {"ward:NDW01"},
		"headline": {headline}, "body": {body}}
}

func TestConsoleWorkflow(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	ctx := context.Background()
	author := console{t, f, signIn(t, f, auth.Author)}
	approver := console{t, f, signIn(t, f, auth.Approver)}
	viewer := console{t, f, signIn(t, f, auth.Viewer)}
	residents := func(path string) result {
		t.Helper()
		if err := f.srv.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		return get(t, f.srv, path)
	}

	// A risky draft: its risks are shown, and it cannot skip approval.
	r := author.post("/staff/notices", url.Values{"headline": {""}})
	if r.status != 400 || !strings.Contains(r.body, "govuk-error-summary") || !strings.Contains(r.body, "Enter a headline") {
		t.Errorf("empty form: %d", r.status)
	}
	loc := author.step("/staff/notices", noticeForm("Greenbank roads gritted", "Stop moaning, you idiots, the gritters are out."))
	draft := "/staff/notices/drafts/" + idInPath(t, loc)
	page := author.get(draft)
	if !strings.Contains(page.body, "<mark>") || !strings.Contains(page.body, "needs approval by someone else") || !strings.Contains(page.body, "How it will look on each network") {
		t.Fatalf("draft page lacks highlighted risks, the approval notice or previews:\n%.4000s", page.body)
	}
	author.refused(draft+"/publish", url.Values{"version": {"1"}}, 403, "needs approval")
	author.refused(draft+"/urgent", url.Values{"version": {"1"}}, 403, "cannot be published urgently")
	viewer.refused(draft+"/submit", url.Values{"version": {"1"}}, 403, "does not allow")
	author.step(draft+"/submit", url.Values{"version": {"1"}})
	author.refused(draft+"/approve", url.Values{"version": {"2"}}, 403, "does not allow")
	approver.refused(draft+"/return", url.Values{"version": {"2"}, "comment": {" "}}, 400, "Enter a comment")
	approver.step(draft+"/return", url.Values{"version": {"2"}, "comment": {"Take out the insult."}})
	if page := author.get(draft); !strings.Contains(page.body, "Take out the insult.") {
		t.Error("the return comment is not shown to the author")
	}
	author.step(draft, noticeForm("Greenbank roads gritted", "The gritters are out on every Greenbank road."))
	author.step(draft+"/submit", url.Values{"version": {"4"}})
	approver.refused(draft+"/approve", url.Values{"version": {"3"}}, 409, "Someone else changed")
	approver.step(draft+"/approve", url.Values{"version": {"5"}})
	if r := residents("/"); strings.Contains(r.body, "Greenbank roads gritted") {
		t.Fatal("approved but unpublished notice shown to residents")
	}
	author.step(draft+"/publish", url.Values{"version": {"6"}})
	it, err := f.srv.deps.Desk.Item(ctx, mustID(t, draft))
	if err != nil || it.State != workflow.Published {
		t.Fatalf("item after publishing: %+v, %v", it, err)
	}
	notice := itoa(it.NoticeID)
	if r := residents("/notices/" + notice); r.status != 200 || !strings.Contains(r.body, "Greenbank roads gritted") {
		t.Fatalf("published notice page: %d", r.status)
	}

	// Nobody approves their own work, whatever their role.
	own := approver.step("/staff/notices", noticeForm("Harbour roads closed", "You idiots, stay home."))
	ownDraft := "/staff/notices/drafts/" + idInPath(t, own)
	approver.step(ownDraft+"/submit", url.Values{"version": {"1"}})
	approver.refused(ownDraft+"/approve", url.Values{"version": {"2"}}, 403, "cannot approve or return your own work")

	// An update, then a close, then a retraction.
	upd := author.step("/staff/notices", func() url.Values {
		v := noticeForm("Greenbank roads gritted again", "Second run done.")
		v.Set("action", "update")
		v.Set("notice_id", notice)
		return v
	}())
	updDraft := "/staff/notices/drafts/" + idInPath(t, upd)
	author.step(updDraft+"/publish", url.Values{"version": {"1"}})
	if r := residents("/notices/" + notice); !strings.Contains(r.body, "Greenbank roads gritted again") {
		t.Error("update not shown to residents")
	}
	author.step("/staff/notices/published/"+notice+"/close", nil)
	if n, _ := f.db.Notice(ctx, it.NoticeID); n.ClosedAt == nil || n.Revision != 3 {
		t.Errorf("after close: %+v", n)
	}
	author.refused("/staff/notices/published/"+notice+"/retract", url.Values{"reason": {"wrong"}}, 403, "does not allow")
	approver.refused("/staff/notices/published/"+notice+"/retract", url.Values{"reason": {""}}, 400, "Enter why")
	approver.step("/staff/notices/published/"+notice+"/retract", url.Values{"reason": {"Wrong ward"}})
	if r := residents("/notices/" + notice); r.status != http.StatusGone {
		t.Errorf("retracted notice page: %d, want 410", r.status)
	}
	if r := residents("/feeds/notices.atom"); strings.Contains(r.body, "Greenbank roads gritted") {
		t.Error("retracted notice still in the feed")
	}
	if r := viewer.get("/staff/notices/published/" + notice); r.status != 200 || !strings.Contains(r.body, "Retracted") {
		t.Errorf("staff page of the retracted notice: %d", r.status)
	}
	if r := viewer.get("/staff/notices"); r.status != 200 || !strings.Contains(r.body, "Waiting for approval") || !strings.Contains(r.body, "Harbour roads closed") {
		t.Errorf("notices list: %d", r.status)
	}
}

func TestConsoleUrgentAndSettings(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	author := console{t, f, signIn(t, f, auth.Author)}
	approver := console{t, f, signIn(t, f, auth.Approver)}
	admin := console{t, f, signIn(t, f, auth.Admin)}

	admin.refused("/staff/settings/workflow", url.Values{"approval_from": {"medium"}, "political_role": {"approver"}, "pre_election_from": {"2026-01-20"}, "pre_election_to": {"2026-01-01"}}, 400, "ends before it starts")
	admin.step("/staff/settings/workflow", url.Values{"approval_from": {"none"}, "urgent_enabled": {"yes"}, "political_role": {"admin"},
		"pre_election_from": {"2026-01-01"}, "pre_election_to": {"2026-01-31"}})
	page := author.get("/staff/notices")
	if !strings.Contains(page.body, "Pre-election period") {
		t.Error("no pre-election banner on a console page during the period")
	}
	if page := author.get("/staff/check"); !strings.Contains(page.body, "Pre-election period") {
		t.Error("no pre-election banner on the check page")
	}

	// Every notice needs approval now, but a low-risk gritting notice may go out urgently.
	loc := author.step("/staff/notices", noticeForm("Priority routes being gritted", "Crews are out now."))
	draft := "/staff/notices/drafts/" + idInPath(t, loc)
	author.refused(draft+"/publish", url.Values{"version": {"1"}}, 403, "needs approval")
	author.step(draft+"/urgent", url.Values{"version": {"1"}})
	if page := approver.get("/staff/notices"); !strings.Contains(page.body, "Priority routes being gritted") {
		t.Error("urgent notice not in the review queue")
	}
	author.refused(draft+"/review", url.Values{"version": {"2"}}, 403, "does not allow")
	approver.step(draft+"/review", url.Values{"version": {"2"}})

	// Political content in the period cannot go urgently and needs an admin.
	loc = author.step("/staff/notices", noticeForm("Roads gritted", "Vote Labour on Thursday."))
	pol := "/staff/notices/drafts/" + idInPath(t, loc)
	author.refused(pol+"/urgent", url.Values{"version": {"1"}}, 403, "cannot be published urgently")
	author.step(pol+"/submit", url.Values{"version": {"1"}})
	approver.refused(pol+"/approve", url.Values{"version": {"2"}}, 403, "needs approval by an admin")
	admin.step(pol+"/approve", url.Values{"version": {"2"}})

	// Scheduling in the past is refused with the form's error.
	loc = author.step("/staff/notices", noticeForm("Roads gritted tonight", "Crews go out at 8pm."))
	sch := "/staff/notices/drafts/" + idInPath(t, loc)
	author.step(sch+"/submit", url.Values{"version": {"1"}})
	admin.step(sch+"/approve", url.Values{"version": {"2"}})
	author.refused(sch+"/schedule", url.Values{"version": {"3"}, "publish_at": {"2020-01-01 08:00"}}, 400, "in the future")
	author.step(sch+"/schedule", url.Values{"version": {"3"}, "publish_at": {testNow.Add(2 * time.Hour).In(f.srv.loc).Format(localInput)}})
	if page := author.get("/staff/notices"); !strings.Contains(page.body, "Roads gritted tonight") || !strings.Contains(page.body, "Scheduled") {
		t.Error("scheduled item not listed")
	}
}

func mustID(t *testing.T, path string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(idInPath(t, path), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
