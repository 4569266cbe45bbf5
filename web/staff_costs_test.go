package web

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/auth"
)

func TestCostsAdmin(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	b := adminBrowser(t, f)
	page := b.do("GET", costsPath, nil)
	if page.Code != 200 || !strings.Contains(page.Body.String(), "No costs recorded") {
		t.Fatalf("costs page: %d", page.Code)
	}
	tok := b.token(page.Body.String())
	post := func(form url.Values) (int, string) {
		form.Set(auth.CSRFField, tok)
		rec := b.do("POST", costsPath, form)
		return rec.Code, rec.Body.String()
	}
	good := url.Values{"channel": {"Phone"}, "effective_from": {"1/4/2026"}, "fully_loaded": {"£3.10"}, "marginal": {"1.20"}, "source": {"Finance, 2026/27 budget"}}

	tests := []struct {
		name   string
		change map[string]string
		links  []string
	}{
		{"every field wrong", map[string]string{"channel": "phone line", "effective_from": "31/2/2026", "fully_loaded": "lots", "marginal": "-1", "source": ""},
			[]string{"#channel", "#effective-from", "#fully-loaded", "#marginal", "#source"}},
		{"marginal above full", map[string]string{"marginal": "4"}, []string{"#marginal"}},
		{"no date", map[string]string{"effective_from": ""}, []string{"#effective-from"}},
	}
	for _, tt := range tests {
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		for k, v := range tt.change {
			form.Set(k, v)
		}
		code, body := post(form)
		if code != 400 || !strings.Contains(body, "govuk-error-summary") {
			t.Errorf("%s: %d", tt.name, code)
		}
		for _, l := range tt.links {
			if !strings.Contains(body, `<a href="`+l+`">`) || !strings.Contains(body, `id="`+l[1:]+`-error"`) {
				t.Errorf("%s: no error linked to %s", tt.name, l)
			}
		}
	}
	if code, _ := post(good); code != 303 {
		t.Fatalf("add: %d", code)
	}
	code, body := post(good)
	if code != 400 || !strings.Contains(body, "never overwritten") {
		t.Errorf("same channel and date again: %d", code)
	}
	later := url.Values{"channel": {"phone"}, "effective_from": {"2027-04-01"}, "fully_loaded": {"3.30"}, "source": {"Finance, 2027/28 budget"}}
	if code, _ := post(later); code != 303 {
		t.Errorf("later date: %d", code)
	}
	page = b.do("GET", costsPath+"?added", nil)
	body = page.Body.String()
	if !strings.Contains(body, "The cost was added") || !strings.Contains(body, "1 April 2026") || !strings.Contains(body, "£3.10") || !strings.Contains(body, "£1.20") || !strings.Contains(body, "1 April 2027") {
		t.Errorf("costs page after adding: %.2000s", body)
	}
	es, err := audit.List(context.Background(), f.db, audit.Filter{Target: "cost:phone"})
	if err != nil || len(es) != 2 || es[0].Actor != "user:"+staffEmail(auth.Admin) {
		t.Errorf("audit: %d entries, %v", len(es), err)
	}
}

func TestRetentionAdmin(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	b := adminBrowser(t, f)
	page := b.do("GET", retentionPath, nil)
	if page.Code != 200 || !strings.Contains(page.Body.String(), "Ever: nothing is purged") {
		t.Fatalf("retention page: %d", page.Code)
	}
	tok := b.token(page.Body.String())
	for _, bad := range []string{"forever", "-1", "99999999"} {
		rec := b.do("POST", retentionPath, url.Values{"keep_days": {bad}, auth.CSRFField: {tok}})
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `<a href="#keep-days">`) {
			t.Errorf("keep %q days: %d", bad, rec.Code)
		}
	}
	if rec := b.do("POST", retentionPath, url.Values{"keep_days": {"30"}, auth.CSRFField: {tok}}); rec.Code != 303 {
		t.Fatalf("save: %d", rec.Code)
	}
	if page := b.do("GET", retentionPath+"?done=saved", nil); !strings.Contains(page.Body.String(), "30 days") {
		t.Errorf("the page does not show the saved period")
	}
	if rec := b.do("POST", retentionPath+"/purge", url.Values{auth.CSRFField: {tok}}); rec.Code != 303 {
		t.Fatalf("purge: %d", rec.Code)
	}
	ctx := context.Background()
	for _, action := range []audit.Action{audit.PolicyChange, audit.Purge} {
		es, err := audit.List(ctx, f.db, audit.Filter{Action: string(action)})
		if err != nil || len(es) != 1 || es[0].Actor != "user:"+staffEmail(auth.Admin) {
			t.Errorf("%s: %d entries, %v", action, len(es), err)
		}
	}
}
