package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func TestRetractNotice(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedPlaces(t, db)
		clock := time.Date(2026, 1, 6, 6, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return clock })
		in := signpost.NoticeInput{Category: signpost.CategorySchools, Status: signpost.StatusClosed,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "100001"}}, Headline: "Holy Trinity Primary closed"}
		wrong, err := db.CreateNotice(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := db.CreateNotice(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Minute)
		r, err := db.RetractNotice(ctx, wrong.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Revision != 2 || r.RetractedAt == nil || !r.RetractedAt.Equal(clock) || !r.Retracted() {
			t.Errorf("retracted = %+v", r)
		}
		if _, err := db.RetractNotice(ctx, wrong.ID); signpost.ErrorCode(err) != signpost.ECONFLICT {
			t.Errorf("second retraction: %v, want conflict", err)
		}
		for name, change := range map[string]func() error{
			"update": func() error { _, err := db.UpdateNotice(ctx, wrong.ID, in); return err },
			"close":  func() error { _, err := db.CloseNotice(ctx, wrong.ID); return err },
		} {
			if err := change(); signpost.ErrorCode(err) != signpost.ECONFLICT {
				t.Errorf("%s of a retracted notice: %v, want conflict", name, err)
			}
		}
		if _, err := db.RetractNotice(ctx, 424242); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("retract missing notice: %v", err)
		}

		for _, f := range []signpost.NoticeFilter{{}, {IncludeClosed: true}, {Place: &signpost.PlaceRef{Kind: signpost.PlaceSchool, ID: "100001"}}} {
			ns, err := db.Notices(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != 1 || ns[0].ID != kept.ID {
				t.Errorf("Notices(%+v) = %d notices, want only %d", f, len(ns), kept.ID)
			}
		}
		all, _ := db.Notices(ctx, signpost.NoticeFilter{IncludeRetracted: true})
		if len(all) != 2 {
			t.Errorf("IncludeRetracted listed %d notices, want 2", len(all))
		}
		// Staff still read a retracted notice and its history.
		got, err := db.Notice(ctx, wrong.ID)
		if err != nil || got.RetractedAt == nil {
			t.Errorf("Notice(retracted) = %+v, %v", got, err)
		}
		revs, _ := db.NoticeRevisions(ctx, wrong.ID)
		if len(revs) != 2 || revs[0].RetractedAt != nil || revs[1].RetractedAt == nil {
			t.Errorf("revisions = %+v", revs)
		}

		// A closed notice may still be retracted.
		if _, err := db.CloseNotice(ctx, kept.ID); err != nil {
			t.Fatal(err)
		}
		if r, err := db.RetractNotice(ctx, kept.ID); err != nil || r.Revision != 3 || r.ClosedAt == nil {
			t.Errorf("retract closed notice = %+v, %v", r, err)
		}
	})
}

func TestNoticeChannels(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedPlaces(t, db)
		for _, name := range []string{"masto", "bsky"} {
			if _, err := db.CreateChannel(ctx, store.Channel{Name: name, Type: "mastodon"}); err != nil {
				t.Fatal(err)
			}
		}
		in := signpost.NoticeInput{Category: signpost.CategoryRoads, Status: signpost.StatusGritted,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceRoute, ID: "R1"}}, Headline: "Route 1 gritted",
			Channels: []string{"masto", " bsky", "masto"}}
		n, err := db.CreateNotice(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"bsky", "masto"}; !slices.Equal(n.Channels, want) {
			t.Errorf("created channels = %q, want %q", n.Channels, want)
		}
		got, _ := db.Notice(ctx, n.ID)
		if want := []string{"bsky", "masto"}; !slices.Equal(got.Channels, want) {
			t.Errorf("stored channels = %q, want %q", got.Channels, want)
		}
		in.Channels = []string{"masto"}
		if _, err := db.UpdateNotice(ctx, n.ID, in); err != nil {
			t.Fatal(err)
		}
		revs, _ := db.NoticeRevisions(ctx, n.ID)
		if len(revs) != 2 || len(revs[0].Channels) != 2 || !slices.Equal(revs[1].Channels, []string{"masto"}) {
			t.Errorf("revision channels = %q then %q", revs[0].Channels, revs[1].Channels)
		}
		tests := []struct {
			name     string
			channels []string
			code     string
		}{
			{"unknown", []string{"twitter"}, signpost.EINVALID},
			{"one unknown among known", []string{"masto", "nope"}, signpost.EINVALID},
			{"none", nil, ""},
		}
		for _, tt := range tests {
			in.Channels = tt.channels
			if _, err := db.CreateNotice(ctx, in); signpost.ErrorCode(err) != tt.code {
				t.Errorf("create with %s channels: %v, want %q", tt.name, err, tt.code)
			}
			if _, err := db.UpdateNotice(ctx, n.ID, in); signpost.ErrorCode(err) != tt.code {
				t.Errorf("update with %s channels: %v, want %q", tt.name, err, tt.code)
			}
		}
	})
}
