package costbook_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/costbook"
	"github.com/signpost-uk/signpost/shift"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func day(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

func pounds(f float64) *float64 { return &f }

func TestAddNeverOverwrites(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := costbook.New(db)
		first := shift.Cost{Channel: "phone", EffectiveFrom: day("2025-04-01"), FullyLoaded: 2.90, Marginal: pounds(1.10), Source: "Finance, 2025/26 budget"}
		if err := b.Add(ctx, "user:finance@northdale.example", first); err != nil {
			t.Fatal(err)
		}
		again := first
		again.FullyLoaded = 9.99
		if err := b.Add(ctx, "user:finance@northdale.example", again); signpost.ErrorCode(err) != signpost.ECONFLICT {
			t.Errorf("same channel and date: %v, want ECONFLICT", err)
		}
		later := shift.Cost{Channel: "phone", EffectiveFrom: day("2026-04-01"), FullyLoaded: 3.10, Source: "Finance, 2026/27 budget"}
		if err := b.Add(ctx, "user:finance@northdale.example", later); err != nil {
			t.Fatal(err)
		}
		costs, err := b.Costs(ctx)
		if err != nil || len(costs) != 2 || costs[0].FullyLoaded != 2.90 || *costs[0].Marginal != 1.10 || costs[1].Marginal != nil {
			t.Fatalf("costs %+v, %v", costs, err)
		}
		es, err := audit.List(ctx, db, audit.Filter{Target: "cost:phone"})
		if err != nil || len(es) != 2 || es[0].Actor != "user:finance@northdale.example" || es[0].Action != audit.Create {
			t.Fatalf("audit: %+v, %v", es, err)
		}
		var after map[string]any
		if json.Unmarshal(es[1].After, &after); after["effective_from"] != "2026-04-01" || after["fully_loaded_gbp"] != 3.1 {
			t.Errorf("audit after %s", es[1].After)
		}
	})
}

func TestCheck(t *testing.T) {
	ok := shift.Cost{Channel: "face-to-face", EffectiveFrom: day("2026-01-01"), FullyLoaded: 8.62, Source: "SOCITM 2012"}
	tests := []struct {
		name  string
		edit  func(*shift.Cost)
		field string
	}{
		{"fine", func(*shift.Cost) {}, ""},
		{"capital channel", func(c *shift.Cost) { c.Channel = "Phone" }, "channel"},
		{"empty channel", func(c *shift.Cost) { c.Channel = "" }, "channel"},
		{"no date", func(c *shift.Cost) { c.EffectiveFrom = time.Time{} }, "effective_from"},
		{"negative", func(c *shift.Cost) { c.FullyLoaded = -1 }, "fully_loaded"},
		{"NaN", func(c *shift.Cost) { c.FullyLoaded = math.NaN() }, "fully_loaded"},
		{"too big", func(c *shift.Cost) { c.FullyLoaded = 1001 }, "fully_loaded"},
		{"marginal above full", func(c *shift.Cost) { c.Marginal = pounds(9) }, "marginal"},
		{"marginal negative", func(c *shift.Cost) { c.Marginal = pounds(-0.01) }, "marginal"},
		{"no source", func(c *shift.Cost) { c.Source = "  " }, "source"},
		{"two-line source", func(c *shift.Cost) { c.Source = "a\nb" }, "source"},
	}
	for _, tt := range tests {
		c := ok
		tt.edit(&c)
		ps := costbook.Check(c)
		switch {
		case tt.field == "" && len(ps) > 0:
			t.Errorf("%s: %+v", tt.name, ps)
		case tt.field != "" && (len(ps) != 1 || ps[0].Field != tt.field):
			t.Errorf("%s: %+v, want one problem with %s", tt.name, ps, tt.field)
		}
	}
}
