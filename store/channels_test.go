package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func TestChannels(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c, err := db.CreateChannel(ctx, store.Channel{Name: "masto-main", Type: "mastodon", Config: json.RawMessage(`{"server":"https://x.social"}`), Credentials: "sp1:abc:sealed"})
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || !c.Healthy {
			t.Errorf("created = %+v", c)
		}
		if _, err := db.CreateChannel(ctx, store.Channel{Name: "masto-main", Type: "mastodon"}); signpost.ErrorCode(err) != signpost.ECONFLICT {
			t.Errorf("duplicate name: %v", err)
		}
		for _, bad := range []store.Channel{{Name: "Bad Name", Type: "x"}, {Name: "ok", Type: ""}, {Name: "ok", Type: "x", Config: json.RawMessage(`{`)}} {
			if _, err := db.CreateChannel(ctx, bad); signpost.ErrorCode(err) != signpost.EINVALID {
				t.Errorf("CreateChannel(%+v): %v", bad, err)
			}
		}
		if _, err := db.CreateChannel(ctx, store.Channel{Name: "hook", Type: "webhook"}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Channel(ctx, "masto-main")
		if err != nil || string(got.Config) != `{"server":"https://x.social"}` || got.Credentials != "sp1:abc:sealed" || got.Type != "mastodon" || got.CheckedAt != nil {
			t.Errorf("Channel = %+v, %v", got, err)
		}
		if err := db.SetChannelHealth(ctx, "masto-main", false, "permanent: The access token is invalid (HTTP 401)"); err != nil {
			t.Fatal(err)
		}
		all, err := db.Channels(ctx)
		if err != nil || len(all) != 2 || all[0].Name != "hook" || all[1].Healthy || !strings.Contains(all[1].LastError, "401") || all[1].CheckedAt == nil {
			t.Errorf("Channels = %+v, %v", all, err)
		}
		n, err := db.RotateChannelCredentials(ctx, func(name, sealed string) (string, error) { return sealed + "+new", nil })
		if err != nil || n != 1 {
			t.Errorf("rotate: %d, %v", n, err)
		}
		if got, _ := db.Channel(ctx, "masto-main"); got.Credentials != "sp1:abc:sealed+new" {
			t.Errorf("after rotate: %q", got.Credentials)
		}
		// A failure part-way rolls every change back.
		_, err = db.RotateChannelCredentials(ctx, func(name, sealed string) (string, error) { return "", errors.New("wrong key") })
		if err == nil {
			t.Error("rotate with failing reseal succeeded")
		}
		if err := db.DeleteChannel(ctx, "hook"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteChannel(ctx, "hook"); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("delete twice: %v", err)
		}
		if _, err := db.Channel(ctx, "hook"); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("deleted channel: %v", err)
		}
		if err := db.SetChannelHealth(ctx, "hook", true, ""); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("health of missing channel: %v", err)
		}
	})
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, ok, err := db.Delivery(ctx, 1, "masto"); ok || err != nil {
			t.Fatalf("no delivery yet: %v %v", ok, err)
		}
		if err := db.RecordDelivery(ctx, store.Delivery{NoticeID: 1, Channel: "masto", Revision: 2, Action: "publish", Receipt: json.RawMessage(`{"ids":["9"]}`)}); err != nil {
			t.Fatal(err)
		}
		// An older revision arriving late does not overwrite the newer one.
		if err := db.RecordDelivery(ctx, store.Delivery{NoticeID: 1, Channel: "masto", Revision: 1, Action: "publish", Receipt: json.RawMessage(`{"ids":["8"]}`)}); err != nil {
			t.Fatal(err)
		}
		d, ok, err := db.Delivery(ctx, 1, "masto")
		if err != nil || !ok || d.Revision != 2 || string(d.Receipt) != `{"ids":["9"]}` || d.DeliveredAt.IsZero() {
			t.Errorf("delivery = %+v, %v, %v", d, ok, err)
		}
		if err := db.RecordDelivery(ctx, store.Delivery{NoticeID: 1, Channel: "masto", Revision: 3, Action: "delete"}); err != nil {
			t.Fatal(err)
		}
		if d, _, _ := db.Delivery(ctx, 1, "masto"); d.Revision != 3 || d.Action != "delete" {
			t.Errorf("after revision 3: %+v", d)
		}
	})
}

func TestDefaultChannels(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for name, config := range map[string]string{
			"masto":  `{"server":"https://x.example","categories":["schools","roads"]}`,
			"sky":    `{"categories":["roads"]}`,
			"hook":   `{"url":"https://partner.example"}`,
			"emails": `{"categories":[]}`,
		} {
			if _, err := db.CreateChannel(ctx, store.Channel{Name: name, Type: "mastodon", Config: json.RawMessage(config)}); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			category signpost.Category
			want     []string
		}{
			{signpost.CategorySchools, []string{"masto"}},
			{signpost.CategoryRoads, []string{"masto", "sky"}},
			{signpost.CategoryWaste, nil},
		}
		for _, tt := range tests {
			got, err := db.DefaultChannels(ctx, tt.category)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("DefaultChannels(%s) = %v, want %v", tt.category, got, tt.want)
			}
		}
	})
}

func TestChannelAlerts(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return now })
		for _, name := range []string{"masto", "sky"} {
			if _, err := db.CreateChannel(ctx, store.Channel{Name: name, Type: "mastodon"}); err != nil {
				t.Fatal(err)
			}
		}
		claim := func() []string {
			t.Helper()
			as, err := db.ClaimChannelAlerts(ctx, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range as {
				out = append(out, fmt.Sprintf("%s#%d", a.Name, a.Outage))
			}
			return out
		}
		health := func(name string, ok bool) {
			t.Helper()
			msg := ""
			if !ok {
				msg = "permanent: The access token is invalid (HTTP 401)"
			}
			if err := db.SetChannelHealth(ctx, name, ok, msg); err != nil {
				t.Fatal(err)
			}
		}
		steps := []struct {
			do   func()
			want []string
		}{
			{func() {}, nil},
			// Two failures in one outage are one alert.
			{func() { health("masto", false); health("masto", false) }, []string{"masto#1"}},
			// Claimed: another server gets nothing.
			{func() {}, nil},
			// The claim goes stale (sending failed): handed out again.
			{func() { now = now.Add(6 * time.Minute) }, []string{"masto#1"}},
			{func() {
				if err := db.MarkChannelAlerted(ctx, "masto", 1); err != nil {
					t.Fatal(err)
				}
				now = now.Add(time.Hour)
				health("masto", false)
			}, nil},
			// Recovered before anyone was told: nothing to tell.
			{func() { health("sky", false); health("sky", true) }, nil},
			// A new outage is a new alert.
			{func() { health("masto", true); health("masto", false) }, []string{"masto#2"}},
		}
		for i, st := range steps {
			st.do()
			if got := claim(); !slices.Equal(got, st.want) {
				t.Errorf("step %d: claimed %v, want %v", i, got, st.want)
			}
		}
		if un, err := db.UnhealthyChannels(ctx); err != nil || !slices.Equal(un, []string{"masto"}) {
			t.Errorf("unhealthy = %v, %v", un, err)
		}
	})
}

func TestChannelRemovalSkipsPendingDeliveries(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.CreateChannel(ctx, store.Channel{Name: "masto", Type: "mastodon"}); err != nil {
			t.Fatal(err)
		}
		for i, state := range []string{store.DeliveryQueued, store.DeliveryRetrying, store.DeliveryDelivered, store.DeliveryFailed} {
			if err := db.SetDeliveryState(ctx, store.DeliveryJob{NoticeID: int64(i + 1), Revision: 1, Channel: "masto", Action: "publish", State: state}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SetDeliveryState(ctx, store.DeliveryJob{NoticeID: 9, Revision: 1, Channel: "other", Action: "publish", State: store.DeliveryQueued}); err != nil {
			t.Fatal(err)
		}
		if n, err := db.PendingDeliveries(ctx, "masto"); n != 2 || err != nil {
			t.Errorf("pending = %d, %v", n, err)
		}
		var skipped int
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := tx.SetChannelConfig(ctx, "masto", json.RawMessage(`{"categories":["roads"]}`)); err != nil {
				return err
			}
			if err := tx.DeleteChannel(ctx, "masto"); err != nil {
				return err
			}
			var err error
			skipped, err = tx.SkipPendingDeliveries(ctx, "masto", "the channel was removed")
			return err
		})
		if err != nil || skipped != 2 {
			t.Fatalf("remove: %d, %v", skipped, err)
		}
		if n, _ := db.PendingDeliveries(ctx, "masto"); n != 0 {
			t.Errorf("pending after removal = %d", n)
		}
		if n, _ := db.PendingDeliveries(ctx, "other"); n != 1 {
			t.Errorf("another channel's pending = %d", n)
		}
		js, _ := db.DeliveryJobs(ctx, store.DeliveryFilter{Channel: "masto"})
		states := map[string]int{}
		for _, j := range js {
			states[j.State]++
			if j.State == store.DeliverySkipped && j.LastError != "the channel was removed" {
				t.Errorf("skipped with %q", j.LastError)
			}
		}
		if states[store.DeliverySkipped] != 2 || states[store.DeliveryDelivered] != 1 || states[store.DeliveryFailed] != 1 {
			t.Errorf("states %v", states)
		}
		err = db.Update(ctx, func(tx *store.Tx) error { return tx.SetChannelConfig(ctx, "masto", json.RawMessage(`{}`)) })
		if signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("config of a removed channel: %v", err)
		}
	})
}
