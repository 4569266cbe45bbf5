package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/demo"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC) // a Tuesday
		if err := demo.Load(ctx, db, now); err != nil {
			t.Fatal(err)
		}
		all, err := db.Notices(ctx, signpost.NoticeFilter{IncludeClosed: true})
		if err != nil {
			t.Fatal(err)
		}
		open, _ := db.Notices(ctx, signpost.NoticeFilter{})
		if len(all) < 20 || len(open) != len(all)-1 {
			t.Fatalf("scenario has %d notices, %d open", len(all), len(open))
		}
		count := map[signpost.Category]int{}
		revised := 0
		for _, n := range all {
			count[n.Category]++
			if n.Revision > 1 {
				revised++
			}
			if n.UpdatedAt.After(now) {
				t.Errorf("notice %q updated in the future: %v", n.Headline, n.UpdatedAt)
			}
		}
		for _, c := range []signpost.Category{signpost.CategorySchools, signpost.CategoryRoads, signpost.CategoryWaste} {
			if count[c] == 0 {
				t.Errorf("no %s notices", c)
			}
		}
		if revised == 0 {
			t.Error("no notice has a later revision")
		}
		if _, err := db.LookupPostcode(ctx, demo.Postcode); err != nil {
			t.Errorf("demo postcode: %v", err)
		}
		// Loading again re-imports places but adds no notices.
		if err := demo.Load(ctx, db, now); err != nil {
			t.Fatal(err)
		}
		again, _ := db.Notices(ctx, signpost.NoticeFilter{IncludeClosed: true})
		if len(again) != len(all) {
			t.Errorf("second load added notices: %d → %d", len(all), len(again))
		}
	})
}
