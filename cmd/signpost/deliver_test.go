package main

import (
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/channel/fake"
)

// testSecretKey is a fixed SIGNPOST_SECRET_KEY for tests (32 bytes).
const testSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// TestServeDeliversNotices publishes, updates, closes and retracts a
// notice from the command line while serve runs, and watches the
// channel's fake Mastodon follow: the post, its edit, the "resumed" reply
// under it and the deletion of both.
func TestServeDeliversNotices(t *testing.T) {
	t.Parallel()
	masto := fake.NewMastodon("masto-token")
	defer masto.Close()
	c := newCLI(t)
	c.vars["SIGNPOST_SECRET_KEY"] = testSecretKey
	c.vars["MASTO_TOKEN"] = "masto-token"
	c.must("import", "wards", "../../demo/northdale/wards.csv")
	c.must("channel", "add", "mastodon", "--name", "masto", "--server", masto.URL, "--token-env", "MASTO_TOKEN", "--categories", "roads,schools", "--allow-net", "127.0.0.1")
	if out := c.must("channel", "list"); !strings.Contains(out, "roads,schools") {
		t.Errorf("channel list does not show the default categories:\n%s", out)
	}
	_, stop := startServe(t, c, "--addr", "127.0.0.1:0", "--allow-net", "127.0.0.0/8", "--job-poll", "50ms", "--base-url", "https://northdale.example")
	defer stop()

	// No --channels: the roads category's default channels.
	id := strings.TrimSpace(c.must("notice", "create", "--category", "roads", "--status", "closed", "--place", "all",
		"--headline", "Moor Road closed by snow"))
	// --channels '' keeps a notice on the website only.
	c.must("notice", "create", "--category", "roads", "--status", "closed", "--place", "all",
		"--headline", "Website only", "--channels", "")
	waitFor(t, "the post", func() bool {
		st := masto.Statuses()
		return len(st) == 1 && strings.Contains(st[0].Text, "Moor Road closed by snow") && strings.Contains(st[0].Text, "https://northdale.example/notices/"+id)
	})
	c.must("notice", "update", id, "--headline", "Moor Road closed: diversion via Station Road")
	waitFor(t, "the edit", func() bool {
		st := masto.Statuses()
		return len(st) == 1 && st[0].Edits == 1 && strings.Contains(st[0].Text, "diversion")
	})
	c.must("notice", "close", id)
	waitFor(t, "the resumed reply", func() bool {
		st := masto.Statuses()
		return len(st) == 2 && strings.HasPrefix(st[1].Text, "Resumed: ") && st[1].InReplyToID == st[0].ID
	})
	c.must("notice", "retract", id)
	waitFor(t, "the deletion", func() bool {
		st := masto.Statuses()
		return len(st) == 2 && st[0].Deleted && st[1].Deleted
	})
}

// waitFor polls cond until it holds or 20 seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
