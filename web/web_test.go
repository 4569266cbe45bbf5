package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/archive"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/channel/manage"
	"github.com/signpost-uk/signpost/costbook"
	"github.com/signpost-uk/signpost/demo"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/inbox/desk"
	"github.com/signpost-uk/signpost/inbox/sources"
	"github.com/signpost-uk/signpost/jobs"
	"github.com/signpost-uk/signpost/netsafe"
	"github.com/signpost-uk/signpost/publish"
	"github.com/signpost-uk/signpost/risk"
	"github.com/signpost-uk/signpost/secret"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// testNow is 7am on a Tuesday in January: the demo postpones Tuesday's
// bin rounds.
var testNow = time.Date(2026, 1, 13, 7, 0, 0, 0, time.UTC)

type fixture struct {
	srv   *Server
	db    *store.DB
	count *fakeCounter
	clock *testClock
	auth  *auth.Service
	subs  *subscriptionFixture
	desk  *desk.Desk
	// queue holds delivery jobs; it is never started, so jobs wait.
	queue *jobs.Queue
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// newFixture serves the Northdale demo from a fresh SQLite database.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureOn(t, store.SQLite)
}

func newFixtureOn(t testing.TB, engine store.Engine) *fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, engine)
	if err := demo.Load(ctx, db, testNow); err != nil {
		t.Fatalf("demo: %v", err)
	}
	clock := &testClock{now: testNow}
	db.SetClock(clock.Now)
	fc := &fakeCounter{}
	// Cheap hashing keeps sign-ins in tests fast; the rules are the real ones.
	as, err := auth.NewService(db, auth.Config{Params: auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, Now: clock.Now})
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	subs := newSubscriptionFixture(t, db, clock.Now)
	sc, err := risk.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	dk, err := desk.New(desk.Config{DB: db, Places: db, Notices: db, Screener: sc, BaseURL: "https://signpost.example"})
	if err != nil {
		t.Fatal(err)
	}
	wf := publish.NewDesk(db, sc, time.UTC, nil)
	// The delivery worker is registered so that its jobs can be
	// inserted; the queue never starts, so it never runs.
	workers := river.NewWorkers()
	river.AddWorker(workers, delivery.NewWorker(delivery.Config{}))
	queue, err := jobs.Open(ctx, db, jobs.Config{Workers: workers, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("job queue: %v", err)
	}
	t.Cleanup(func() { queue.Stop(context.Background()) })
	keys, err := secret.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	channels := manage.New(manage.Config{DB: db, Keys: keys, Net: netsafe.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	srv, err := NewServer(Config{
		CouncilName: demo.Council,
		BaseURL:     "https://signpost.example",
		Now:         clock.Now,
	}, Deps{Places: db, Notices: db, Counter: fc, Ready: db.Ping, Auth: as, Shift: db, Subscriptions: subs.svc, Inbox: dk, ContactLimit: 1000,
		FacebookHook: &sources.FacebookHook{AppSecret: []byte(testAppSecret), VerifyToken: "verify-me", Channels: db, Sink: db},
		Archive:      archive.New(db), Desk: wf, Accounts: as, Costs: costbook.New(db), Deliveries: delivery.NewConsole(db, queue), Channels: channels})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	if err := srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return &fixture{srv: srv, db: db, count: fc, clock: clock, auth: as, subs: subs, desk: dk, queue: queue}
}

type fakeCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (f *fakeCounter) CountContacts(_ context.Context, day time.Time, channel, category string, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = map[string]int{}
	}
	f.counts[day.Format(time.DateOnly)+" "+channel+" "+category] += n
	return nil
}

type result struct {
	status int
	header http.Header
	body   string
}

func do(t testing.TB, h http.Handler, method, target string, header ...string) result {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return result{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

func get(t testing.TB, h http.Handler, target string, header ...string) result {
	t.Helper()
	return do(t, h, http.MethodGet, target, header...)
}

// routeExample is one request to a route and the status it must answer
// for anyone allowed to use the route. For a signed-in request to a staff
// route the session's CSRF token is added to form (or, with json, to the
// X-CSRF-Token header).
type routeExample struct {
	path   string
	status int
	form   url.Values
	json   string
}

// routeExamples gives each route in the table requests and the status each
// must answer. TestRouteTable fails if a route has no example, so new
// routes get one.
func routeExamples(t testing.TB, f *fixture) map[string][]routeExample {
	snap := f.srv.snap.Load()
	notice := "/notices/" + itoa(snap.notices[0].ID)
	conv := "/staff/inbox/" + itoa(inboxConversation(f, "route-example", "Is Holy Trinity Primary School open today?"))
	draft := exampleDraft(t, f)
	if _, err := f.db.CreateChannel(context.Background(), store.Channel{Name: "example", Type: "webhook", Config: json.RawMessage(`{"url":"https://partner.example/hook"}`)}); err != nil {
		t.Fatal(err)
	}
	type ex = routeExample
	return map[string][]ex{
		"GET /{$}":           {{path: "/", status: 200}},
		"GET /area":          {{path: "/area?postcode=ND1+1BX", status: 200}, {path: "/area?postcode=ZZ9+9ZZ", status: 200}, {path: "/area?postcode=not-a-postcode", status: 400}, {path: "/area", status: 200}, {path: "/area?postcode=", status: 400}},
		"GET /notices/{id}":  {{path: notice, status: 200}, {path: "/notices/999999", status: 404}, {path: "/notices/abc", status: 404}},
		"GET /schools":       {{path: "/schools", status: 200}},
		"GET /schools/{urn}": {{path: "/schools/142316", status: 200}, {path: "/schools/000", status: 404}},
		"GET /routes":        {{path: "/routes", status: 200}},
		"GET /routes/{id}":   {{path: "/routes/" + snap.routes[0].ID, status: 200}, {path: "/routes/nope", status: 404}},
		"GET /wards":         {{path: "/wards", status: 200}},
		"GET /wards/{code}":  {{path: "/wards/NDW01", status: 200}, {path: "/wards/XX", status: 404}},
		"GET /rounds":        {{path: "/rounds", status: 200}},
		"GET /rounds/{id}":   {{path: "/rounds/ND-R001", status: 200}, {path: "/rounds/none", status: 404}},
		"GET /map":           {{path: "/map", status: 200}},
		"GET /subscribe":     {{path: "/subscribe", status: 200}, {path: "/subscribe?topic=school:142316", status: 200}},
		// Without the form's own token every request is refused.
		"POST /subscribe":                 {{path: "/subscribe", status: 403, form: url.Values{"email": {"a@b.example"}, "topic": {"ward:NDW01"}}}},
		"GET /subscribe/check-email":      {{path: "/subscribe/check-email", status: 200}},
		"GET /subscribe/confirm/{token}":  {{path: "/subscribe/confirm/" + f.subs.confirmToken, status: 200}, {path: "/subscribe/confirm/nonsense", status: 400}},
		"POST /subscribe/confirm/{token}": {{path: "/subscribe/confirm/" + f.subs.confirmToken, status: 200, form: url.Values{}}, {path: "/subscribe/confirm/" + f.subs.manageToken, status: 400, form: url.Values{}}},
		"GET /unsubscribe/{token}":        {{path: "/unsubscribe/" + f.subs.manageToken, status: 200}, {path: "/unsubscribe/" + f.subs.confirmToken, status: 400}},
		// Stopping a topic the address does not have changes nothing (the
		// one-click unsubscribe is in TestSubscribeFlow).
		"POST /unsubscribe/{token}":        {{path: "/unsubscribe/" + f.subs.manageToken, status: 200, form: url.Values{"topic": {"category:other"}}}, {path: "/unsubscribe/x", status: 400, form: url.Values{}}},
		"GET /brand.css":                   {{path: "/brand.css", status: 200}},
		"GET /static/":                     {{path: "/static/README.md", status: 200}, {path: "/static/", status: 404}, {path: "/static/missing.css", status: 404}},
		"GET /feeds/notices.atom":          {{path: "/feeds/notices.atom", status: 200}, {path: "/feeds/notices.atom?category=schools&ward=NDW01", status: 200}, {path: "/feeds/notices.atom?category=snow", status: 400}},
		"GET /feeds/notices.json":          {{path: "/feeds/notices.json", status: 200}, {path: "/feeds/notices.json?ward=NOPE", status: 400}},
		"GET /feeds/cap.atom":              {{path: "/feeds/cap.atom", status: 200}},
		"GET /cap/{file}":                  {{path: "/cap/" + itoa(snap.notices[0].ID) + ".xml", status: 200}, {path: "/cap/1.txt", status: 404}, {path: "/cap/999999.xml", status: 404}},
		"GET /calendar/rounds/{file}":      {{path: "/calendar/rounds/ND-R001.ics", status: 200}, {path: "/calendar/rounds/nope.ics", status: 404}},
		"GET /api/openapi.json":            {{path: "/api/openapi.json", status: 200}},
		"GET /api/v1/notices":              {{path: "/api/v1/notices", status: 200}, {path: "/api/v1/notices?category=roads&status=gritted", status: 200}, {path: "/api/v1/notices?status=melted", status: 400}},
		"GET /api/v1/notices/{id}":         {{path: "/api/v1/notices/" + itoa(snap.notices[0].ID), status: 200}, {path: "/api/v1/notices/0", status: 404}},
		"GET /api/v1/wards":                {{path: "/api/v1/wards", status: 200}},
		"GET /api/v1/wards/{code}":         {{path: "/api/v1/wards/NDW01", status: 200}, {path: "/api/v1/wards/NOPE", status: 404}},
		"GET /api/v1/schools":              {{path: "/api/v1/schools", status: 200}},
		"GET /api/v1/schools/{urn}":        {{path: "/api/v1/schools/142316", status: 200}, {path: "/api/v1/schools/1", status: 404}},
		"GET /api/v1/routes":               {{path: "/api/v1/routes", status: 200}},
		"GET /api/v1/routes/{id}":          {{path: "/api/v1/routes/" + snap.routes[0].ID, status: 200}, {path: "/api/v1/routes/x", status: 404}},
		"GET /api/v1/rounds":               {{path: "/api/v1/rounds", status: 200}},
		"GET /api/v1/rounds/{id}":          {{path: "/api/v1/rounds/ND-R001", status: 200}, {path: "/api/v1/rounds/x", status: 404}},
		"GET /api/v1/postcodes/{postcode}": {{path: "/api/v1/postcodes/nd11bx", status: 200}, {path: "/api/v1/postcodes/ZZ9%209ZZ", status: 404}, {path: "/api/v1/postcodes/hello", status: 400}},
		"GET /hooks/facebook": {{path: "/hooks/facebook?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", status: 200},
			{path: "/hooks/facebook?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1", status: 403}},
		"POST /hooks/facebook": {{path: "/hooks/facebook", status: 401, json: `{"object":"page","entry":[]}`}},
		"POST /api/v1/check":   {{path: "/api/v1/check", status: 400}, {path: "/api/v1/check", status: 200, json: `{"text": "Ring me on 07700 900123"}`}},
		"GET /healthz":         {{path: "/healthz", status: 200}},
		"GET /readyz":          {{path: "/readyz", status: 200}},
		"GET /metrics":         {{path: "/metrics", status: 403}}, // from a remote address; TestMetricsAccess covers the rest
		"GET /staff/sign-in":   {{path: "/staff/sign-in", status: 200}, {path: "/staff/sign-in?next=//evil.example", status: 200}},
		// Without the sign-in form's own token every sign-in is refused.
		"POST /staff/sign-in":      {{path: "/staff/sign-in", status: 403, form: url.Values{"email": {"a@b.example"}, "password": {"x"}}}},
		"POST /staff/sign-out":     {{path: "/staff/sign-out", status: 303, form: url.Values{}}},
		"GET /staff":               {{path: "/staff", status: 200}},
		"GET /staff/check":         {{path: "/staff/check", status: 200}},
		"POST /staff/check":        {{path: "/staff/check", status: 200, form: url.Values{"text": {"Ring me on 07700 900123"}}}, {path: "/staff/check", status: 400, form: url.Values{"text": {" "}}}},
		"GET /staff/shift":         {{path: "/staff/shift", status: 200}},
		"GET /staff/shift/":        {{path: "/staff/shift/", status: 200}, {path: "/staff/shift/print.css", status: 200}},
		"GET /staff/archive":       {{path: "/staff/archive", status: 200}, {path: "/staff/archive?text=snow&category=roads&page=2", status: 200}, {path: "/staff/archive?from=31/2/2026", status: 400}},
		"GET /staff/archive.csv":   {{path: "/staff/archive.csv?category=schools", status: 200}, {path: "/staff/archive.csv?to=never", status: 400}},
		"GET /staff/archive.jsonl": {{path: "/staff/archive.jsonl?from=2026-01-01&to=2026-01-31", status: 200}},
		"GET /staff/deliveries":    {{path: "/staff/deliveries", status: 200}, {path: "/staff/deliveries?state=failed&channel=masto&page=2", status: 200}, {path: "/staff/deliveries?notice=abc", status: 400}},
		// Retrying a delivery that does not exist changes nothing.
		"POST /staff/deliveries/retry": {{path: "/staff/deliveries/retry", status: 404, form: url.Values{"notice_id": {"999999"}, "revision": {"1"}, "channel": {"masto"}, "action": {"publish"}}}},
		"GET /contact":                 {{path: "/contact", status: 200}},
		// Without the form's token the message is refused with the form again.
		"POST /contact":                   {{path: "/contact", status: 400, form: url.Values{"email": {"ann@example.org"}, "message": {"Hello"}}}},
		"GET /contact/sent":               {{path: "/contact/sent", status: 200}},
		"GET /staff/inbox":                {{path: "/staff/inbox", status: 200}, {path: "/staff/inbox?status=closed&mine=1", status: 200}},
		"GET /staff/inbox/stats":          {{path: "/staff/inbox/stats?days=7", status: 200}},
		"GET /staff/inbox/{id}":           {{path: conv, status: 200}, {path: "/staff/inbox/999999", status: 404}, {path: "/staff/inbox/abc", status: 404}},
		"POST /staff/inbox/{id}/reply":    {{path: conv + "/reply", status: 303, form: url.Values{"text": {"The school is closed today."}}}, {path: conv + "/reply", status: 400, form: url.Values{"text": {" "}}}, {path: "/staff/inbox/999999/reply", status: 404, form: url.Values{"text": {"Hello"}}}},
		"POST /staff/inbox/{id}/assign":   {{path: conv + "/assign", status: 303, form: url.Values{"assignee": {"team:schools"}}}, {path: conv + "/assign", status: 400, form: url.Values{"assignee": {"bob"}}}},
		"POST /staff/inbox/{id}/status":   {{path: conv + "/status", status: 303, form: url.Values{"status": {"waiting"}}}, {path: conv + "/status", status: 400, form: url.Values{"status": {"done"}}}},
		"POST /staff/inbox/{id}/category": {{path: conv + "/category", status: 303, form: url.Values{"category": {"schools"}}}, {path: conv + "/category", status: 400, form: url.Values{"category": {"snow"}}}},
		"POST /staff/inbox/{id}/notes":    {{path: conv + "/notes", status: 303, form: url.Values{"text": {"Checked with the school"}}}, {path: conv + "/notes", status: 400, form: url.Values{"text": {" "}}}},
		"POST /staff/inbox/replies/{id}/decide": {{path: "/staff/inbox/replies/1/decide", status: 400, form: url.Values{"decision": {"maybe"}}},
			{path: "/staff/inbox/replies/999999/decide", status: 404, form: url.Values{"decision": {"approve"}}}},
		"POST /staff/inbox/messages/{id}/redact": {{path: "/staff/inbox/messages/999999/redact", status: 404, form: url.Values{}}},
		"GET /staff/inbox/saved":                 {{path: "/staff/inbox/saved", status: 200}, {path: "/staff/inbox/saved?edit=1", status: 200}},
		"POST /staff/inbox/saved": {{path: "/staff/inbox/saved", status: 303, form: url.Values{"title": {"Gritting"}, "body": {"Priority routes first."}}},
			{path: "/staff/inbox/saved", status: 400, form: url.Values{"title": {""}, "body": {"x"}}}},
		"POST /staff/inbox/saved/{id}/delete": {{path: "/staff/inbox/saved/999999/delete", status: 404, form: url.Values{}}},
		"GET /staff/inbox/export":             {{path: "/staff/inbox/export", status: 200}},
		"POST /staff/inbox/export":            {{path: "/staff/inbox/export", status: 200, form: url.Values{"who": {"@route-example@x"}}}, {path: "/staff/inbox/export", status: 400, form: url.Values{"who": {" "}}}},
		// Workflow steps are tried on a draft that does not exist, so every
		// role allowed to try gets the same answer however often it runs.
		"GET /staff/notices":                         {{path: "/staff/notices", status: 200}},
		"GET /staff/notices/new":                     {{path: "/staff/notices/new", status: 200}, {path: "/staff/notices/new?notice=" + itoa(snap.notices[0].ID), status: 200}, {path: "/staff/notices/new?notice=999999", status: 404}},
		"POST /staff/notices":                        {{path: "/staff/notices", status: 400, form: url.Values{"headline": {""}}}},
		"GET /staff/notices/drafts/{id}":             {{path: draft, status: 200}, {path: "/staff/notices/drafts/999999", status: 404}},
		"GET /staff/notices/drafts/{id}/edit":        {{path: draft + "/edit", status: 200}, {path: "/staff/notices/drafts/999999/edit", status: 404}},
		"POST /staff/notices/drafts/{id}":            {{path: "/staff/notices/drafts/999999", status: 404, form: url.Values{}}},
		"POST /staff/notices/drafts/{id}/submit":     {{path: "/staff/notices/drafts/999999/submit", status: 404, form: url.Values{}}},
		"POST /staff/notices/drafts/{id}/publish":    {{path: "/staff/notices/drafts/999999/publish", status: 404, form: url.Values{}}},
		"POST /staff/notices/drafts/{id}/urgent":     {{path: "/staff/notices/drafts/999999/urgent", status: 404, form: url.Values{}}},
		"POST /staff/notices/drafts/{id}/schedule":   {{path: "/staff/notices/drafts/999999/schedule", status: 404, form: url.Values{}}},
		"POST /staff/notices/drafts/{id}/unschedule": {{path: "/staff/notices/drafts/999999/unschedule", status: 404, form: url.Values{}}},
		"POST /staff/notices/drafts/{id}/withdraw":   {{path: "/staff/notices/drafts/999999/withdraw", status: 404, form: url.Values{}}},
		"POST /staff/notices/drafts/{id}/approve":    {{path: "/staff/notices/drafts/999999/approve", status: 404, form: url.Values{}}},
		"POST /staff/notices/drafts/{id}/return":     {{path: "/staff/notices/drafts/999999/return", status: 404, form: url.Values{"comment": {"x"}}}},
		"POST /staff/notices/drafts/{id}/review":     {{path: "/staff/notices/drafts/999999/review", status: 404, form: url.Values{}}},
		"GET /staff/notices/published/{id}":          {{path: "/staff/notices/published/" + itoa(snap.notices[0].ID), status: 200}, {path: "/staff/notices/published/999999", status: 404}},
		"POST /staff/notices/published/{id}/close":   {{path: "/staff/notices/published/999999/close", status: 404, form: url.Values{}}},
		"POST /staff/notices/published/{id}/retract": {{path: "/staff/notices/published/999999/retract", status: 404, form: url.Values{"reason": {"wrong"}}}},
		"GET /staff/settings/workflow":               {{path: "/staff/settings/workflow", status: 200}},
		"POST /staff/settings/workflow":              {{path: "/staff/settings/workflow", status: 400, form: url.Values{"approval_from": {"sometimes"}}}},
		"GET /staff/admin/users":                     {{path: "/staff/admin/users", status: 200}},
		"POST /staff/admin/users":                    {{path: "/staff/admin/users", status: 400, form: url.Values{"name": {"New Person"}, "email": {"not-an-address"}, "role": {"author"}}}},
		"GET /staff/admin/users/account":             {{path: "/staff/admin/users/account?email=" + staffEmail(auth.Viewer), status: 200}, {path: "/staff/admin/users/account?email=nobody@northdale.example", status: 404}},
		"POST /staff/admin/users/role":               {{path: "/staff/admin/users/role", status: 400, form: url.Values{"email": {staffEmail(auth.Viewer)}, "role": {"emperor"}}}},
		"POST /staff/admin/users/disable":            {{path: "/staff/admin/users/disable", status: 404, form: url.Values{"email": {"nobody@northdale.example"}}}},
		"POST /staff/admin/users/enable":             {{path: "/staff/admin/users/enable", status: 303, form: url.Values{"email": {staffEmail(auth.Viewer)}}}},
		"POST /staff/admin/users/password":           {{path: "/staff/admin/users/password", status: 400, form: url.Values{"email": {staffEmail(auth.Viewer)}, "password": {"short"}}}},
		"GET /staff/admin/retention":                 {{path: "/staff/admin/retention", status: 200}},
		"POST /staff/admin/retention":                {{path: "/staff/admin/retention", status: 400, form: url.Values{"keep_days": {"forever"}}}},
		"POST /staff/admin/retention/purge":          {{path: "/staff/admin/retention/purge", status: 303, form: url.Values{}}},
		"GET /staff/admin/costs":                     {{path: "/staff/admin/costs", status: 200}},
		"POST /staff/admin/costs":                    {{path: "/staff/admin/costs", status: 400, form: url.Values{"channel": {"phone"}, "effective_from": {"1/4/2026"}, "fully_loaded": {"lots"}, "source": {"Finance"}}}},
		"GET /staff/admin/channels":                  {{path: "/staff/admin/channels", status: 200}, {path: "/staff/admin/channels?removed=old", status: 200}},
		"POST /staff/admin/channels":                 {{path: "/staff/admin/channels", status: 400, form: url.Values{"type": {"x"}, "name": {"Bad Name"}, "token": {"t"}}}, {path: "/staff/admin/channels", status: 400, form: url.Values{"type": {"myspace"}}}},
		"GET /staff/admin/channels/new":              {{path: "/staff/admin/channels/new?type=mastodon", status: 200}, {path: "/staff/admin/channels/new", status: 400}},
		"GET /staff/admin/channels/{name}":           {{path: "/staff/admin/channels/example", status: 200}, {path: "/staff/admin/channels/nope", status: 404}},
		"POST /staff/admin/channels/{name}/test":     {{path: "/staff/admin/channels/nope/test", status: 404, form: url.Values{}}},
		"POST /staff/admin/channels/{name}/categories": {{path: "/staff/admin/channels/example/categories", status: 400, form: url.Values{"categories": {"snow"}}},
			{path: "/staff/admin/channels/nope/categories", status: 404, form: url.Values{}}},
		"POST /staff/admin/channels/{name}/credentials": {{path: "/staff/admin/channels/example/credentials", status: 400, form: url.Values{"token": {"short"}}},
			{path: "/staff/admin/channels/nope/credentials", status: 404, form: url.Values{"token": {"t"}}}},
		"GET /staff/admin/channels/{name}/remove":  {{path: "/staff/admin/channels/example/remove", status: 200}, {path: "/staff/admin/channels/nope/remove", status: 404}},
		"POST /staff/admin/channels/{name}/remove": {{path: "/staff/admin/channels/nope/remove", status: 404, form: url.Values{}}},
		"GET /staff/sso":          {{path: "/staff/sso", status: 404}},
		"GET /staff/sso/callback": {{path: "/staff/sso/callback?state=x&code=y", status: 404}},
	}
}

// inboxConversation ingests (once) and triages a message from a resident
// and returns its conversation's id.
func inboxConversation(f *fixture, who, text string) int64 {
	ctx := context.Background()
	id, _, err := f.db.Ingest(ctx, inbox.Incoming{Channel: "masto", Kind: inbox.KindMention, ExternalID: who + ":" + text, Author: "@" + who + "@x", Text: text, ReceivedAt: testNow})
	if err != nil {
		panic(err)
	}
	if _, err := f.desk.TriageOnce(ctx); err != nil {
		panic(err)
	}
	m, err := f.db.Message(ctx, id)
	if err != nil {
		panic(err)
	}
	return m.ConversationID
}

func slogTo(w io.Writer) *slog.Logger { return slogToLevel(w, slog.LevelInfo) }

func slogToLevel(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func runtimeGosched() { runtime.Gosched() }

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestUnknownPathsAndMethods(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		method, path string
		status       int
		ctype        string
		contains     string
	}{
		{"GET", "/no/such/page", 404, "text/html", "Page not found"},
		{"GET", "/favicon.ico", 404, "text/html", "Page not found"},
		{"GET", "/api/v1/nothing", 404, "application/json", `"code": "not_found"`},
		{"POST", "/", 405, "text/html", "Method not allowed"},
		{"DELETE", "/api/v1/notices", 405, "application/json", `"code": "method_not_allowed"`},
	}
	for _, tt := range tests {
		r := do(t, f.srv, tt.method, tt.path)
		if r.status != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, r.status, tt.status)
		}
		if !strings.HasPrefix(r.header.Get("Content-Type"), tt.ctype) {
			t.Errorf("%s %s: Content-Type %q, want %s", tt.method, tt.path, r.header.Get("Content-Type"), tt.ctype)
		}
		if !strings.Contains(strings.ReplaceAll(r.body, `":"`, `": "`), tt.contains) {
			t.Errorf("%s %s: body lacks %q: %.300s", tt.method, tt.path, tt.contains, r.body)
		}
		if tt.status == 405 && r.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tt.method, tt.path)
		}
	}
}

var h1 = regexp.MustCompile(`<h1[ >]`)

func TestPages(t *testing.T) {
	f := newFixture(t)
	snap := f.srv.snap.Load()
	var closedSchool *signpost.Notice
	for i := range snap.notices {
		if n := &snap.notices[i]; n.Category == signpost.CategorySchools && n.Status == signpost.StatusClosed {
			closedSchool = n
			break
		}
	}
	if closedSchool == nil {
		t.Fatal("demo has no closed school")
	}
	m := snap.summary()
	tests := []struct {
		path     string
		status   int
		contains []string
	}{
		{"/", 200, []string{
			"At a glance",
			`<span class="app-glance__figure">` + itoa(int64(m.SchoolsClosed)) + "</span> of " + itoa(int64(len(snap.schools))) + " schools closed",
			"gritting routes treated",
			"Tuesday’s</span> bin collections cancelled",
			html.EscapeString(closedSchool.Headline),
			`action="/area"`,
			`<time datetime="`,
		}},
		{"/area?postcode=nd11bx", 200, []string{"Your area: ND1 1BX", "Schools near you", "Your bin collection", "ND-R001", "Gritting in", `role="img"`}},
		{"/area?postcode=ZZ9+9ZZ", 200, []string{"We do not have any information for ZZ9 9ZZ"}},
		{"/area?postcode=%3Cscript%3E", 400, []string{"govuk-error-summary", "There is a problem", `href="#postcode"`, "&lt;script&gt;"}},
		{"/area?postcode=", 400, []string{"Enter a postcode"}},
		{"/notices/" + itoa(closedSchool.ID), 200, []string{html.EscapeString(closedSchool.Headline), "History of this notice", `<script type="application/ld+json">`, `"SpecialAnnouncement"`}},
		{"/schools/142316", 200, []string{"Holy Trinity Nursery School", "Reference number (URN)", `href="tel:01691253297"`}},
		{"/routes/" + snap.routes[0].ID, 200, []string{snap.routes[0].Name, "<svg", "<title id=\"route-map-title\">", "Priority"}},
		{"/wards/NDW01", 200, []string{"Greenbank", "Schools", "Bin collection rounds"}},
		{"/rounds/ND-R001", 200, []string{"Next collections", "collection cancelled", ".ics"}},
		{"/map", 200, []string{"Map of gritting routes", "<polyline", "Dotted grey line", "Every gritting route and its status"}},
		{"/schools", 200, []string{"schools are closed today"}},
		{"/wards", 200, []string{"Greenbank"}},
		{"/rounds", 200, []string{"ND-R001"}},
		{"/routes", 200, []string{snap.routes[0].Name}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := get(t, f.srv, tt.path)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d", r.status, tt.status)
			}
			for _, want := range tt.contains {
				if !strings.Contains(r.body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if n := len(h1.FindAllString(r.body, -1)); n != 1 {
				t.Errorf("%d <h1> elements, want 1", n)
			}
			for _, want := range []string{`<html lang="en-GB"`, `class="govuk-skip-link"`, `id="main-content"`, `rel="alternate" type="application/atom+xml"`, `rel="alternate" type="application/feed+json"`} {
				if !strings.Contains(r.body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if strings.Contains(r.body, " style=") || strings.Contains(r.body, "<style") || strings.Contains(r.body, "javascript:") {
				t.Error("page has inline style or script the CSP would block")
			}
			if strings.Count(r.body, "<script") != strings.Count(r.body, `<script type="application/ld+json">`) {
				t.Error("page has a script other than JSON-LD")
			}
		})
	}
}

func TestJSONLDIsEscaped(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	n, err := f.db.CreateNotice(ctx, signpost.NoticeInput{
		Category: signpost.CategoryOther, Status: signpost.StatusInformation,
		Places:   []signpost.PlaceRef{{Kind: signpost.PlaceAll}},
		Headline: `Test </script><script>alert(1)</script> & "quotes"`,
		Body:     "Body with <b>tags</b>",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	r := get(t, f.srv, "/notices/"+itoa(n.ID))
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if strings.Contains(r.body, "<script>alert") {
		t.Fatal("headline broke out of the JSON-LD script element")
	}
	start := strings.Index(r.body, `<script type="application/ld+json">`)
	end := strings.Index(r.body[start:], "</script>")
	raw := r.body[start+len(`<script type="application/ld+json">`) : start+end]
	var ld map[string]any
	if err := json.Unmarshal([]byte(raw), &ld); err != nil {
		t.Fatalf("JSON-LD does not parse: %v\n%s", err, raw)
	}
	if ld["name"] != n.Headline || ld["@type"] != "SpecialAnnouncement" {
		t.Errorf("JSON-LD name %q type %q", ld["name"], ld["@type"])
	}
}

func TestConditionalGET(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/feeds/notices.atom", "/api/v1/notices", "/area?postcode=ND1+1BX"} {
		t.Run(path, func(t *testing.T) {
			first := get(t, f.srv, path)
			etag, lm := first.header.Get("ETag"), first.header.Get("Last-Modified")
			if first.status != 200 || etag == "" || lm == "" {
				t.Fatalf("status %d ETag %q Last-Modified %q", first.status, etag, lm)
			}
			if cc := first.header.Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
				t.Errorf("Cache-Control %q", cc)
			}
			if r := get(t, f.srv, path, "If-None-Match", etag); r.status != 304 || r.body != "" || r.header.Get("ETag") != etag {
				t.Errorf("If-None-Match: status %d, ETag %q, body %d bytes", r.status, r.header.Get("ETag"), len(r.body))
			}
			if r := get(t, f.srv, path, "If-None-Match", `"other"`); r.status != 200 {
				t.Errorf("mismatched If-None-Match: status %d", r.status)
			}
			if r := get(t, f.srv, path, "If-Modified-Since", lm); r.status != 304 {
				t.Errorf("If-Modified-Since: status %d", r.status)
			}
			gz := get(t, f.srv, path, "Accept-Encoding", "gzip, deflate, br")
			if gz.header.Get("Content-Encoding") != "gzip" || gz.header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("gzip: Content-Encoding %q Vary %q", gz.header.Get("Content-Encoding"), gz.header.Get("Vary"))
			}
			zr, err := gzip.NewReader(strings.NewReader(gz.body))
			if err != nil {
				t.Fatal(err)
			}
			plain, _ := io.ReadAll(zr)
			if string(plain) != first.body {
				t.Error("gzipped body differs from the plain one")
			}
			if r := get(t, f.srv, path, "Accept-Encoding", "gzip", "If-None-Match", gz.header.Get("ETag")); r.status != 304 {
				t.Errorf("gzip If-None-Match: status %d", r.status)
			}
			if r := get(t, f.srv, path, "Accept-Encoding", "gzip;q=0"); r.header.Get("Content-Encoding") != "" {
				t.Error("gzip sent despite q=0")
			}
		})
	}
}

func TestFeeds(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path, ctype string
		contains    []string
		lacks       []string
	}{
		{"/feeds/notices.atom", "application/atom+xml", []string{`<feed xmlns="http://www.w3.org/2005/Atom"`, "<entry>"}, nil},
		{"/feeds/notices.atom?category=roads", "application/atom+xml", []string{"gritting"}, []string{"is closed today"}},
		{"/feeds/notices.json?category=schools", "application/feed+json", []string{`"version": "https://jsonfeed.org/version/1.1"`, "is closed today"}, []string{"gritting under way"}},
		{"/feeds/cap.atom", "application/atom+xml", []string{"/cap/", "application/cap+xml"}, nil},
		{"/calendar/rounds/ND-R001.ics", "text/calendar", []string{"BEGIN:VCALENDAR", "STATUS:CANCELLED"}, nil},
	}
	for _, tt := range tests {
		r := get(t, f.srv, tt.path)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), tt.ctype) {
			t.Errorf("%s: status %d Content-Type %q, want %s", tt.path, r.status, r.header.Get("Content-Type"), tt.ctype)
			continue
		}
		body := strings.ReplaceAll(r.body, `":"`, `": "`)
		for _, want := range tt.contains {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", tt.path, want)
			}
		}
		for _, bad := range tt.lacks {
			if strings.Contains(body, bad) {
				t.Errorf("%s has %q, which its filter excludes", tt.path, bad)
			}
		}
	}
	snap := f.srv.snap.Load()
	id := itoa(snap.notices[0].ID)
	r := get(t, f.srv, "/cap/"+id+".xml")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/common-alerting-protocol+xml") || !strings.Contains(r.body, "urn:oasis:names:tc:emergency:cap:1.2") {
		t.Errorf("CAP alert: Content-Type %q body %.200s", r.header.Get("Content-Type"), r.body)
	}
	bad := get(t, f.srv, "/feeds/notices.atom?category=snow")
	if bad.status != 400 || !strings.Contains(bad.body, `"snow"`) {
		t.Errorf("unknown category: status %d body %q", bad.status, bad.body)
	}
}

func TestAPI(t *testing.T) {
	f := newFixture(t)
	var pc struct {
		Postcode string `json:"postcode"`
		Ward     struct{ Code string }
		Rounds   []struct{ ID string }
		Schools  []struct {
			URN        string   `json:"urn"`
			DistanceKM *float64 `json:"distance_km"`
		} `json:"nearby_schools"`
	}
	r := get(t, f.srv, "/api/v1/postcodes/nd11bx")
	if err := json.Unmarshal([]byte(r.body), &pc); err != nil {
		t.Fatalf("postcode JSON: %v", err)
	}
	if pc.Postcode != "ND1 1BX" || pc.Ward.Code != "NDW01" || len(pc.Rounds) == 0 || pc.Rounds[0].ID != "ND-R001" || len(pc.Schools) == 0 || pc.Schools[0].DistanceKM == nil {
		t.Errorf("postcode answer %+v", pc)
	}
	for i := 1; i < len(pc.Schools); i++ {
		if *pc.Schools[i].DistanceKM < *pc.Schools[i-1].DistanceKM {
			t.Error("nearby schools not nearest first")
		}
	}

	errs := []struct {
		path   string
		status int
		code   string
	}{
		{"/api/v1/postcodes/hello", 400, signpost.EINVALID},
		{"/api/v1/postcodes/ZZ9%209ZZ", 404, signpost.ENOTFOUND},
		{"/api/v1/notices/123456", 404, signpost.ENOTFOUND},
		{"/api/v1/notices?category=snow", 400, signpost.EINVALID},
		{"/api/v1/notices?include_closed=maybe", 400, signpost.EINVALID},
	}
	for _, e := range errs {
		r := get(t, f.srv, e.path)
		var body apiError
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.status != e.status || body.Error.Code != e.code || body.Error.Message == "" {
			t.Errorf("%s: status %d body %s (err %v); want %d %s", e.path, r.status, r.body, err, e.status, e.code)
		}
		if r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", e.path, r.header.Get("Content-Type"))
		}
	}

	var list struct{ Notices []apiNotice }
	json.Unmarshal([]byte(get(t, f.srv, "/api/v1/notices?category=roads&status=gritted").body), &list)
	if len(list.Notices) == 0 {
		t.Fatal("no gritted road notices")
	}
	for _, n := range list.Notices {
		if n.Category != "roads" || n.Status != "gritted" {
			t.Errorf("filter let through %s/%s", n.Category, n.Status)
		}
	}
	var one apiNotice
	json.Unmarshal([]byte(get(t, f.srv, "/api/v1/notices/"+itoa(list.Notices[0].ID)).body), &one)
	if len(one.Revisions) != one.Revision || one.Revision < 2 {
		t.Errorf("notice has revision %d and %d revisions listed", one.Revision, len(one.Revisions))
	}

	var routes geoFeatureCollection
	json.Unmarshal([]byte(get(t, f.srv, "/api/v1/routes").body), &routes)
	if routes.Type != "FeatureCollection" || len(routes.Features) == 0 || routes.Features[0].Geometry.Type != "LineString" || len(routes.Features[0].Geometry.Coordinates) < 2 {
		t.Errorf("routes GeoJSON: %+v", routes.Type)
	}
}

func TestHTTPStatusMapping(t *testing.T) {
	tests := []struct {
		err    error
		status int
	}{
		{signpost.Errorf(signpost.EINVALID, "x"), 400},
		{signpost.Errorf(signpost.ENOTFOUND, "x"), 404},
		{signpost.Errorf(signpost.ECONFLICT, "x"), 409},
		{signpost.Errorf(signpost.EUNAUTHORIZED, "x"), 401},
		{signpost.Errorf(signpost.EFORBIDDEN, "x"), 403},
		{signpost.Errorf(signpost.EUNAVAILABLE, "x"), 503},
		{signpost.Errorf(signpost.ETOOLARGE, "x"), 413},
		{signpost.Errorf(signpost.ERATELIMITED, "x"), 429},
		{errors.New("disk on fire"), 500},
	}
	for _, tt := range tests {
		if got := httpStatus(signpost.ErrorCode(tt.err)); got != tt.status {
			t.Errorf("%v: status %d, want %d", tt.err, got, tt.status)
		}
	}
}

func TestSecurityHeadersAndPanics(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	f.srv.log = slogTo(&logs)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("secret detail") })
	h := f.srv.middleware(mux)
	r := get(t, h, "/boom?postcode=ND1+1BX")
	if r.status != 500 || strings.Contains(r.body, "secret detail") || !strings.Contains(r.body, "Sorry, there is a problem") {
		t.Errorf("panic: status %d body %.200s", r.status, r.body)
	}
	if !strings.Contains(logs.String(), "secret detail") || strings.Contains(logs.String(), "ND1") {
		t.Errorf("panic log should hold the detail and no query: %s", logs.String())
	}
	for _, res := range []result{r, get(t, f.srv, "/"), get(t, f.srv, "/nope"), get(t, f.srv, "/api/v1/wards"), get(t, f.srv, "/static/README.md")} {
		csp := res.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q", csp)
		}
		for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy", "X-Frame-Options"} {
			if res.header.Get(h) == "" {
				t.Errorf("status %d response lacks %s", res.status, h)
			}
		}
	}
}

func TestRequestLogHasNoPersonalData(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	f.srv.log = slogToLevel(&logs, -4) // debug: every request
	req := httptest.NewRequest("GET", "/area?postcode=ND1+1BX", nil)
	req.RemoteAddr = "203.0.113.9:4444"
	f.srv.ServeHTTP(httptest.NewRecorder(), req)
	get(t, f.srv, "/api/v1/postcodes/ND1%201BX")
	out := logs.String()
	if !strings.Contains(out, "route=\"GET /area\"") || !strings.Contains(out, "/api/v1/postcodes/{postcode}") {
		t.Errorf("log lacks route patterns: %s", out)
	}
	for _, bad := range []string{"ND1", "nd1", "203.0.113.9", "postcode=N"} {
		if strings.Contains(out, bad) {
			t.Errorf("log holds %q: %s", bad, out)
		}
	}
}

func TestUpdateVisibleAfterVersionChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before := get(t, f.srv, "/")
	if changed, err := f.srv.poll(ctx); err != nil || changed {
		t.Fatalf("poll with no change: changed %v err %v", changed, err)
	}
	snap := f.srv.snap.Load()
	var target *signpost.Notice
	for i := range snap.notices {
		if snap.notices[i].Category == signpost.CategorySchools && !snap.notices[i].Closed() {
			target = &snap.notices[i]
			break
		}
	}
	in := signpost.NoticeInput{Category: target.Category, Status: signpost.StatusResumed, Places: target.Places, Headline: "Reopened after lunch: test update", Body: "x"}
	f.clock.Set(testNow.Add(time.Minute))
	if _, err := f.db.UpdateNotice(ctx, target.ID, in); err != nil {
		t.Fatal(err)
	}
	// The store's version moved: the next poll (every 250ms in Run)
	// rebuilds, and the cached page is replaced.
	if changed, err := f.srv.poll(ctx); err != nil || !changed {
		t.Fatalf("poll after update: changed %v err %v", changed, err)
	}
	after := get(t, f.srv, "/", "If-None-Match", before.header.Get("ETag"))
	if after.status != 200 || !strings.Contains(after.body, "Reopened after lunch: test update") {
		t.Fatalf("update not visible: status %d", after.status)
	}
	page := get(t, f.srv, "/notices/"+itoa(target.ID))
	if !strings.Contains(page.body, "Reopened after lunch") || !strings.Contains(page.body, html.EscapeString(target.Headline)) {
		t.Error("notice page lacks the new revision or the history")
	}
	for _, p := range []string{"/feeds/notices.atom", "/api/v1/notices"} {
		if !strings.Contains(get(t, f.srv, p).body, "Reopened after lunch") {
			t.Errorf("%s lacks the update", p)
		}
	}
}

func TestRunPollsUntilCancelled(t *testing.T) {
	f := newFixture(t)
	f.srv.cfg.PollInterval = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.srv.Run(ctx) }()
	n, err := f.db.CreateNotice(ctx, signpost.NoticeInput{Category: signpost.CategoryOther, Status: signpost.StatusInformation, Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}, Headline: "Poller test"})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the poller by watching the snapshot, not the clock.
	for f.srv.snap.Load().noticeByID[n.ID] == nil {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		runtimeGosched()
	}
	get(t, f.srv, "/area?postcode=ND1+1BX")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Run flushes the counts on the way out.
	f.count.mu.Lock()
	defer f.count.mu.Unlock()
	if f.count.counts["2026-01-13 web other"] != 1 {
		t.Errorf("counts after Run: %v", f.count.counts)
	}
}

func TestContactCounting(t *testing.T) {
	f := newFixture(t)
	snap := f.srv.snap.Load()
	var school int64
	for _, n := range snap.notices {
		if n.Category == signpost.CategorySchools {
			school = n.ID
			break
		}
	}
	get(t, f.srv, "/notices/"+itoa(school))
	get(t, f.srv, "/notices/"+itoa(school), "If-None-Match", "*")
	get(t, f.srv, "/area?postcode=ND1+1BX")
	get(t, f.srv, "/feeds/notices.atom?category=roads")
	get(t, f.srv, "/api/v1/schools")
	get(t, f.srv, "/")
	f.srv.flushCounts(context.Background())
	want := map[string]int{
		"2026-01-13 web schools": 2,
		"2026-01-13 web other":   1,
		"2026-01-13 feed roads":  1,
		"2026-01-13 api schools": 1,
	}
	f.count.mu.Lock()
	defer f.count.mu.Unlock()
	if len(f.count.counts) != len(want) {
		t.Errorf("counts %v, want %v", f.count.counts, want)
	}
	for k, n := range want {
		if f.count.counts[k] != n {
			t.Errorf("count %q = %d, want %d", k, f.count.counts[k], n)
		}
	}
}

func TestReadyz(t *testing.T) {
	f := newFixture(t)
	f.srv.deps.Ready = func(context.Context) error { return errors.New("db down") }
	if r := get(t, f.srv, "/readyz"); r.status != 503 {
		t.Errorf("readyz with db down: %d", r.status)
	}
	if r := get(t, f.srv, "/healthz"); r.status != 200 {
		t.Errorf("healthz: %d", r.status)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	get(t, f.srv, "/")
	get(t, f.srv, "/nope")
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	r := result{status: rec.Code, body: rec.Body.String()}
	for _, want := range []string{
		`signpost_http_requests_total{code="200",route="GET /{$}"} 1`,
		`signpost_http_requests_total{code="404",route="unmatched"} 1`,
		`signpost_http_request_duration_seconds_bucket{code="200",route="GET /{$}"`,
		"signpost_snapshot_rebuild_seconds_count 1",
		"signpost_snapshot_version ",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		token  string
		remote string
		header []string
		want   int
	}{
		{"local, no token set", "", "127.0.0.1:5000", nil, 200},
		{"local IPv6, no token set", "", "[::1]:5000", nil, 200},
		{"relayed by a local proxy", "", "127.0.0.1:5000", []string{"X-Forwarded-For", "198.51.100.7"}, 403},
		{"relayed with Forwarded", "", "127.0.0.1:5000", []string{"Forwarded", "for=198.51.100.7"}, 403},
		{"remote, no token set", "", "198.51.100.7:5000", nil, 403},
		{"remote, right token", "s3cret-scrape", "198.51.100.7:5000", []string{"Authorization", "Bearer s3cret-scrape"}, 200},
		{"remote, wrong token", "s3cret-scrape", "198.51.100.7:5000", []string{"Authorization", "Bearer s3cret-scrapf"}, 401},
		{"token set, local without it", "s3cret-scrape", "127.0.0.1:5000", nil, 401},
		{"token set, basic auth", "s3cret-scrape", "198.51.100.7:5000", []string{"Authorization", "Basic czNjcmV0LXNjcmFwZQ=="}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &Server{cfg: Config{MetricsToken: tt.token}, deps: Deps{Registry: prometheus.NewRegistry()}}
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.RemoteAddr = tt.remote
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			rec := httptest.NewRecorder()
			s.handleMetrics().ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	f := newFixture(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	inTable := map[string]bool{}
	for _, rt := range f.srv.routes {
		if !strings.HasPrefix(rt.pattern, "/api/v1/") {
			continue
		}
		key := strings.ToLower(rt.method) + " " + rt.pattern
		inTable[key] = true
		if _, ok := doc.Paths[rt.pattern][strings.ToLower(rt.method)]; !ok {
			t.Errorf("%s is not in openapi.json", key)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !inTable[method+" "+path] {
				t.Errorf("openapi.json describes %s %s, which routes.go does not serve", method, path)
			}
		}
	}
}

func TestSummarySentences(t *testing.T) {
	tests := []struct {
		m    summary
		want []string
	}{
		{summary{Schools: 10, SchoolsClosed: 3, Routes: 4, RoutesTreated: 1, Rounds: 2, BinDays: []string{"Tuesday's bin collections cancelled"}},
			[]string{"3 of 10 schools closed", "1 of 4 gritting routes treated", "Tuesday's bin collections cancelled"}},
		{summary{Schools: 2, Routes: 1, RoutesTreating: 1, Rounds: 1},
			[]string{"All schools open as normal", "0 of 1 gritting routes treated, 1 in progress", "Bin collections running as normal"}},
		{summary{}, nil},
	}
	for _, tt := range tests {
		got := tt.m.Sentences()
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("Sentences() = %q, want %q", got, tt.want)
		}
	}
}

func TestNewServerRejectsBadConfig(t *testing.T) {
	f := newFixture(t)
	for _, cfg := range []Config{{BrandColour: "red; background:url(x)"}, {Timezone: "Mars/Olympus"}, {LogoURL: "https://evil.example/logo.png"}, {LogoURL: "javascript:alert(1)"}, {LogoURL: "//cdn.example/x.png"}} {
		if _, err := NewServer(cfg, Deps{Places: f.db, Notices: f.db}); err == nil {
			t.Errorf("NewServer(%+v) accepted", cfg)
		}
	}
	if _, err := NewServer(Config{}, Deps{}); err == nil {
		t.Error("NewServer without stores accepted")
	}
}

// TestRealServer starts the handler on a random port behind the same
// http.Server cmd/signpost uses.
func TestRealServer(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewUnstartedServer(f.srv)
	ts.Config = NewHTTPServer("", f.srv)
	ts.Start()
	defer ts.Close()
	res, err := http.Get(ts.URL + "/area?postcode=ND1%201BX")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(body), "ND1 1BX") {
		t.Errorf("status %d", res.StatusCode)
	}
}

func TestBrandContrast(t *testing.T) {
	tests := []struct {
		a, b string
		min  float64
		max  float64
	}{
		{"#000000", "#ffffff", 20.9, 21.1},
		{"#1d70b8", "#ffffff", 5.0, 5.3},
		{"#ffdd00", "#ffffff", 1.0, 1.5},
	}
	for _, tt := range tests {
		if c := contrast(tt.a, tt.b); c < tt.min || c > tt.max {
			t.Errorf("contrast(%s, %s) = %.2f, want %.1f–%.1f", tt.a, tt.b, c, tt.min, tt.max)
		}
	}
	f := newFixture(t)
	light, err := NewServer(Config{BrandColour: "#ffdd00"}, Deps{Places: f.db, Notices: f.db})
	if err != nil {
		t.Fatal(err)
	}
	if body := get(t, light, "/brand.css").body; !strings.Contains(body, "--brand-colour:#ffdd00") || !strings.Contains(body, "--brand-text-colour:#0b0c0c") {
		t.Errorf("brand.css for a light colour: %s", body)
	}
}

func TestStoreDownIs503(t *testing.T) {
	f := newFixture(t)
	srv, err := NewServer(Config{}, Deps{Places: f.db, Notices: brokenNotices{f.db}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/api/v1/notices"} {
		if r := get(t, srv, p); r.status != 503 {
			t.Errorf("%s with the store down: status %d", p, r.status)
		}
	}
}

type brokenNotices struct{ signpost.NoticeStore }

func (brokenNotices) ChangeVersion(context.Context) (int64, error) {
	return 0, errors.New("connection refused")
}

func TestStatic(t *testing.T) {
	f := newFixture(t)
	r := get(t, f.srv, "/static/signpost.css", "Accept-Encoding", "gzip")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") || r.header.Get("Content-Encoding") != "gzip" || r.header.Get("ETag") == "" {
		t.Fatalf("signpost.css: status %d headers %v", r.status, r.header)
	}
	if again := get(t, f.srv, "/static/signpost.css", "If-None-Match", r.header.Get("ETag")); again.status != 304 {
		t.Errorf("signpost.css revalidation: status %d", again.status)
	}
	if svg := get(t, f.srv, "/static/favicon.svg"); !strings.HasPrefix(svg.header.Get("Content-Type"), "image/svg+xml") {
		t.Errorf("favicon.svg Content-Type %q", svg.header.Get("Content-Type"))
	}
	if head := do(t, f.srv, http.MethodHead, "/"); head.status != 200 || head.body != "" || head.header.Get("Content-Length") == "0" {
		t.Errorf("HEAD /: status %d, %d body bytes, Content-Length %q", head.status, len(head.body), head.header.Get("Content-Length"))
	}
}

func TestLogo(t *testing.T) {
	f := newFixture(t)
	for _, logo := range []string{"/static/favicon.svg", "data:image/png;base64,iVBORw0KGgo="} {
		srv, err := NewServer(Config{LogoURL: logo}, Deps{Places: f.db, Notices: f.db})
		if err != nil {
			t.Fatalf("logo %q: %v", logo, err)
		}
		if body := get(t, srv, "/").body; !strings.Contains(body, `<img src="`+logo+`" alt="" class="app-header__logo">`) {
			t.Errorf("logo %q not shown as given", logo)
		}
	}
}

func TestQueryParam(t *testing.T) {
	tests := []struct {
		raw, want string
		has       bool
	}{
		{"postcode=ND1+1BX", "ND1 1BX", true},
		{"x=1&postcode=nd1%201bx&postcode=other", "nd1 1bx", true},
		{"postcode=", "", true},
		{"postcode", "", true},
		{"postcodes=ND1", "", false},
		{"", "", false},
		{"postcode=%zz", "%zz", true},
	}
	for _, tt := range tests {
		got, has := queryParam(tt.raw, "postcode")
		if got != tt.want || has != tt.has {
			t.Errorf("queryParam(%q) = %q, %v; want %q, %v", tt.raw, got, has, tt.want, tt.has)
		}
	}
}

// TestEngines serves the demo from each engine (PostgreSQL when
// SIGNPOST_TEST_POSTGRES is set) and checks the pages and API agree.
func TestEngines(t *testing.T) {
	bodies := map[store.Engine]map[string]string{}
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			f := newFixtureOn(t, engine)
			bodies[engine] = map[string]string{}
			for _, p := range []string{"/", "/area?postcode=ND1+1BX", "/map", "/api/v1/postcodes/ND1%201BX", "/api/v1/notices?include_closed=true", "/feeds/notices.atom", "/calendar/rounds/ND-R001.ics"} {
				r := get(t, f.srv, p)
				if r.status != 200 {
					t.Errorf("%s: status %d", p, r.status)
				}
				bodies[engine][p] = r.body
			}
		})
	}
	if len(bodies) == 2 {
		for p, b := range bodies[store.SQLite] {
			if bodies[store.Postgres][p] != b {
				t.Errorf("%s differs between SQLite and PostgreSQL", p)
			}
		}
	}
}
