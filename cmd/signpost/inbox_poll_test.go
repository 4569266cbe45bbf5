package main

import (
	"bytes"
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/store"
)

func TestInboxPollOnce(t *testing.T) {
	t.Parallel()
	masto := fake.NewMastodon("masto-token")
	defer masto.Close()
	sky := fake.NewBluesky("northdale.gov.uk", "app-pass")
	defer sky.Close()
	c := channelCLI(t)
	c.vars["MASTO_TOKEN"], c.vars["SKY_PASS"] = "masto-token", "app-pass"
	c.must("channel", "add", "mastodon", "--name", "masto", "--server", masto.URL, "--token-env", "MASTO_TOKEN", "--allow-net", "127.0.0.1")
	c.must("channel", "add", "bluesky", "--name", "sky", "--identifier", "northdale.gov.uk", "--service", sky.URL, "--token-env", "SKY_PASS", "--allow-net", "127.0.0.1")
	c.must("channel", "add", "webhook", "--name", "partners", "--url", "https://partner.example/hook")

	if out := c.must("inbox", "poll", "--once", "--allow-net", "127.0.0.1"); !strings.Contains(out, "mastodon:masto: read 0, new 0") || !strings.Contains(out, "bluesky:sky: read 0, new 0") || strings.Contains(out, "partners") {
		t.Errorf("empty poll: %q", out)
	}
	masto.Mention("ann@example.social", "Ann", "Is the tip open?", "direct", "")
	sky.Mention("bob.bsky.social", "Bob", "Is Elm Street gritted?", "")
	out := c.must("inbox", "poll", "--once", "--allow-net", "127.0.0.1")
	if !strings.Contains(out, "mastodon:masto: read 1, new 1") || !strings.Contains(out, "bluesky:sky: read 1, new 1") {
		t.Errorf("poll: %q", out)
	}
	// Polling again reads from the saved cursors: nothing new (Bluesky's
	// watermark is inclusive, so its newest is read again and ignored).
	if out := c.must("inbox", "poll", "--once", "--allow-net", "127.0.0.1"); !strings.Contains(out, "mastodon:masto: read 0, new 0") || !strings.Contains(out, "bluesky:sky: read 1, new 0") {
		t.Errorf("second poll: %q", out)
	}
	masto.Fail(1, fake.Unauthorized)
	out, _, err := c.run("", "inbox", "poll", "--once", "--allow-net", "127.0.0.1")
	if signpost.ErrorCode(err) != signpost.EUNAVAILABLE || !strings.Contains(out, "mastodon:masto: failed:") || !strings.Contains(out, "HTTP 401") {
		t.Errorf("revoked token: %q, %v", out, err)
	}
	if out := c.must("channel", "list"); !strings.Contains(out, "UNHEALTHY") {
		t.Errorf("a revoked token is not shown on the channel: %q", out)
	}
	if _, _, err := c.run("", "inbox"); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("no action: %v", err)
	}
}

// serve polls the channels into the inbox, and receives the Facebook
// webhook when its app secret is set.
func TestServePollsAndReceives(t *testing.T) {
	t.Parallel()
	masto := fake.NewMastodon("masto-token")
	defer masto.Close()
	c := channelCLI(t)
	c.vars["MASTO_TOKEN"], c.vars["FB_TOKEN"] = "masto-token", "page-token"
	c.vars["SIGNPOST_FACEBOOK_APP_SECRET"], c.vars["SIGNPOST_FACEBOOK_VERIFY_TOKEN"] = "app-secret", "verify-me"
	c.must("channel", "add", "mastodon", "--name", "masto", "--server", masto.URL, "--token-env", "MASTO_TOKEN", "--allow-net", "127.0.0.1")
	c.must("channel", "add", "facebook", "--name", "fb", "--page-id", "123456789", "--token-env", "FB_TOKEN")
	dm := masto.Mention("ann@example.social", "Ann", "Is the tip open?", "direct", "")

	base, stop := startServe(t, c, "--addr", "127.0.0.1:0", "--allow-net", "127.0.0.1", "--inbox-poll-interval", "20ms")
	defer stop()
	graph := fake.NewFacebook("123456789", "page-token")
	defer graph.Close()
	comment, body := graph.Comment("123456789_1", "7001", "Bob", "Which tip?", "")
	req, _ := http.NewRequest(http.MethodPost, base+"/hooks/facebook", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", fake.FacebookSignature("app-secret", body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}

	db, err := store.Open(context.Background(), c.vars["SIGNPOST_DB"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The poller saves its cursor only after ingesting: wait for that,
	// with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cur, err := db.SourceCursor(context.Background(), "mastodon:masto")
		if err != nil {
			t.Fatal(err)
		}
		if cur != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not poll the mention into the inbox")
		}
		runtime.Gosched()
	}
	// Ingest says whether the inbox already had a message.
	has := func(in inbox.Incoming) bool {
		_, created, err := db.Ingest(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		return !created
	}
	if !has(inbox.Incoming{Channel: "masto", Kind: inbox.KindDirect, ExternalID: dm, Author: "ann@example.social"}) {
		t.Error("the mention is not in the inbox")
	}
	if !has(inbox.Incoming{Channel: "fb", Kind: inbox.KindComment, ExternalID: comment, Author: "7001"}) {
		t.Error("the webhook's comment is not in the inbox")
	}
}
