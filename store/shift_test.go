package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/shift"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestShiftDataRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		marginal := 1.1
		put := func(count int) {
			t.Helper()
			err := db.Update(ctx, func(tx *store.Tx) error {
				for _, w := range []shift.Weather{{Date: day("2025-01-01"), SnowCM: 2.5, MinTempC: -3, Severity: 2}, {Date: day("2025-01-02"), Severity: 0}} {
					if err := tx.PutWeather(ctx, w); err != nil {
						return err
					}
				}
				for _, c := range []shift.Contact{
					{Date: day("2025-01-01"), Channel: "phone", Category: "schools", Count: count},
					{Date: day("2025-01-02"), Channel: "phone", Category: "schools", Count: 0},
					{Date: day("2025-01-02"), Channel: "web", Category: "roads", Count: 7},
				} {
					if err := tx.PutContact(ctx, c); err != nil {
						return err
					}
				}
				for _, c := range []shift.Cost{
					{Channel: "phone", FullyLoaded: 2.9, Source: "Socitm"},
					{Channel: "phone", EffectiveFrom: day("2026-04-01"), FullyLoaded: 3.1, Marginal: &marginal, Source: "own study"},
				} {
					if err := tx.PutCost(ctx, c); err != nil {
						return err
					}
				}
				return tx.PutCampaign(ctx, shift.Campaign{Name: "winter-page", Start: day("2025-01-01"), End: day("2025-01-31"), Categories: []string{"schools", "roads"}, Description: "d"})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		put(40)
		put(41) // re-import replaces, never duplicates
		before, _ := db.ChangeVersion(ctx)
		for range 2 {
			if err := db.CountContacts(ctx, day("2025-01-02"), "web", "roads", 3); err != nil {
				t.Fatal(err)
			}
		}
		if after, _ := db.ChangeVersion(ctx); after != before {
			t.Errorf("counting contacts changed the change version %d → %d; page caches would be emptied on every view", before, after)
		}
		d, err := db.ShiftData(ctx, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Weather) != 2 || d.Weather[0].Severity != 2 || d.Weather[0].SnowCM != 2.5 {
			t.Errorf("weather = %+v", d.Weather)
		}
		got := map[string]int{}
		for _, c := range d.Contacts {
			got[c.Date.Format(time.DateOnly)+" "+c.Channel+" "+c.Category] = c.Count
		}
		want := map[string]int{"2025-01-01 phone schools": 41, "2025-01-02 phone schools": 0, "2025-01-02 web roads": 7, "2025-01-02 signpost-web roads": 6}
		for k, v := range want {
			if n, ok := got[k]; !ok || n != v {
				t.Errorf("contacts[%s] = %d (present %v), want %d", k, n, ok, v)
			}
		}
		if len(got) != len(want) {
			t.Errorf("contacts = %v", got)
		}
		if len(d.Costs) != 2 || d.Costs[0].Marginal != nil || !d.Costs[0].EffectiveFrom.IsZero() || d.Costs[1].Marginal == nil || *d.Costs[1].Marginal != 1.1 {
			t.Errorf("costs = %+v", d.Costs)
		}
		if len(d.Campaigns) != 1 || len(d.Campaigns[0].Categories) != 2 || !d.Campaigns[0].End.Equal(day("2025-01-31")) {
			t.Errorf("campaigns = %+v", d.Campaigns)
		}
		window, err := db.ShiftData(ctx, day("2025-01-02"), day("2025-01-02"))
		if err != nil {
			t.Fatal(err)
		}
		if len(window.Weather) != 1 || len(window.Contacts) != 3 {
			t.Errorf("window 2025-01-02 has %d weather and %d contacts, want 1 and 3", len(window.Weather), len(window.Contacts))
		}
	})
}
