package manage

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/netsafe"
	"github.com/signpost-uk/signpost/secret"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func keys(t *testing.T) *secret.Keyring {
	t.Helper()
	k, err := secret.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func service(t *testing.T, db *store.DB, allow ...string) *Service {
	var prefixes []netip.Prefix
	for _, a := range allow {
		prefixes = append(prefixes, netip.MustParsePrefix(a))
	}
	return New(Config{DB: db, Keys: keys(t), Net: netsafe.Options{Allow: prefixes, Logger: quiet()}})
}

func TestAddProblems(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	s := service(t, db)
	ctx := context.Background()
	if _, err := s.Add(ctx, "user:a@x", NewChannel{Name: "taken", Type: channel.X, Token: "tok"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		nc     NewChannel
		fields []string
	}{
		{"bad name and no token", NewChannel{Name: "Main Account", Type: channel.X}, []string{"name", "token"}},
		{"unknown type", NewChannel{Name: "m", Type: "myspace"}, []string{"type"}},
		{"missing server", NewChannel{Name: "m", Type: channel.Mastodon, Token: "t"}, []string{"server"}},
		{"not a URL", NewChannel{Name: "m", Type: channel.Mastodon, Token: "t", Settings: map[string]string{"server": "ftp://x"}}, []string{"server"}},
		{"user in URL", NewChannel{Name: "m", Type: channel.Webhook, Settings: map[string]string{"url": "https://u:p@partner.example/"}}, []string{"url"}},
		{"bad visibility", NewChannel{Name: "m", Type: channel.Mastodon, Token: "t", Settings: map[string]string{"server": "https://m.example", "visibility": "secret"}}, []string{"visibility"}},
		{"email settings", NewChannel{Name: "m", Type: channel.Email, Token: "t", Settings: map[string]string{"smtp": "mail.example", "from": "nobody", "imap": "x:"}},
			[]string{"site_url", "smtp", "from", "imap"}},
		{"short webhook secret", NewChannel{Name: "m", Type: channel.Webhook, Token: "short", Settings: map[string]string{"url": "https://partner.example/"}}, []string{"token"}},
		{"unknown category", NewChannel{Name: "m", Type: channel.X, Token: "t", Categories: []signpost.Category{"snow"}}, []string{"categories"}},
		// The SSRF rule: loopback, private and metadata addresses are
		// refused unless the server allows them.
		{"loopback webhook", NewChannel{Name: "m", Type: channel.Webhook, Settings: map[string]string{"url": "http://127.0.0.1:8080/hook"}}, []string{"url"}},
		{"metadata address", NewChannel{Name: "m", Type: channel.Mastodon, Token: "t", Settings: map[string]string{"server": "http://169.254.169.254"}}, []string{"server"}},
		{"private mail server", NewChannel{Name: "m", Type: channel.Email, Token: "t", Settings: map[string]string{"smtp": "10.0.0.5:587", "from": "a@b.example", "site_url": "https://s.example"}}, []string{"smtp"}},
		{"duplicate", NewChannel{Name: "taken", Type: channel.X, Token: "t"}, []string{"name"}},
	}
	for _, tt := range tests {
		_, err := s.Add(ctx, "user:a@x", tt.nc)
		var ps Problems
		if !errAs(err, &ps) {
			t.Errorf("%s: %v, want Problems", tt.name, err)
			continue
		}
		var fields []string
		for _, p := range ps {
			fields = append(fields, p.Field)
			if p.Message == "" {
				t.Errorf("%s: no message for %s", tt.name, p.Field)
			}
		}
		if !slices.Equal(fields, tt.fields) {
			t.Errorf("%s: problems with %v, want %v (%v)", tt.name, fields, tt.fields, ps)
		}
		if signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("%s: code %q", tt.name, signpost.ErrorCode(err))
		}
	}
	// Allowed by the server: the same loopback webhook is accepted.
	if _, err := service(t, db, "127.0.0.0/8").Add(ctx, "user:a@x", NewChannel{Name: "intranet", Type: channel.Webhook, Settings: map[string]string{"url": "http://127.0.0.1:8080/hook"}}); err != nil {
		t.Errorf("allowed loopback: %v", err)
	}
}

func errAs(err error, ps *Problems) bool {
	p, ok := err.(Problems)
	*ps = p
	return ok
}

func TestChannelLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		masto := fake.NewMastodon("masto-token-123")
		defer masto.Close()
		s := service(t, db, "127.0.0.1/32")
		const admin = "user:admin@northdale.example"

		added, err := s.Add(ctx, admin, NewChannel{Name: "masto", Type: channel.Mastodon, Token: " masto-token-123 ",
			Settings: map[string]string{"server": masto.URL}, Categories: []signpost.Category{"roads"}})
		if err != nil {
			t.Fatal(err)
		}
		if added.Secret != "" || !added.Channel.Healthy || !slices.Equal(added.Channel.Categories, []signpost.Category{"roads"}) ||
			!slices.Contains(added.Channel.Settings, Setting{"Mastodon server", masto.URL}) {
			t.Errorf("added %+v", added)
		}
		row, _ := db.Channel(ctx, "masto")
		if strings.Contains(row.Credentials, "masto-token-123") || !strings.HasPrefix(row.Credentials, "sp1:") {
			t.Errorf("credentials stored as %q", row.Credentials)
		}
		hook, err := s.Add(ctx, admin, NewChannel{Name: "partner", Type: channel.Webhook, Settings: map[string]string{"url": "https://partner.example/hook"}})
		if err != nil || len(hook.Secret) < 32 {
			t.Fatalf("webhook: %+v, %v", hook, err)
		}
		if defaults, _ := db.DefaultChannels(ctx, "roads"); !slices.Equal(defaults, []string{"masto"}) {
			t.Errorf("default channels for roads: %v", defaults)
		}

		res, err := s.Test(ctx, admin, "masto")
		if err != nil || !res.Healthy || !res.Recorded {
			t.Errorf("test: %+v, %v", res, err)
		}
		masto.Fail(1, fake.Unauthorized)
		res, err = s.Test(ctx, admin, "masto")
		if err != nil || res.Healthy || !res.Recorded || !strings.Contains(res.Message, "access token is invalid") {
			t.Errorf("test with a revoked token: %+v, %v", res, err)
		}
		if un, _ := s.Unhealthy(ctx); !slices.Equal(un, []string{"masto"}) {
			t.Errorf("unhealthy %v", un)
		}
		if c, _ := s.Channel(ctx, "masto"); c.Healthy || c.CheckedAt == nil || !strings.Contains(c.LastError, "401") {
			t.Errorf("after failed test: %+v", c)
		}
		if _, err := s.Test(ctx, admin, "nope"); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("test a missing channel: %v", err)
		}

		if err := s.SetCategories(ctx, admin, "masto", []signpost.Category{"schools", "waste", "schools"}); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.Channel(ctx, "masto"); !slices.Equal(c.Categories, []signpost.Category{"schools", "waste"}) || len(c.Settings) == 0 {
			t.Errorf("after categories: %+v", c)
		}
		if err := s.SetCategories(ctx, admin, "masto", []signpost.Category{"snow"}); signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("bad category: %v", err)
		}

		if err := db.SetDeliveryState(ctx, store.DeliveryJob{NoticeID: 1, Revision: 1, Channel: "masto", Action: "publish", State: store.DeliveryRetrying}); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.Pending(ctx, "masto"); n != 1 {
			t.Errorf("pending %d", n)
		}
		if n, err := s.Remove(ctx, admin, "masto"); n != 1 || err != nil {
			t.Errorf("remove: %d, %v", n, err)
		}
		if _, err := s.Remove(ctx, admin, "masto"); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("remove twice: %v", err)
		}

		// Every change is audited under the person, never with a secret.
		actions := auditedActions(t, db, "channel:masto", admin, "masto-token-123")
		want := []audit.Action{audit.ChannelAdd, audit.ChannelTest, audit.ChannelTest, audit.ChannelEdit, audit.ChannelRemove}
		if !slices.Equal(actions, want) {
			t.Errorf("audited %v, want %v", actions, want)
		}
		es, _ := audit.List(ctx, db, audit.Filter{Target: "channel:partner"})
		if len(es) != 1 || strings.Contains(string(es[0].After), hook.Secret) {
			t.Errorf("webhook audit %+v", es)
		}
	})
}

func TestNoKeys(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	s := New(Config{DB: db, Net: netsafe.Options{Logger: quiet()}})
	ctx := context.Background()
	if _, err := s.Add(ctx, "cli:x", NewChannel{Name: "x", Type: channel.X, Token: "t"}); signpost.ErrorCode(err) != signpost.EUNAVAILABLE {
		t.Errorf("add without keys: %v", err)
	}
	if _, err := s.Test(ctx, "cli:x", "x"); signpost.ErrorCode(err) != signpost.EUNAVAILABLE {
		t.Errorf("test without keys: %v", err)
	}
}

func TestReplaceCredentials(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		masto := fake.NewMastodon("new-token-456")
		defer masto.Close()
		s := service(t, db, "127.0.0.1/32")
		const admin = "user:admin@northdale.example"
		if _, err := s.Add(ctx, admin, NewChannel{Name: "masto", Type: channel.Mastodon, Token: "revoked-token-123",
			Settings: map[string]string{"server": masto.URL}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Add(ctx, admin, NewChannel{Name: "partner", Type: channel.Webhook, Settings: map[string]string{"url": "https://partner.example/hook"}}); err != nil {
			t.Fatal(err)
		}
		if res, err := s.Test(ctx, admin, "masto"); err != nil || res.Healthy {
			t.Fatalf("test with the revoked token: %+v, %v", res, err)
		}
		before, _ := db.Channel(ctx, "masto")

		problems := []struct {
			name, channel string
			values        map[string]string
		}{
			{"no token", "masto", map[string]string{"token": "  "}},
			{"nothing typed", "masto", nil},
			{"webhook secret too short, none made", "partner", map[string]string{"token": ""}},
		}
		for _, tt := range problems {
			_, err := s.ReplaceCredentials(ctx, admin, tt.channel, tt.values)
			var ps Problems
			if !errAs(err, &ps) || len(ps) != 1 || ps[0].Field != TokenField || ps[0].Message == "" || strings.Contains(ps[0].Message, "leave it empty") {
				t.Errorf("%s: %v, want one problem with the token field", tt.name, err)
			}
		}
		if _, err := s.ReplaceCredentials(ctx, admin, "nope", map[string]string{"token": "x"}); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("missing channel: %v", err)
		}
		if row, _ := db.Channel(ctx, "masto"); row.Credentials != before.Credentials {
			t.Error("a refused replacement changed the stored credential")
		}

		res, err := s.ReplaceCredentials(ctx, admin, "masto", map[string]string{"token": " new-token-456 "})
		if err != nil || !res.Healthy || !res.Recorded {
			t.Fatalf("replace: %+v, %v", res, err)
		}
		row, _ := db.Channel(ctx, "masto")
		if row.Credentials == before.Credentials || strings.Contains(row.Credentials, "new-token-456") || !strings.HasPrefix(row.Credentials, "sp1:") {
			t.Errorf("credentials stored as %q (were %q)", row.Credentials, before.Credentials)
		}
		if c, _ := s.Channel(ctx, "masto"); !c.Healthy || c.LastError != "" {
			t.Errorf("after replacing: %+v", c)
		}
		if un, _ := s.Unhealthy(ctx); len(un) != 0 {
			t.Errorf("still unhealthy: %v", un)
		}
		// A wrong replacement is stored too (it is what the admin typed)
		// and marks the channel as not working.
		if res, err := s.ReplaceCredentials(ctx, admin, "masto", map[string]string{"token": "typo"}); err != nil || res.Healthy || !res.Recorded {
			t.Errorf("replace with a wrong token: %+v, %v", res, err)
		}

		actions := auditedActions(t, db, "channel:masto", admin, "token-456", "typo")
		want := []audit.Action{audit.ChannelAdd, audit.ChannelTest, audit.ChannelCredentials, audit.ChannelTest, audit.ChannelCredentials, audit.ChannelTest}
		if !slices.Equal(actions, want) {
			t.Errorf("audited %v, want %v", actions, want)
		}
	})
}

// auditedActions lists what was audited about target, in order, failing
// the test for an entry by anyone but actor or holding a secret (any of
// secrets, or a sealed value).
func auditedActions(t *testing.T, db *store.DB, target, actor string, secrets ...string) []audit.Action {
	t.Helper()
	es, err := audit.List(context.Background(), db, audit.Filter{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	var actions []audit.Action
	for _, e := range es {
		actions = append(actions, e.Action)
		if e.Actor != actor {
			t.Errorf("%s by %q", e.Action, e.Actor)
		}
		for _, b := range []json.RawMessage{e.Before, e.After} {
			for _, secret := range append(secrets, "sp1:") {
				if strings.Contains(string(b), secret) {
					t.Errorf("%s audit holds a secret: %s", e.Action, b)
				}
			}
		}
	}
	return actions
}
