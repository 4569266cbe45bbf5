package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/store"
)

// as makes one signed-in request: a GET, or a POST of form with the
// session's CSRF token.
func as(t *testing.T, f *fixture, sess auth.Session, method, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	if method == http.MethodPost && form == nil {
		form = url.Values{}
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, exampleRequest(method, routeExample{path: path, form: form}, &sess))
	return rec
}

// TestInboxAnswering walks the console: a one-click notice reply, a
// risky reply held for another person's approval, a reply that would
// repeat a resident's abuse refused on the page, a saved reply put in the
// box, redaction and export.
func TestInboxAnswering(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	ctx := context.Background()
	author, approver, admin, viewer := signIn(t, f, auth.Author), signIn(t, f, auth.Approver), signIn(t, f, auth.Admin), signIn(t, f, auth.Viewer)
	school, closure := closedSchool(t, f)
	conv := inboxConversation(f, "ann", "Is "+school+" open today?")
	path := fmt.Sprintf("/staff/inbox/%d", conv)

	msgs, _ := f.db.Messages(ctx, conv)
	if len(msgs) != 1 || len(msgs[0].Notices) == 0 || msgs[0].Notices[0] != closure {
		t.Fatalf("the demo's notice %d closing %s was not linked: %+v", closure, school, msgs)
	}
	noticeID := msgs[0].Notices[0]
	page := as(t, f, author, "GET", path, nil).Body.String()
	if !strings.Contains(page, "Reply with this notice") || !strings.Contains(page, fmt.Sprintf(`name="notice" value="%d"`, noticeID)) {
		t.Fatalf("conversation page offers no one-click reply: %.500s", page)
	}
	if vp := as(t, f, viewer, "GET", path, nil).Body.String(); strings.Contains(vp, "Send reply") || strings.Contains(vp, "Reply with this notice") {
		t.Errorf("a viewer is offered the reply form")
	}

	if rec := as(t, f, author, "POST", path+"/reply", url.Values{"notice": {fmt.Sprint(noticeID)}}); rec.Code != 303 {
		t.Fatalf("one-click reply: %d %.300s", rec.Code, rec.Body.String())
	}
	replies, _ := f.db.Replies(ctx, conv)
	if len(replies) != 1 || replies[0].State != inbox.ReplyQueued || replies[0].NoticeID == nil || *replies[0].NoticeID != noticeID ||
		!strings.Contains(replies[0].Text, fmt.Sprintf("https://signpost.example/notices/%d", noticeID)) || replies[0].Author != "user:"+staffEmail(auth.Author) {
		t.Errorf("one-click reply stored as %+v", replies)
	}

	// A medium-risk reply waits; its author cannot approve it.
	if rec := as(t, f, author, "POST", path+"/reply", url.Values{"text": {"Bloody hell, sorry, the gritters are late"}}); rec.Code != 303 {
		t.Fatalf("risky reply: %d", rec.Code)
	}
	replies, _ = f.db.Replies(ctx, conv)
	held := replies[len(replies)-1]
	if held.State != inbox.ReplyApproval {
		t.Fatalf("risky reply state %q; want approval", held.State)
	}
	if q := as(t, f, viewer, "GET", "/staff/inbox", nil).Body.String(); !strings.Contains(q, "Replies waiting for approval") {
		t.Errorf("the queue does not list the held reply")
	}
	if ap := as(t, f, author, "GET", path, nil).Body.String(); strings.Contains(ap, "Approve and send") {
		t.Errorf("the author is offered to approve their own reply")
	}
	if !strings.Contains(as(t, f, approver, "GET", path, nil).Body.String(), "Approve and send") {
		t.Errorf("an approver is not offered the decision")
	}
	decide := fmt.Sprintf("/staff/inbox/replies/%d/decide", held.ID)
	if rec := as(t, f, admin, "POST", decide, url.Values{"decision": {"approve"}}); rec.Code != 303 {
		t.Errorf("approve: %d", rec.Code)
	}
	if rec := as(t, f, approver, "POST", decide, url.Values{"decision": {"reject"}}); rec.Code != http.StatusConflict {
		t.Errorf("deciding twice: %d", rec.Code)
	}
	if r, _ := f.db.Reply(ctx, held.ID); r.State != inbox.ReplyQueued || r.ApprovedBy != "user:"+staffEmail(auth.Admin) {
		t.Errorf("approved reply = %+v", r)
	}

	// Abuse is never repeated back.
	rude := inboxConversation(f, "rude", "You lot are idiots, when will the gritters come?")
	rudePath := fmt.Sprintf("/staff/inbox/%d", rude)
	rec := as(t, f, author, "POST", rudePath+"/reply", url.Values{"text": {"We are not idiots; the gritters come tonight"}})
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "govuk-error-summary") || !strings.Contains(rec.Body.String(), "We are not idiots; the gritters come tonight</textarea>") {
		t.Errorf("repeating abuse: %d %.300s", rec.Code, rec.Body.String())
	}
	if rs, _ := f.db.Replies(ctx, rude); len(rs) != 0 {
		t.Errorf("a refused reply was stored: %+v", rs)
	}

	// A saved reply fills the box.
	if rec := as(t, f, admin, "POST", "/staff/inbox/saved", url.Values{"title": {"Gritting"}, "body": {"Priority routes are gritted first."}}); rec.Code != 303 {
		t.Fatalf("save reply: %d", rec.Code)
	}
	if rec := as(t, f, admin, "POST", "/staff/inbox/saved", url.Values{"title": {"Gritting"}, "body": {"again"}}); rec.Code != http.StatusConflict {
		t.Errorf("duplicate saved reply: %d", rec.Code)
	}
	saved, _ := f.db.SavedReplies(ctx)
	if p := as(t, f, author, "GET", fmt.Sprintf("%s?saved=%d", rudePath, saved[0].ID), nil).Body.String(); !strings.Contains(p, ">Priority routes are gritted first.</textarea>") {
		t.Errorf("saved reply not in the reply box")
	}
	if rec := as(t, f, admin, "POST", fmt.Sprintf("/staff/inbox/saved/%d/delete", saved[0].ID), nil); rec.Code != 303 {
		t.Errorf("delete saved reply: %d", rec.Code)
	}

	// Redaction blanks the text for good.
	rm, _ := f.db.Messages(ctx, rude)
	if rec := as(t, f, approver, "POST", fmt.Sprintf("/staff/inbox/messages/%d/redact", rm[0].ID), nil); rec.Code != 303 {
		t.Fatalf("redact: %d", rec.Code)
	}
	if p := as(t, f, viewer, "GET", rudePath, nil).Body.String(); strings.Contains(p, "idiots") || !strings.Contains(p, "Redacted") {
		t.Errorf("redacted message still shown")
	}

	// Export: everything about a resident, as JSON.
	rec = as(t, f, admin, "POST", "/staff/inbox/export", url.Values{"who": {"@ANN@x"}})
	var data store.SubjectData
	if err := json.Unmarshal(rec.Body.Bytes(), &data); err != nil || rec.Code != 200 || len(data.Messages) != 1 || len(data.Replies) != 2 ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Errorf("export: %d %v %+v", rec.Code, err, data)
	}
}

// closedSchool finds a school the demo closes today, and the notice.
func closedSchool(t *testing.T, f *fixture) (string, int64) {
	t.Helper()
	ctx := context.Background()
	notices, _ := f.db.Notices(ctx, signpost.NoticeFilter{Category: signpost.CategorySchools})
	schools, _ := f.db.Schools(ctx)
	for _, n := range notices {
		if n.Status != signpost.StatusClosed {
			continue
		}
		for _, sc := range schools {
			if n.Affects(signpost.PlaceSchool, sc.URN) {
				return sc.Name, n.ID
			}
		}
	}
	t.Fatal("the demo closes no school")
	return "", 0
}

// TestInboxQueueOrder checks urgent conversations come first and the
// statistics page counts an answered enquiry.
func TestInboxQueueOrder(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	viewer := signIn(t, f, auth.Viewer)
	plain := inboxConversation(f, "first", "When are the bins collected?")
	urgent := inboxConversation(f, "second", "My neighbour's carer hasn't been for three days and he can't get out of bed")
	body := as(t, f, viewer, "GET", "/staff/inbox", nil).Body.String()
	iu, ip := strings.Index(body, fmt.Sprintf(`href="/staff/inbox/%d"`, urgent)), strings.Index(body, fmt.Sprintf(`href="/staff/inbox/%d"`, plain))
	if iu < 0 || ip < 0 || iu > ip || !strings.Contains(body, "Urgent") {
		t.Errorf("queue order: urgent at %d, plain at %d", iu, ip)
	}
	ctx := context.Background()
	msgs, _ := f.db.Messages(ctx, plain)
	var r inbox.Reply
	err := f.db.UpdateInbox(ctx, func(tx *store.Tx) error {
		r = inbox.Reply{ConversationID: plain, MessageID: msgs[0].ID, Text: "Tuesdays", Author: "user:x", State: inbox.ReplyQueued}
		return tx.AddReply(ctx, &r)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(testNow.Add(45 * time.Minute))
	if err := f.db.MarkReplySent(ctx, r.ID, "ext", "waste", time.UTC); err != nil {
		t.Fatal(err)
	}
	viewer = signIn(t, f, auth.Viewer) // the first session has timed out
	stats := as(t, f, viewer, "GET", "/staff/inbox/stats", nil).Body.String()
	if !strings.Contains(stats, "<td class=\"govuk-table__cell\">masto</td>") || !strings.Contains(stats, "45 min") {
		t.Errorf("stats page: %.2000s", stats)
	}
}

// TestContactForm sends the residents' enquiry form: a message arrives in
// the inbox once however often the form is resent; the honeypot, size
// limits, bad addresses and a flood are refused.
func TestContactForm(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := &browser{t: t, h: f.srv, cookies: map[string]string{}}
	form := b.do("GET", "/contact", nil)
	if form.Code != 200 || strings.Contains(form.Body.String(), "<script") {
		t.Fatalf("form: %d", form.Code)
	}
	tok := b.token(form.Body.String())
	send := func(v url.Values) *httptest.ResponseRecorder {
		v.Set(auth.CSRFField, tok)
		return b.do("POST", "/contact", v)
	}
	good := url.Values{"name": {"Ann"}, "email": {"Ann@Example.org"}, "message": {"Is Holy Trinity Primary open?"}}
	for range 2 {
		if rec := send(good); rec.Code != 303 || rec.Header().Get("Location") != "/contact/sent" {
			t.Fatalf("send: %d %.300s", rec.Code, rec.Body.String())
		}
	}
	q, _ := f.db.Queue(ctx, store.QueueFilter{})
	var found []inbox.Conversation
	for _, c := range q {
		if c.Channel == inbox.ChannelForm {
			found = append(found, c)
		}
	}
	if len(found) != 1 || found[0].Author != "ann@example.org" || found[0].AuthorName != "Ann" {
		t.Fatalf("form conversations = %+v", found)
	}
	if ms, _ := f.db.Messages(ctx, found[0].ID); len(ms) != 1 || ms[0].Text != "Is Holy Trinity Primary open?" {
		t.Errorf("form messages = %+v (a resend must not duplicate)", ms)
	}
	if rec := send(url.Values{"email": {"bot@example.org"}, "message": {"spam"}, "website": {"http://spam.example"}}); rec.Code != 303 {
		t.Errorf("honeypot: %d", rec.Code)
	}
	if sd, _ := f.db.SubjectData(ctx, "bot@example.org"); len(sd.Messages) != 0 {
		t.Errorf("a honeypot message was stored")
	}
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"email": {"not-an-address"}, "message": {"Hi"}}, "Enter an email address in the correct format"},
		{url.Values{"email": {""}, "message": {"Hi"}}, "Enter your email address"},
		{url.Values{"email": {"a@b.example"}, "message": {" "}}, "Enter your message"},
		{url.Values{"email": {"a@b.example"}, "message": {strings.Repeat("x", 3001)}}, "3000 characters or fewer"},
	} {
		rec := send(tc.form)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), tc.want) || !strings.Contains(rec.Body.String(), "govuk-error-summary") {
			t.Errorf("%v: %d, want 400 with %q", tc.form, rec.Code, tc.want)
		}
	}
	if rec := send(url.Values{"email": {"a@b.example"}, "message": {strings.Repeat("x", 20000)}}); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", rec.Code)
	}
	if rec := b.do("POST", "/contact", url.Values{"email": {"a@b.example"}, "message": {"Hi"}, auth.CSRFField: {"forged"}}); rec.Code != 400 || !strings.Contains(rec.Body.String(), "The form had expired") {
		t.Errorf("forged token: %d", rec.Code)
	}
}

func TestContactRateLimit(t *testing.T) {
	f := newFixture(t)
	srv, err := NewServer(Config{BaseURL: "https://signpost.example", Now: f.clock.Now}, Deps{Places: f.db, Notices: f.db, Inbox: f.desk, ContactLimit: 2, ContactWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, h: srv, cookies: map[string]string{}}
	tok := b.token(b.do("GET", "/contact", nil).Body.String())
	for i, want := range []int{303, 303, 429} {
		rec := b.do("POST", "/contact", url.Values{"email": {"a@b.example"}, "message": {fmt.Sprint("Question ", i)}, auth.CSRFField: {tok}})
		if rec.Code != want {
			t.Errorf("post %d: %d, want %d", i+1, rec.Code, want)
		}
	}
	f.clock.Set(testNow.Add(time.Minute + time.Second))
	if rec := b.do("POST", "/contact", url.Values{"email": {"a@b.example"}, "message": {"Later"}, auth.CSRFField: {tok}}); rec.Code != 303 {
		t.Errorf("after the window: %d", rec.Code)
	}
}
