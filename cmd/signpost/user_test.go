package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
)

func TestUserCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.vars["SIGNPOST_PASSWORD"] = "gritters out at four"
	steps := []struct {
		stdin    string
		args     []string
		noEnvPwd bool
		wantOut  string // substring of stdout on success
		wantCode string // error code, "" for success
	}{
		{args: []string{"user", "add", "--email", "Admin@Northdale.gov.uk", "--name", "Ada Admin", "--role", "admin"}, wantOut: "added admin@northdale.gov.uk (Ada Admin) as admin"},
		{stdin: "snow day on the moors\n", noEnvPwd: true, args: []string{"user", "add", "--email", "jo@northdale.gov.uk", "--name", "Jo Author", "--role", "author"}, wantOut: "added jo@northdale.gov.uk"},
		{args: []string{"user", "add", "--email", "jo@northdale.gov.uk", "--name", "Jo Again", "--role", "author"}, wantCode: signpost.ECONFLICT},
		{stdin: "short\n", noEnvPwd: true, args: []string{"user", "add", "--email", "sam@northdale.gov.uk", "--name", "Sam", "--role", "viewer"}, wantCode: signpost.EINVALID},
		{stdin: "Password1234\n", noEnvPwd: true, args: []string{"user", "add", "--email", "sam@northdale.gov.uk", "--name", "Sam", "--role", "viewer"}, wantCode: signpost.EINVALID},
		{noEnvPwd: true, args: []string{"user", "add", "--email", "sam@northdale.gov.uk", "--name", "Sam", "--role", "viewer"}, wantCode: signpost.EINVALID},
		{args: []string{"user", "add", "--email", "sam@northdale.gov.uk", "--name", "Sam", "--role", "viewer", "--password", "on-the-command-line"}, wantCode: signpost.EINVALID},
		{args: []string{"user", "add", "--email", "sam@northdale.gov.uk", "--name", "Sam", "--role", "superuser"}, wantCode: signpost.EINVALID},
		{args: []string{"user", "add", "--email", "not-an-address", "--name", "Sam", "--role", "viewer"}, wantCode: signpost.EINVALID},
		{args: []string{"user", "role", "jo@northdale.gov.uk", "approver"}, wantOut: "jo@northdale.gov.uk is now approver"},
		{args: []string{"user", "role", "jo@northdale.gov.uk"}, wantCode: signpost.EINVALID},
		{args: []string{"user", "role", "nobody@northdale.gov.uk", "admin"}, wantCode: signpost.ENOTFOUND},
		{args: []string{"user", "role", "admin@northdale.gov.uk", "viewer"}, wantCode: signpost.ECONFLICT},
		{args: []string{"user", "disable", "jo@northdale.gov.uk"}, wantOut: "disabled jo@northdale.gov.uk"},
		{args: []string{"user", "enable", "JO@northdale.gov.uk"}, wantOut: "enabled jo@northdale.gov.uk"},
		{stdin: "a brand new passphrase\n", noEnvPwd: true, args: []string{"user", "reset-password", "jo@northdale.gov.uk"}, wantOut: "reset the password of jo@northdale.gov.uk"},
		{args: []string{"user", "frobnicate"}, wantCode: signpost.EINVALID},
	}
	for _, st := range steps {
		pwd := c.vars["SIGNPOST_PASSWORD"]
		if st.noEnvPwd {
			delete(c.vars, "SIGNPOST_PASSWORD")
		}
		out, errOut, err := c.run(st.stdin, st.args...)
		c.vars["SIGNPOST_PASSWORD"] = pwd
		if got := signpost.ErrorCode(err); got != st.wantCode {
			t.Errorf("signpost %s: error %v (code %q), want code %q\n%s", strings.Join(st.args, " "), err, got, st.wantCode, errOut)
			continue
		}
		if !strings.Contains(out, st.wantOut) {
			t.Errorf("signpost %s: printed %q, want %q", strings.Join(st.args, " "), out, st.wantOut)
		}
	}

	list := c.must("user", "list")
	for _, want := range []string{"EMAIL", "admin@northdale.gov.uk", "Ada Admin", "jo@northdale.gov.uk", "approver", "active", "never"} {
		if !strings.Contains(list, want) {
			t.Errorf("user list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "sam@") {
		t.Errorf("a refused account was created:\n%s", list)
	}
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(c.must("user", "list", "--format", "json")), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("json line %q: %v", line, err)
		}
		rows = append(rows, m)
	}
	if len(rows) != 2 || rows[1]["email"] != "jo@northdale.gov.uk" || rows[1]["role"] != "approver" || rows[1]["disabled"] != false {
		t.Errorf("user list --format json = %v", rows)
	}

	// Every change is in the audit log, by the person at the terminal.
	trail := c.must("audit", "list", "--format", "json")
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(trail), "\n") {
		var e struct{ Actor, Action, Target string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit json %q: %v", line, err)
		}
		if !strings.HasPrefix(e.Actor, "cli:") {
			t.Errorf("actor %q is not cli:<os user>", e.Actor)
		}
		actions = append(actions, e.Action+" "+e.Target)
	}
	want := []string{"user-create user:admin@northdale.gov.uk", "user-create user:jo@northdale.gov.uk",
		"role-change user:jo@northdale.gov.uk", "user-disable user:jo@northdale.gov.uk",
		"user-enable user:jo@northdale.gov.uk", "password-reset user:jo@northdale.gov.uk"}
	if strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(trail, "argon2id") || strings.Contains(trail, "gritters") {
		t.Error("the audit trail holds a password or its hash")
	}
}
