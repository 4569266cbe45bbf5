package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/channel/manage"
	"github.com/signpost-uk/signpost/inbox/desk"
	"github.com/signpost-uk/signpost/internal/mailpit"
	"github.com/signpost-uk/signpost/secret"
	"github.com/signpost-uk/signpost/store"
)

// roleBrowser signs a browser in as role.
func roleBrowser(t *testing.T, f *fixture, role auth.Role) *browser {
	t.Helper()
	b := &browser{t: t, h: f.srv, cookies: map[string]string{}}
	tok := b.token(b.do("GET", "/staff/sign-in", nil).Body.String())
	if rec := b.do("POST", "/staff/sign-in", url.Values{"email": {staffEmail(role)}, "password": {staffPassword}, auth.CSRFField: {tok}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("%s sign-in: %d", role, rec.Code)
	}
	return b
}

func TestChannelsAdmin(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	ctx := context.Background()
	masto := fake.NewMastodon("masto-secret-token")
	defer masto.Close()
	b := adminBrowser(t, f)
	page := b.do("GET", channelsPath, nil)
	if page.Code != 200 || !strings.Contains(page.Body.String(), "No channels yet") {
		t.Fatalf("channels page: %d", page.Code)
	}
	tok := b.token(page.Body.String())
	if rec := b.do("GET", channelsPath+"/new", nil); rec.Code != 400 || !strings.Contains(rec.Body.String(), `<a href="#type">`) {
		t.Errorf("no type chosen: %d", rec.Code)
	}
	if rec := b.do("GET", channelsPath+"/new?type=mastodon", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `type="password"`) {
		t.Errorf("mastodon form: %d", rec.Code)
	}
	add := func(form url.Values) (int, string) {
		form.Set(auth.CSRFField, tok)
		rec := b.do("POST", channelsPath, form)
		return rec.Code, rec.Body.String()
	}

	// Every problem is named in the summary and beside its input; the
	// credential is never sent back.
	code, body := add(url.Values{"type": {"mastodon"}, "name": {"Main Account"}, "server": {"ftp://x"}, "token": {"masto-secret-token"}, "categories": {"snow"}})
	if code != 400 || strings.Contains(body, "masto-secret-token") {
		t.Errorf("bad form: %d", code)
	}
	for _, id := range []string{"name", "server", "categories"} {
		if !strings.Contains(body, `<a href="#`+id+`">`) || !strings.Contains(body, `id="`+id+`-error"`) {
			t.Errorf("no error linked to #%s", id)
		}
	}
	// A webhook to the council's own network is refused: the server's
	// allowlist has only 127.0.0.1.
	if code, body := add(url.Values{"type": {"webhook"}, "name": {"intranet"}, "url": {"http://10.0.0.5:8080/hook"}}); code != 400 || !strings.Contains(body, "private (RFC 1918) address") {
		t.Errorf("private webhook: %d", code)
	}
	// Without the session's token nothing is added.
	if rec := b.do("POST", channelsPath, url.Values{"type": {"x"}, "name": {"sneaky"}, "token": {"t"}}); rec.Code != 403 {
		t.Errorf("no CSRF token: %d", rec.Code)
	}

	code, _ = add(url.Values{"type": {"mastodon"}, "name": {"masto"}, "server": {masto.URL}, "token": {"masto-secret-token"}, "categories": {"roads"}})
	if code != 303 {
		t.Fatalf("add: %d", code)
	}
	// A webhook without a secret gets one, shown on this response only.
	code, body = add(url.Values{"type": {"webhook"}, "name": {"partner"}, "url": {"https://partner.example/hook"}})
	secretShown := regexpFind(`<code id="secret">([^<]+)</code>`, body)
	if code != 200 || len(secretShown) < 32 {
		t.Fatalf("webhook: %d %q", code, secretShown)
	}
	list := b.do("GET", channelsPath, nil).Body.String()
	for _, want := range []string{"masto", "partner", "Working", "roads"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	for _, page := range []string{list, b.do("GET", channelsPath+"/masto", nil).Body.String(), b.do("GET", channelsPath+"/partner", nil).Body.String()} {
		if strings.Contains(page, "masto-secret-token") || strings.Contains(page, secretShown) || strings.Contains(page, "sp1:") {
			t.Error("a credential is shown")
		}
	}

	if rec := b.do("POST", channelsPath+"/masto/categories", url.Values{"categories": {"schools", "waste"}, auth.CSRFField: {tok}}); rec.Code != 303 {
		t.Errorf("categories: %d", rec.Code)
	}
	if got, _ := f.db.DefaultChannels(ctx, "waste"); !slices.Equal(got, []string{"masto"}) {
		t.Errorf("default channels for waste: %v", got)
	}

	// Replacing a revoked token: refused without the session's token or
	// with nothing typed, then checked and reported after a redirect.
	masto.Fail(1, fake.Unauthorized)
	if rec := b.do("POST", channelsPath+"/masto/test", url.Values{auth.CSRFField: {tok}}); rec.Code != 200 {
		t.Fatalf("test: %d", rec.Code)
	}
	if rec := b.do("POST", channelsPath+"/masto/credentials", url.Values{"token": {"masto-secret-token"}}); rec.Code != 403 {
		t.Errorf("replace without CSRF token: %d", rec.Code)
	}
	if rec := b.do("POST", channelsPath+"/masto/credentials", url.Values{"token": {" "}, auth.CSRFField: {tok}}); rec.Code != 400 ||
		!strings.Contains(rec.Body.String(), `<a href="#token">`) || !strings.Contains(rec.Body.String(), `id="token-error"`) {
		t.Errorf("replace with nothing: %d", rec.Code)
	}
	if un, _ := f.db.UnhealthyChannels(ctx); !slices.Equal(un, []string{"masto"}) {
		t.Fatalf("unhealthy before replacing: %v", un)
	}
	rec := b.do("POST", channelsPath+"/masto/credentials", url.Values{"token": {"masto-secret-token"}, auth.CSRFField: {tok}})
	if loc := rec.Header().Get("Location"); rec.Code != 303 || loc != channelsPath+"/masto?done=credentials" {
		t.Fatalf("replace: %d %q", rec.Code, loc)
	}
	if page := b.do("GET", channelsPath+"/masto?done=credentials", nil).Body.String(); !strings.Contains(page, channelDone["credentials"]) ||
		!strings.Contains(page, "Working") || strings.Contains(page, "masto-secret-token") {
		t.Error("the channel page does not say the replaced credentials work")
	}
	if un, _ := f.db.UnhealthyChannels(ctx); len(un) != 0 {
		t.Errorf("unhealthy after replacing: %v", un)
	}
	if rec := b.do("POST", channelsPath+"/masto/credentials", url.Values{"token": {"wrong"}, auth.CSRFField: {tok}}); rec.Header().Get("Location") != channelsPath+"/masto?done=credentials-failed" {
		t.Errorf("replace with a wrong token: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	// Removal says what happens to the waiting delivery, and skips it.
	if err := f.db.SetDeliveryState(ctx, store.DeliveryJob{NoticeID: 1, Revision: 1, Channel: "partner", Action: "publish", State: store.DeliveryQueued}); err != nil {
		t.Fatal(err)
	}
	if rec := b.do("GET", channelsPath+"/partner/remove", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "1 delivery to it is waiting") {
		t.Errorf("remove page: %d", rec.Code)
	}
	if rec := b.do("POST", channelsPath+"/partner/remove", url.Values{}); rec.Code != 403 {
		t.Errorf("remove without CSRF token: %d", rec.Code)
	}
	if rec := b.do("POST", channelsPath+"/partner/remove", url.Values{auth.CSRFField: {tok}}); rec.Code != 303 {
		t.Errorf("remove: %d", rec.Code)
	}
	if n, _ := f.db.PendingDeliveries(ctx, "partner"); n != 0 {
		t.Errorf("%d deliveries still pending", n)
	}
	es, err := audit.List(ctx, f.db, audit.Filter{Target: "channel:partner"})
	if err != nil || len(es) != 2 || es[1].Action != audit.ChannelRemove || es[0].Actor != "user:"+staffEmail(auth.Admin) {
		t.Errorf("audit %+v, %v", es, err)
	}
}

func regexpFind(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestUnhealthyChannelAlert follows a channel through an outage: a
// permanent failure in delivery marks it unhealthy, every approver's and
// admin's page shows the banner, the admin gets exactly one e-mail
// however many deliveries fail, and a successful test from the console
// clears it.
func TestUnhealthyChannelAlert(t *testing.T) {
	mp := mailpit.Start(t)
	f := newFixture(t)
	addStaff(t, f)
	ctx := context.Background()
	masto := fake.NewMastodon("masto-secret-token")
	defer masto.Close()
	admin := adminBrowser(t, f)
	tok := admin.token(admin.do("GET", channelsPath, nil).Body.String())
	if rec := admin.do("POST", channelsPath, url.Values{"type": {"mastodon"}, "name": {"masto"}, "server": {masto.URL}, "token": {"masto-secret-token"}, auth.CSRFField: {tok}}); rec.Code != 303 {
		t.Fatalf("add: %d", rec.Code)
	}
	keys, _ := secret.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := delivery.NewWorker(delivery.Config{
		Store:     f.db,
		Connector: delivery.NewConnectors(f.db, keys, delivery.Net{Client: fake.Client()}).Get,
		Render: func(context.Context, int64, int, string) (channel.Post, error) {
			return channel.Post{Parts: []string{"Gritting tonight"}, Languages: []string{"en"}}, nil
		},
		Logger: quiet,
	})
	alerter := &manage.Alerter{Store: f.db, Logger: quiet, BaseURL: "https://signpost.example",
		Mailer: &desk.SMTP{Addr: mp.SMTPAddr, From: "Signpost <signpost@northdale.example>", TLS: mp.TLS(), Username: "u", Password: "p"}}
	banner := "The channel masto has stopped working"
	pages := map[auth.Role]*browser{auth.Viewer: roleBrowser(t, f, auth.Viewer), auth.Approver: roleBrowser(t, f, auth.Approver), auth.Admin: admin}
	showsBanner := func(role auth.Role) bool {
		return strings.Contains(pages[role].do("GET", "/staff/notices", nil).Body.String(), banner)
	}
	if showsBanner(auth.Admin) {
		t.Fatal("banner before any failure")
	}

	// The token is revoked; two deliveries fail for good.
	masto.Fail(2, fake.Unauthorized)
	for id := range int64(2) {
		job := &river.Job[delivery.Args]{JobRow: &rivertype.JobRow{Attempt: 1}, Args: delivery.Args{NoticeID: id + 1, Revision: 1, Channel: "masto", Action: delivery.ActionPublish}}
		var cancel *rivertype.JobCancelError
		if err := w.Work(ctx, job); !errors.As(err, &cancel) {
			t.Fatalf("delivery %d: %v, want cancelled", id, err)
		}
		if _, err := alerter.AlertOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for role, want := range map[auth.Role]bool{auth.Viewer: false, auth.Approver: true, auth.Admin: true} {
		if got := showsBanner(role); got != want {
			t.Errorf("%s sees the banner: %v, want %v", role, got, want)
		}
	}
	if body := pages[auth.Admin].do("GET", "/staff", nil).Body.String(); !strings.Contains(body, `href="/staff/admin/channels">Check the channels`) {
		t.Error("the admin's banner does not link to the channels page")
	}
	msgs, err := mp.Messages(ctx)
	if err != nil || len(msgs) != 1 || msgs[0].To[0].Address != staffEmail(auth.Admin) || msgs[0].Subject != "Channel masto has stopped working" {
		t.Fatalf("alerts %+v, %v: want exactly one, to the administrator", msgs, err)
	}

	// The account is reconnected; the console's test clears the outage.
	rec := admin.do("POST", channelsPath+"/masto/test", url.Values{auth.CSRFField: {tok}})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "The check passed") {
		t.Fatalf("test: %d", rec.Code)
	}
	for _, role := range []auth.Role{auth.Approver, auth.Admin} {
		if showsBanner(role) {
			t.Errorf("%s still sees the banner after a passing test", role)
		}
	}
	if c, _ := f.db.Channel(ctx, "masto"); !c.Healthy {
		t.Error("still unhealthy after a passing test")
	}
}
