package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

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
