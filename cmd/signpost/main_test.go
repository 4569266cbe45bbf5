package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
)

// cli runs the real command line against its own streams and variables.
type cli struct {
	t    *testing.T
	vars map[string]string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, vars: map[string]string{"SIGNPOST_DB": filepath.Join(t.TempDir(), "test.db")}}
}

func (c *cli) run(stdin string, args ...string) (string, string, error) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	env := &environment{getenv: func(k string) string { return c.vars[k] }, stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}
	err := run(context.Background(), args, env)
	return out.String(), errOut.String(), err
}

func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run("", args...)
	if err != nil {
		c.t.Fatalf("signpost %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func TestHelpOnEverySubcommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, cmd := range commands() {
		args := []string{cmd.name, "--help"}
		if cmd.name == "notice" {
			args = []string{"notice", "create", "--help"}
		}
		_, errOut, err := c.run("", args...)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "Usage: signpost "+cmd.name) {
			t.Errorf("%v: err=%v, help=%q", args, err, errOut)
		}
		if exitCode(err) != 0 {
			t.Errorf("%v exits %d", args, exitCode(err))
		}
	}
	if _, _, err := c.run("", "frobnicate"); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("unknown command: %v", err)
	}
}

func TestImportAndNoticeLifecycle(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, f := range [][2]string{{"wards", "wards.csv"}, {"postcodes", "postcodes.csv"}, {"schools", "schools.csv"},
		{"routes", "gritting-routes.geojson"}, {"rounds", "bin-rounds.csv"}} {
		out := c.must("import", f[0], filepath.Join("..", "..", "demo", "northdale", f[1]))
		if !strings.HasPrefix(out, "imported ") {
			t.Errorf("import %s: %q", f[0], out)
		}
	}
	id := strings.TrimSpace(c.must("notice", "create", "--category", "schools", "--status", "closed",
		"--place", "school:142316", "--place", "ward:NDW01", "--headline", "Holy Trinity Nursery closed", "--body", "Snow.",
		"--starts", "2026-01-06", "--ends", "2026-01-06T18:00"))
	if id != "1" {
		t.Fatalf("created id %q", id)
	}
	out := c.must("notice", "update", id, "--status", "partially-open")
	if !strings.Contains(out, "revision 2") {
		t.Errorf("update: %q", out)
	}
	list := c.must("notice", "list", "--format", "json")
	if !strings.Contains(list, `"status":"partially-open"`) || !strings.Contains(list, `"school:142316"`) || !strings.Contains(list, `"headline":"Holy Trinity Nursery closed"`) {
		t.Errorf("list after update: %s", list)
	}
	c.must("notice", "close", id)
	if list := c.must("notice", "list"); strings.Contains(list, "Holy Trinity") {
		t.Errorf("closed notice still listed as open:\n%s", list)
	}
	if list := c.must("notice", "list", "--all"); !strings.Contains(list, "(closed)") {
		t.Errorf("--all hides the closed notice:\n%s", list)
	}
	_, _, err := c.run("", "notice", "close", id)
	if signpost.ErrorCode(err) != signpost.ECONFLICT {
		t.Errorf("closing twice: %v", err)
	}
}

func TestBadInputIsExplained(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"notice", "create", "--category", "weather", "--status", "closed", "--place", "all", "--headline", "x"}, `category "weather"`},
		{[]string{"notice", "create", "--category", "roads", "--status", "closed", "--place", "road:A1", "--headline", "x"}, `unknown kind "road"`},
		{[]string{"notice", "create", "--category", "roads", "--status", "closed", "--place", "school:1", "--headline", "x"}, "no such school"},
		{[]string{"notice", "create", "--category", "roads", "--status", "gritted", "--place", "all", "--headline", "x", "--starts", "tomorrow"}, `--starts "tomorrow"`},
		{[]string{"notice", "update", "abc"}, `"abc" is not a notice id`},
		{[]string{"notice", "close", "99"}, "no notice 99"},
		{[]string{"import", "wards"}, "needs a kind and a file"},
		{[]string{"import", "wards", "/no/such/file.csv"}, "cannot open"},
		{[]string{"import", "planets", "-"}, `unknown import kind "planets"`},
	}
	for _, tt := range tests {
		_, _, err := c.run("", tt.args...)
		if err == nil || !strings.Contains(signpost.ErrorMessage(err), tt.want) {
			t.Errorf("%v: %v, want message containing %q", tt.args, err, tt.want)
		}
	}
}

func TestEnvironmentSetsFlags(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.must("import", "wards", filepath.Join("..", "..", "demo", "northdale", "wards.csv"))
	c.vars["SIGNPOST_CATEGORY"] = "roads"
	c.vars["SIGNPOST_STATUS"] = "gritted"
	out := c.must("notice", "create", "--place", "ward:NDW01", "--headline", "Greenbank gritted")
	if strings.TrimSpace(out) != "1" {
		t.Fatalf("create: %q", out)
	}
	// The command line wins over the environment.
	c.must("notice", "create", "--status", "closed", "--place", "all", "--headline", "Everything")
	list := c.must("notice", "list", "--format", "json")
	if !strings.Contains(list, `"places":["ward:NDW01"],"retracted":null,"revision":1,"status":"gritted"`) ||
		!strings.Contains(list, `"category":"roads","channels":[],"closed":null,"headline":"Everything","id":2,"places":["all"],"retracted":null,"revision":1,"status":"closed"`) {
		t.Errorf("list: %s", list)
	}
	// A body on standard input.
	if _, _, err := c.run("Line one.\n\nLine two.", "notice", "update", "1", "--body", "-"); err != nil {
		t.Fatal(err)
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	db := filepath.Join(t.TempDir(), "other.db")
	wards := filepath.Join("..", "..", "demo", "northdale", "wards.csv")
	if out := c.must("import", "wards", wards, "--db", db); !strings.Contains(out, "imported 8 wards") {
		t.Fatalf("flags after arguments: %q", out)
	}
	if out := c.must("import", "--db", db, "--", "wards", wards); !strings.Contains(out, "imported 8 wards") {
		t.Fatalf("arguments after --: %q", out)
	}
	// The default database named by SIGNPOST_DB was never touched.
	if list := c.must("notice", "list", "--db", db); !strings.Contains(list, "HEADLINE") {
		t.Errorf("list: %q", list)
	}
	if _, _, err := c.run("", "import", "wards", "--no-such-flag", wards); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("unknown flag: %v", err)
	}
}
