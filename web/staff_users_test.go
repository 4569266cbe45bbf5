package web

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/store"
)

// adminBrowser signs the admin in through the sign-in form and returns a
// browser holding the session.
func adminBrowser(t *testing.T, f *fixture) *browser {
	t.Helper()
	b := &browser{t: t, h: f.srv, cookies: map[string]string{}}
	tok := b.token(b.do("GET", "/staff/sign-in", nil).Body.String())
	rec := b.do("POST", "/staff/sign-in", url.Values{"email": {staffEmail(auth.Admin)}, "password": {staffPassword}, auth.CSRFField: {tok}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d", rec.Code)
	}
	return b
}

func TestUsersAdmin(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	ctx := context.Background()
	b := adminBrowser(t, f)
	list := b.do("GET", usersPath, nil)
	if list.Code != 200 || !strings.Contains(list.Body.String(), staffEmail(auth.Approver)) {
		t.Fatalf("users page: %d", list.Code)
	}
	tok := b.token(list.Body.String())
	post := func(path string, form url.Values) *httptest.ResponseRecorder {
		form.Set(auth.CSRFField, tok)
		return b.do("POST", path, form)
	}

	// Adding: errors in the summary and beside the field, the form kept.
	rec := post(usersPath, url.Values{"name": {"Sam Officer"}, "email": {"sam@northdale.example"}, "role": {"author"}, "password": {"short"}})
	body := rec.Body.String()
	if rec.Code != 400 || !strings.Contains(body, `<a href="#password">The password must be at least 12 characters long</a>`) || !strings.Contains(body, `id="password-error"`) || !strings.Contains(body, `value="sam@northdale.example"`) {
		t.Errorf("short password: %d %.600s", rec.Code, body)
	}
	if strings.Contains(body, "short") && strings.Contains(body, `value="short"`) {
		t.Errorf("the password was echoed back")
	}
	rec = post(usersPath, url.Values{"name": {""}, "email": {""}, "role": {"emperor"}})
	for _, want := range []string{`href="#name"`, `href="#email"`, `href="#role"`} {
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("empty form: %d, no %s", rec.Code, want)
		}
	}
	rec = post(usersPath, url.Values{"name": {"Sam Officer"}, "email": {"Sam@Northdale.example"}, "role": {"author"}, "password": {"a long enough passphrase"}})
	if rec.Code != 303 || rec.Header().Get("Location") != usersPath+"?done=added" {
		t.Fatalf("add: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := post(usersPath, url.Values{"name": {"Sam Again"}, "email": {"sam@northdale.example"}, "role": {"viewer"}}); rec.Code != 400 {
		t.Errorf("adding the same address twice: %d", rec.Code)
	}

	// Changing: role, password, disable, enable — each lands on the
	// account page with a banner.
	sam := "sam@northdale.example"
	for _, step := range []struct {
		path string
		form url.Values
		done string
	}{
		{usersPath + "/role", url.Values{"email": {sam}, "role": {"approver"}}, "role"},
		{usersPath + "/password", url.Values{"email": {sam}, "password": {"another long passphrase"}}, "password"},
		{usersPath + "/disable", url.Values{"email": {sam}}, "disabled"},
		{usersPath + "/enable", url.Values{"email": {sam}}, "enabled"},
	} {
		rec := post(step.path, step.form)
		if rec.Code != 303 || !strings.Contains(rec.Header().Get("Location"), "done="+step.done) {
			t.Fatalf("%s: %d %q %.300s", step.path, rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		page := b.do("GET", rec.Header().Get("Location"), nil)
		if page.Code != 200 || !strings.Contains(page.Body.String(), template.HTMLEscapeString(accountDone[step.done])) {
			t.Errorf("%s: account page %d without its banner", step.path, page.Code)
		}
	}
	u, err := f.auth.User(ctx, sam)
	if err != nil || u.Role != auth.Approver || u.Disabled {
		t.Errorf("after the changes: %+v, %v", u, err)
	}
	if _, err := f.auth.SignIn(ctx, sam, "another long passphrase", ""); err != nil {
		t.Errorf("sign in with the reset password: %v", err)
	}

	// The only admin cannot demote themselves.
	rec = post(usersPath+"/role", url.Values{"email": {staffEmail(auth.Admin)}, "role": {"viewer"}})
	if rec.Code != 409 || !strings.Contains(rec.Body.String(), "govuk-error-summary") || !strings.Contains(rec.Body.String(), "only enabled admin") {
		t.Errorf("demoting the last admin: %d %.300s", rec.Code, rec.Body.String())
	}

	// Every change is in the audit log under the admin's name.
	for _, action := range []audit.Action{audit.UserCreate, audit.RoleChange, audit.PasswordReset, audit.UserDisable, audit.UserEnable} {
		es, err := audit.List(ctx, f.db, audit.Filter{Action: string(action), Target: "user:" + sam})
		if err != nil || len(es) != 1 || es[0].Actor != "user:"+staffEmail(auth.Admin) {
			t.Errorf("%s: %d entries, %v", action, len(es), err)
		}
	}
	if es, _ := audit.List(ctx, f.db, audit.Filter{Action: string(audit.PasswordReset)}); strings.Contains(string(es[0].After), "passphrase") {
		t.Errorf("the audit log holds the password")
	}
}

// TestStaffFormsNeedCSRFAndSignInLocksOut runs on both engines: an admin
// form posted without the session's token, with a wrong one, or from
// another site is refused and changes nothing; repeated wrong passwords
// lock the account however right the next one is; and the audit log of
// all that verifies, and shows a tampered entry.
func TestStaffFormsNeedCSRFAndSignInLocksOut(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			f := newFixtureOn(t, engine)
			addStaff(t, f)
			ctx := context.Background()
			b := adminBrowser(t, f)
			tok := b.token(b.do("GET", usersPath, nil).Body.String())
			add := url.Values{"name": {"Mallory"}, "email": {"mallory@northdale.example"}, "role": {"admin"}, "password": {"a long enough passphrase"}}
			for _, tt := range []struct {
				name   string
				token  string
				header []string
			}{
				{"no token", "", nil},
				{"wrong token", tok + "x", nil},
				{"another session's token", signIn(t, f, auth.Viewer).CSRFToken, nil},
				{"cross-site", tok, []string{"Sec-Fetch-Site", "cross-site"}},
			} {
				form := url.Values{}
				for k, v := range add {
					form[k] = v
				}
				if tt.token != "" {
					form.Set(auth.CSRFField, tt.token)
				}
				if rec := b.do("POST", usersPath, form, tt.header...); rec.Code != http.StatusForbidden {
					t.Errorf("%s: %d, want 403", tt.name, rec.Code)
				}
			}
			if _, err := f.auth.User(ctx, "mallory@northdale.example"); err == nil {
				t.Fatalf("a refused form created the account")
			}
			add.Set(auth.CSRFField, tok)
			if rec := b.do("POST", usersPath, add); rec.Code != http.StatusSeeOther {
				t.Errorf("with the token: %d", rec.Code)
			}

			// Lock-out through the sign-in form.
			anon := &browser{t: t, h: f.srv, cookies: map[string]string{}}
			stok := anon.token(anon.do("GET", "/staff/sign-in", nil).Body.String())
			try := func(password string) int {
				return anon.do("POST", "/staff/sign-in", url.Values{"email": {staffEmail(auth.Author)}, "password": {password}, auth.CSRFField: {stok}}).Code
			}
			for i := range f.auth.Config().MaxFailures {
				if code := try("not the password"); code != http.StatusUnauthorized {
					t.Errorf("wrong password %d: %d, want 401", i+1, code)
				}
			}
			if code := try(staffPassword); code != http.StatusTooManyRequests {
				t.Errorf("right password after the lock-out: %d, want 429", code)
			}
			if es, _ := audit.List(ctx, f.db, audit.Filter{Action: string(audit.LockOut)}); len(es) != 1 {
				t.Errorf("lock-out audit entries: %d, want 1", len(es))
			}

			rep, err := audit.Verify(ctx, f.db)
			if err != nil || rep.Broken != nil || rep.Entries < 10 {
				t.Fatalf("verify: %+v, %v", rep, err)
			}
			err = f.db.UpdateAccounts(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE audit_log SET actor = 'user:someone-else@northdale.example' WHERE seq = 3`)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep, err := audit.Verify(ctx, f.db); err != nil || rep.Broken == nil || rep.Broken.Seq != 3 {
				t.Errorf("verify after tampering with entry 3: %+v, %v", rep.Broken, err)
			}
		})
	}
}
