package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/store"
)

func channelCLI(t *testing.T) *cli {
	c := newCLI(t)
	c.vars["SIGNPOST_SECRET_KEY"] = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	return c
}

func TestChannelLifecycle(t *testing.T) {
	t.Parallel()
	masto := fake.NewMastodon("masto-token-123")
	defer masto.Close()
	c := channelCLI(t)
	c.vars["MASTO_TOKEN"] = "masto-token-123"

	// Loopback is refused unless allowed explicitly, as serve would.
	if _, _, err := c.run("", "channel", "add", "mastodon", "--name", "masto", "--server", masto.URL, "--token-env", "MASTO_TOKEN"); err == nil || !strings.Contains(err.Error(), "loopback address") {
		t.Errorf("add a loopback server without the allowlist: %v", err)
	}
	out := c.must("channel", "add", "mastodon", "--name", "masto", "--server", masto.URL, "--token-env", "MASTO_TOKEN", "--allow-net", "127.0.0.1")
	if !strings.Contains(out, `added mastodon channel "masto"`) {
		t.Errorf("add: %q", out)
	}
	// The token is stored sealed, never in clear.
	db, err := store.Open(context.Background(), c.vars["SIGNPOST_DB"])
	if err != nil {
		t.Fatal(err)
	}
	row, err := db.Channel(context.Background(), "masto")
	db.Close()
	if err != nil || strings.Contains(row.Credentials, "masto-token-123") || !strings.HasPrefix(row.Credentials, "sp1:") {
		t.Errorf("stored credentials = %q, %v", row.Credentials, err)
	}

	// Loopback is refused unless allowed explicitly, and the refusal is
	// permanent, so the channel is marked unhealthy.
	_, _, err = c.run("", "channel", "test", "masto")
	if err == nil || !strings.Contains(err.Error(), "refusing to connect") {
		t.Errorf("test without allowlist: %v", err)
	}
	if out := c.must("channel", "list"); !strings.Contains(out, "UNHEALTHY") {
		t.Errorf("list after refusal: %q", out)
	}
	_, errOut, err := c.run("", "channel", "test", "masto", "--allow-net", "127.0.0.1")
	if err != nil || !strings.Contains(errOut, "127.0.0.1/32") {
		t.Fatalf("test with allowlist: %v (log %q)", err, errOut)
	}
	out = c.must("channel", "list")
	if !strings.Contains(out, "masto") || strings.Contains(out, "UNHEALTHY") || strings.Contains(out, "masto-token-123") {
		t.Errorf("list: %q", out)
	}

	// A revoked token is a permanent failure.
	masto.Fail(1, fake.Unauthorized)
	if _, _, err := c.run("", "channel", "test", "masto", "--allow-net", "127.0.0.1"); signpost.ErrorCode(err) != signpost.EUNAVAILABLE {
		t.Errorf("revoked token: %v", err)
	}
	out = c.must("channel", "list", "--format", "json")
	if !strings.Contains(out, `"healthy":false`) || !strings.Contains(out, "access token is invalid") {
		t.Errorf("list json: %q", out)
	}

	c.must("channel", "remove", "masto")
	if _, _, err := c.run("", "channel", "remove", "masto"); signpost.ErrorCode(err) != signpost.ENOTFOUND {
		t.Errorf("remove twice: %v", err)
	}
}

func TestChannelAddInputs(t *testing.T) {
	t.Parallel()
	c := channelCLI(t)
	// From standard input.
	out, _, err := c.run("app-pass-xyz\n", "channel", "add", "bluesky", "--name", "sky", "--identifier", "northdale.gov.uk", "--token-stdin")
	if err != nil || !strings.Contains(out, "added bluesky") {
		t.Errorf("bluesky from stdin: %q, %v", out, err)
	}
	// A webhook without a secret gets a generated one, shown once.
	out = c.must("channel", "add", "webhook", "--name", "partner", "--url", "https://partner.example/hook")
	if !strings.Contains(out, "signing secret") {
		t.Errorf("webhook: %q", out)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"token on argv is refused", "", []string{"channel", "add", "x", "--name", "xx", "--token", "secret"}, "flag provided but not defined"},
		{"stray argument", "", []string{"channel", "add", "x", "--name", "xx", "secret"}, "never taken from the command line"},
		{"no token", "", []string{"channel", "add", "x", "--name", "xx"}, "needs a token"},
		{"empty variable", "", []string{"channel", "add", "x", "--name", "xx", "--token-env", "NOPE"}, "empty or not set"},
		{"empty stdin", "", []string{"channel", "add", "x", "--name", "xx", "--token-stdin"}, "standard input was empty"},
		{"unknown type", "", []string{"channel", "add", "myspace", "--name", "xx"}, "unknown channel type"},
		{"missing server", "t\n", []string{"channel", "add", "mastodon", "--name", "m", "--token-stdin"}, "--server: Enter the Mastodon server"},
		{"bad url", "t\n", []string{"channel", "add", "mastodon", "--name", "m", "--server", "ftp://x", "--token-stdin"}, "--server: Enter the Mastodon server as an http(s) address"},
		{"duplicate name", "t\n", []string{"channel", "add", "x", "--name", "sky", "--token-stdin"}, "already exists"},
		{"bad name", "t\n", []string{"channel", "add", "x", "--name", "Sky Main", "--token-stdin"}, "--name: Enter a name of lower-case letters"},
	}
	for _, tt := range tests {
		_, _, err := c.run(tt.stdin, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}

	delete(c.vars, "SIGNPOST_SECRET_KEY")
	if _, _, err := c.run("t\n", "channel", "add", "x", "--name", "x2", "--token-stdin"); err == nil || !strings.Contains(err.Error(), "SIGNPOST_SECRET_KEY is not set") {
		t.Errorf("no key: %v", err)
	}
}

func TestChannelRotate(t *testing.T) {
	t.Parallel()
	c := channelCLI(t)
	oldKey := c.vars["SIGNPOST_SECRET_KEY"]
	// 192.0.2.0/24 is for documentation: netsafe refuses it without
	// touching the network.
	c.must("channel", "add", "webhook", "--name", "partner", "--url", "https://192.0.2.10/hook", "--allow-net", "192.0.2.10")
	c.vars["SIGNPOST_SECRET_KEY"] = base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	c.vars["SIGNPOST_SECRET_KEYS_OLD"] = oldKey
	if out := c.must("channel", "rotate"); !strings.Contains(out, "1 channel") {
		t.Errorf("rotate: %q", out)
	}
	if out := c.must("channel", "rotate"); !strings.Contains(out, "0 channel") {
		t.Errorf("second rotate: %q", out)
	}
	// Without the old key the rotated secret still opens: a test of the
	// channel reaches the credentials stage (and then the network policy).
	delete(c.vars, "SIGNPOST_SECRET_KEYS_OLD")
	_, _, err := c.run("", "channel", "test", "partner")
	if err == nil || !strings.Contains(err.Error(), "refusing to connect to 192.0.2.10") {
		t.Errorf("test after rotation: %v", err)
	}
}

// TestChannelCredentials replaces a revoked token, read as channel add
// reads it, and checks the channel works again.
func TestChannelCredentials(t *testing.T) {
	t.Parallel()
	masto := fake.NewMastodon("new-token-456")
	defer masto.Close()
	c := channelCLI(t)
	c.vars["OLD_TOKEN"] = "revoked-token-123"
	c.vars["NEW_TOKEN"] = "new-token-456"
	c.must("channel", "add", "mastodon", "--name", "masto", "--server", masto.URL, "--token-env", "OLD_TOKEN", "--allow-net", "127.0.0.1")
	if _, _, err := c.run("", "channel", "test", "masto", "--allow-net", "127.0.0.1"); signpost.ErrorCode(err) != signpost.EUNAVAILABLE {
		t.Fatalf("test with the revoked token: %v", err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"token on argv is refused", "", []string{"masto", "--token", "new-token-456"}, "flag provided but not defined"},
		{"stray argument", "", []string{"masto", "new-token-456"}, "never taken from the command line"},
		{"no token", "", []string{"masto"}, "give the new token"},
		{"both sources", "t\n", []string{"masto", "--token-env", "NEW_TOKEN", "--token-stdin"}, "not both"},
		{"empty variable", "", []string{"masto", "--token-env", "NOPE"}, "empty or not set"},
		{"no name", "", []string{"--token-env", "NEW_TOKEN"}, "give the channel name first"},
		{"missing channel", "", []string{"nope", "--token-env", "NEW_TOKEN"}, `no channel named "nope"`},
		{"wrong token", "typo\n", []string{"masto", "--token-stdin", "--allow-net", "127.0.0.1"}, "failed its check with the new credentials"},
	}
	for _, tt := range tests {
		_, _, err := c.run(tt.stdin, append([]string{"channel", "credentials"}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "new-token-456") {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	out, _, err := c.run("new-token-456\n", "channel", "credentials", "masto", "--token-stdin", "--allow-net", "127.0.0.1")
	if err != nil || !strings.Contains(out, "replaced the credentials of channel masto") || !strings.Contains(out, "channel masto: ok") {
		t.Fatalf("replace: %q, %v", out, err)
	}
	if out := c.must("channel", "list"); strings.Contains(out, "UNHEALTHY") || strings.Contains(out, "new-token-456") {
		t.Errorf("list after replacing: %q", out)
	}
	// A webhook's new secret is checked as when adding, by its flag.
	c.must("channel", "add", "webhook", "--name", "partner", "--url", "https://partner.example/hook")
	if _, _, err := c.run("short\n", "channel", "credentials", "partner", "--token-stdin"); err == nil || !strings.Contains(err.Error(), "--token-env: The signing secret must be at least 16 characters") {
		t.Errorf("short webhook secret: %v", err)
	}
}

func TestChannelHelp(t *testing.T) {
	t.Parallel()
	c := channelCLI(t)
	for _, args := range [][]string{{"channel", "--help"}, {"channel", "add", "--help"}, {"channel", "list", "--help"}, {"channel", "credentials", "x", "--help"}} {
		_, errOut, err := c.run("", args...)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "Usage: signpost channel") {
			t.Errorf("%v: %v %q", args, err, errOut)
		}
	}
}

// TestChannelEmailThroughNotify adds an e-mail channel that sends through
// GOV.UK Notify, with the API key from the environment, and checks it.
func TestChannelEmailThroughNotify(t *testing.T) {
	t.Parallel()
	srv := fake.NewNotify()
	defer srv.Close()
	c := channelCLI(t)
	key := srv.Key("signpost_live")
	c.vars["NOTIFY_KEY"] = key
	base := []string{"channel", "add", "email", "--transport", "notify", "--notify-api-url", srv.URL}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no template", []string{"--name", "mail", "--site-url", "https://northdale.gov.uk", "--token-env", "NOTIFY_KEY"}, "needs --notify-template"},
		{"plain http site", []string{"--name", "mail", "--notify-template", srv.TemplateID, "--site-url", "http://northdale.gov.uk", "--token-env", "NOTIFY_KEY"}, "https --site-url"},
		{"a mailbox", []string{"--name", "mail", "--notify-template", srv.TemplateID, "--site-url", "https://northdale.gov.uk", "--imap", "imap.example:993", "--token-env", "NOTIFY_KEY"}, "--imap needs the SMTP transport"},
		{"unknown transport", []string{"--name", "mail", "--transport", "pigeon", "--token-env", "NOTIFY_KEY"}, `--transport: "pigeon" is not a way to send`},
		{"template not a UUID", []string{"--name", "mail", "--notify-template", "updates", "--site-url", "https://northdale.gov.uk", "--token-env", "NOTIFY_KEY"}, "not a UUID"},
	} {
		if _, _, err := c.run("", append(base, tt.args...)...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	// A key cut short in copying fails at once, without showing it.
	_, _, err := c.run(key[:len(key)-3]+"\n", append(base, "--name", "mail", "--notify-template", srv.TemplateID, "--site-url", "https://northdale.gov.uk", "--token-stdin")...)
	if err == nil || !strings.Contains(err.Error(), "API key") || strings.Contains(err.Error(), key[len(key)-36:len(key)-3]) {
		t.Errorf("short key: %v", err)
	}

	out := c.must(append(base, "--name", "mail", "--notify-template", srv.TemplateID, "--site-url", "https://northdale.gov.uk", "--token-env", "NOTIFY_KEY")...)
	if !strings.Contains(out, `added email channel "mail"`) {
		t.Errorf("add: %q", out)
	}
	if out := c.must("channel", "test", "mail", "--allow-net", "127.0.0.1"); !strings.Contains(out, "channel mail: ok") {
		t.Errorf("test: %q", out)
	}
	srv.Fail(1, fake.Unauthorized)
	if _, _, err := c.run("", "channel", "test", "mail", "--allow-net", "127.0.0.1"); err == nil || !strings.Contains(err.Error(), "API key not found") {
		t.Errorf("revoked key: %v", err)
	}
	if out := c.must("channel", "list"); strings.Contains(out, key[len(key)-36:]) || !strings.Contains(out, "UNHEALTHY") {
		t.Errorf("list: %q", out)
	}
}
