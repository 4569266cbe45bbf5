package main

import (
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
)

func TestNoticeChannelsAndRetraction(t *testing.T) {
	t.Parallel()
	c := channelCLI(t)
	c.must("channel", "add", "webhook", "--name", "partner", "--url", "https://partner.example/hook")
	c.must("channel", "add", "webhook", "--name", "buses", "--url", "https://buses.example/hook")
	if _, _, err := c.run("", "notice", "create", "--category", "other", "--status", "information", "--place", "all",
		"--headline", "x", "--channels", "partner,nope"); signpost.ErrorCode(err) != signpost.EINVALID || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown channel: %v", err)
	}
	id := strings.TrimSpace(c.must("notice", "create", "--category", "other", "--status", "information", "--place", "all",
		"--headline", "Library opening hours wrong", "--channels", "partner, buses"))
	if list := c.must("notice", "list", "--format", "json"); !strings.Contains(list, `"channels":["buses","partner"]`) {
		t.Errorf("channels not stored: %s", list)
	}
	// An update without --channels keeps them; with it, replaces them.
	c.must("notice", "update", id, "--status", "delayed")
	if list := c.must("notice", "list", "--format", "json"); !strings.Contains(list, `"channels":["buses","partner"]`) {
		t.Errorf("update without --channels lost them: %s", list)
	}
	c.must("notice", "update", id, "--channels", "")
	if list := c.must("notice", "list", "--format", "json"); !strings.Contains(list, `"channels":[]`) {
		t.Errorf("--channels '' kept channels: %s", list)
	}

	if out := c.must("notice", "retract", id); !strings.Contains(out, "retracted at revision 4") {
		t.Errorf("retract: %q", out)
	}
	if list := c.must("notice", "list"); strings.Contains(list, "Library") {
		t.Errorf("retracted notice listed:\n%s", list)
	}
	if list := c.must("notice", "list", "--all"); !strings.Contains(list, "(retracted)") {
		t.Errorf("--all hides the retracted notice:\n%s", list)
	}
	for _, args := range [][]string{{"notice", "retract", id}, {"notice", "close", id}, {"notice", "update", id, "--status", "resumed"}} {
		if _, _, err := c.run("", args...); signpost.ErrorCode(err) != signpost.ECONFLICT {
			t.Errorf("%s after retraction: %v, want conflict", strings.Join(args, " "), err)
		}
	}
	// Every published change is in the audit log, by whoever ran the command.
	log := c.must("audit", "list", "--target", "notice:"+id)
	for _, action := range []string{"publish", "retract"} {
		if !strings.Contains(log, action) || !strings.Contains(log, "cli:") {
			t.Errorf("audit log lacks %s by the command-line user:\n%s", action, log)
		}
	}
	if out := c.must("audit", "verify"); !strings.Contains(out, "intact") {
		t.Errorf("audit verify: %s", out)
	}
}
