package manage

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/inbox/desk"
	"github.com/signpost-uk/signpost/internal/mailpit"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func addUsers(t *testing.T, db *store.DB, users ...store.User) {
	t.Helper()
	err := db.UpdateAccounts(context.Background(), func(tx *store.Tx) error {
		for i := range users {
			if err := tx.InsertUser(context.Background(), &users[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// failing fails every send.
type failing struct{ sends int }

func (f *failing) Send(context.Context, desk.Mail) error {
	f.sends++
	return errors.New("connection refused")
}

func TestAlertOncePerOutage(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mp.DeleteAll(ctx)
		now := time.Date(2026, 1, 5, 6, 30, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return now })
		addUsers(t, db,
			store.User{Email: "admin1@northdale.example", Name: "A", Role: "admin"},
			store.User{Email: "admin2@northdale.example", Name: "B", Role: "admin"},
			store.User{Email: "gone@northdale.example", Name: "C", Role: "admin", Disabled: true},
			store.User{Email: "approver@northdale.example", Name: "D", Role: "approver"})
		if _, err := db.CreateChannel(ctx, store.Channel{Name: "masto", Type: "mastodon"}); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		smtp := &desk.SMTP{Addr: mp.SMTPAddr, From: "Signpost <signpost@northdale.example>", TLS: mp.TLS(), Username: "u", Password: "p"}
		fm := &failing{}
		a := &Alerter{Store: db, Mailer: fm, BaseURL: "https://signpost.example", Logger: slog.New(slog.NewTextHandler(&logs, nil))}

		// Three failed deliveries are one outage.
		for range 3 {
			if err := db.SetChannelHealth(ctx, "masto", false, "permanent: The access token is invalid (HTTP 401)"); err != nil {
				t.Fatal(err)
			}
		}
		// The mail server is down: nothing is marked, and the claim
		// holds the alert back until it is stale.
		if n, err := a.AlertOnce(ctx); n != 0 || err != nil || fm.sends != 2 {
			t.Fatalf("failing mailer: %d, %v, %d sends", n, err, fm.sends)
		}
		a.Mailer = smtp
		if n, _ := a.AlertOnce(ctx); n != 0 {
			t.Errorf("claimed alert sent again before it went stale: %d", n)
		}
		now = now.Add(2 * time.Minute)
		if n, err := a.AlertOnce(ctx); n != 1 || err != nil {
			t.Fatalf("alert: %d, %v", n, err)
		}
		if n, err := a.AlertOnce(ctx); n != 0 || err != nil {
			t.Errorf("second look: %d, %v", n, err)
		}
		msgs, err := mp.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var to []string
		for _, m := range msgs {
			to = append(to, m.To[0].Address)
			if m.Subject != "Channel masto has stopped working" {
				t.Errorf("subject %q", m.Subject)
			}
		}
		slices.Sort(to)
		if !slices.Equal(to, []string{"admin1@northdale.example", "admin2@northdale.example"}) {
			t.Errorf("sent to %v, want the two enabled administrators once each", to)
		}
		full, err := mp.Message(ctx, msgs[0].ID)
		if err != nil || !strings.Contains(full.Text, "https://signpost.example/staff/admin/channels") || !strings.Contains(full.Text, "HTTP 401") {
			t.Errorf("body %q, %v", full.Text, err)
		}
		if strings.Contains(logs.String(), "@northdale.example") {
			t.Errorf("an address was logged: %s", logs.String())
		}

		// Working again, then failing again: a new outage, a new alert.
		db.SetChannelHealth(ctx, "masto", true, "")
		db.SetChannelHealth(ctx, "masto", false, "permanent: revoked")
		if n, _ := a.AlertOnce(ctx); n != 1 {
			t.Errorf("second outage: %d alerts", n)
		}
		if c, _ := mp.Count(ctx); c != 4 {
			t.Errorf("%d messages in all, want 4", c)
		}
	})
}

// Without SMTP settings an outage is logged once at WARN, with no
// personal data, and not again.
func TestAlertWithoutSMTP(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	addUsers(t, db, store.User{Email: "admin1@northdale.example", Name: "A", Role: "admin"})
	if _, err := db.CreateChannel(ctx, store.Channel{Name: "masto", Type: "mastodon"}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a := &Alerter{Store: db, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	db.SetChannelHealth(ctx, "masto", false, "permanent: revoked")
	for range 2 {
		if _, err := a.AlertOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "channel=masto") || strings.Contains(logs.String(), "admin1@") {
		t.Errorf("logs: %s", logs.String())
	}
}
