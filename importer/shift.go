package importer

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost/shift"
	"github.com/signpost-uk/signpost/store"
)

// Day returns a calendar date or records a problem. ISO dates come first;
// the day-first forms are what UK office software writes.
func (r *Row) Day(col string) time.Time {
	v := r.Required(col)
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.DateOnly, "02/01/2006", "2/1/2006", "02-01-2006"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	r.Problem(col, "%q is not a date: use YYYY-MM-DD (or DD/MM/YYYY)", clip(v))
	return time.Time{}
}

// Money returns an amount in pounds (a leading £ is allowed) within [0, hi],
// or records a problem.
func (r *Row) Money(col string, hi float64) float64 {
	v := strings.TrimPrefix(r.Required(col), "£")
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) {
		r.Problem(col, "%q is not an amount in pounds", clip(v))
		return 0
	}
	if f < 0 || f > hi {
		r.Problem(col, "%s is out of range (0 to %g)", v, hi)
	}
	return f
}

// name returns a lower-case channel or category name, or records a problem.
func (r *Row) name(col string) string {
	v := strings.ToLower(r.Required(col))
	if len(v) > 64 {
		r.Problem(col, "%q is too long for a name (64 characters at most)", clip(v))
	}
	return v
}

func importWeather(ctx context.Context, tx *store.Tx, src *Source) (int, error) {
	c, err := NewCSV(src.Reader, &src.problems, "date", "snow_cm", "min_temp_c", "severity")
	if err != nil {
		return 0, nil // the problems say why
	}
	days := seen{}
	n := 0
	for r, ok := c.Next(); ok; r, ok = c.Next() {
		n++
		w := shift.Weather{Date: r.Day("date"), SnowCM: r.Float("snow_cm", 0, 1000), MinTempC: r.Float("min_temp_c", -80, 60), Severity: r.Int("severity", 0, 3)}
		if !w.Date.IsZero() {
			days.check(r, "date", w.Date.Format(time.DateOnly))
		}
		if r.OK() && src.problems.Len() == 0 {
			if err := tx.PutWeather(ctx, w); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func importContacts(ctx context.Context, tx *store.Tx, src *Source) (int, error) {
	c, err := NewCSV(src.Reader, &src.problems, "date", "channel", "category", "contacts")
	if err != nil {
		return 0, nil
	}
	keys := seen{}
	n := 0
	// Rows are written in batches, a round trip per 500 rather than per row.
	var pending []shift.Contact
	for r, ok := c.Next(); ok; r, ok = c.Next() {
		n++
		ct := shift.Contact{Date: r.Day("date"), Channel: r.name("channel"), Category: r.name("category"), Count: r.Int("contacts", 0, 100_000_000)}
		if !ct.Date.IsZero() && ct.Channel != "" && ct.Category != "" {
			// Two rows for one day, channel and category would silently
			// keep only the last; a corrected file should correct, not add.
			keys.check(r, "date", ct.Date.Format(time.DateOnly)+" "+ct.Channel+" "+ct.Category)
		}
		if r.OK() && src.problems.Len() == 0 {
			if pending = append(pending, ct); len(pending) == 500 {
				if err := tx.PutContacts(ctx, pending); err != nil {
					return n, err
				}
				pending = pending[:0]
			}
		}
	}
	if src.problems.Len() == 0 {
		if err := tx.PutContacts(ctx, pending); err != nil {
			return n, err
		}
	}
	return n, nil
}

// importCosts reads channel, cost_gbp (fully loaded) and source, and the
// optional marginal_gbp and effective_from.
func importCosts(ctx context.Context, tx *store.Tx, src *Source) (int, error) {
	c, err := NewCSV(src.Reader, &src.problems, "channel", "cost_gbp", "source")
	if err != nil {
		return 0, nil
	}
	keys := seen{}
	n := 0
	for r, ok := c.Next(); ok; r, ok = c.Next() {
		n++
		cost := shift.Cost{Channel: r.name("channel"), FullyLoaded: r.Money("cost_gbp", 1000), Source: r.Required("source")}
		if r.Has("marginal_gbp") && r.Text("marginal_gbp") != "" {
			m := r.Money("marginal_gbp", 1000)
			if r.OK() && m > cost.FullyLoaded {
				r.Problem("marginal_gbp", "£%.2f is more than the fully-loaded cost £%.2f; a marginal cost is part of the full cost", m, cost.FullyLoaded)
			}
			cost.Marginal = &m
		}
		from := ""
		if r.Has("effective_from") && r.Text("effective_from") != "" {
			cost.EffectiveFrom = r.Day("effective_from")
			from = cost.EffectiveFrom.Format(time.DateOnly)
		}
		if cost.Channel != "" {
			keys.check(r, "channel", cost.Channel+" "+from)
		}
		if r.OK() && src.problems.Len() == 0 {
			if err := tx.PutCost(ctx, cost); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func importCampaigns(ctx context.Context, tx *store.Tx, src *Source) (int, error) {
	c, err := NewCSV(src.Reader, &src.problems, "campaign", "start", "end", "categories")
	if err != nil {
		return 0, nil
	}
	names := seen{}
	n := 0
	for r, ok := c.Next(); ok; r, ok = c.Next() {
		n++
		cp := shift.Campaign{Name: r.Required("campaign"), Start: r.Day("start"), End: r.Day("end"), Description: r.Text("description")}
		names.check(r, "campaign", cp.Name)
		if !cp.Start.IsZero() && !cp.End.IsZero() && cp.End.Before(cp.Start) {
			r.Problem("end", "%s is before the start %s", cp.End.Format(time.DateOnly), cp.Start.Format(time.DateOnly))
		}
		for _, cat := range strings.Split(r.Text("categories"), ";") {
			if cat = strings.ToLower(strings.TrimSpace(cat)); cat != "" {
				cp.Categories = append(cp.Categories, cat)
			}
		}
		if len(cp.Categories) == 0 {
			r.Problem("categories", "is empty: list the categories the campaign targets, separated by ';' (e.g. schools;roads)")
		}
		if r.OK() && src.problems.Len() == 0 {
			if err := tx.PutCampaign(ctx, cp); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
