package main

import (
	"context"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
)

func TestAuditCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.vars["SIGNPOST_PASSWORD"] = "gritters out at four"
	for _, email := range []string{"a@northdale.gov.uk", "b@northdale.gov.uk", "c@northdale.gov.uk"} {
		c.must("user", "add", "--email", email, "--name", "Someone", "--role", "author")
	}
	out := c.must("audit", "verify")
	if !strings.HasPrefix(out, "audit log intact: 3 entries, head ") {
		t.Errorf("audit verify = %q", out)
	}
	text := c.must("audit", "list", "--since", "2000-01-01", "--action", "user-create")
	if strings.Count(text, "user-create") != 3 || !strings.Contains(text, "SEQ") {
		t.Errorf("audit list:\n%s", text)
	}
	if got := c.must("audit", "list", "--target", "user:b@northdale.gov.uk"); strings.Count(got, "\n") != 2 {
		t.Errorf("audit list --target:\n%s", got)
	}
	if got := c.must("audit", "list", "--since", "2999-01-01"); strings.Count(got, "\n") != 1 {
		t.Errorf("audit list in the future:\n%s", got)
	}
	for _, bad := range [][]string{{"audit", "list", "--since", "yesterday"}, {"audit", "list", "--format", "xml"}, {"audit", "list", "--limit", "0"}, {"audit"}} {
		if _, _, err := c.run("", bad...); signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("%v: %v, want %s", bad, err, signpost.EINVALID)
		}
	}

	// Someone with database access quietly changes who was created.
	ctx := context.Background()
	db, err := store.Open(ctx, c.vars["SIGNPOST_DB"])
	if err != nil {
		t.Fatal(err)
	}
	err = db.UpdateAccounts(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE audit_log SET after_json = '{"email":"x@northdale.gov.uk"}' WHERE seq = 2`)
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.run("", "audit", "verify")
	if err == nil || exitCode(err) == 0 || !strings.Contains(signpost.ErrorMessage(err), "broken at entry 2") {
		t.Errorf("audit verify after tampering: %v (exit %d), want entry 2 reported and a non-zero exit", err, exitCode(err))
	}
}
