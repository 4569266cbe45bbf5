package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/shift"
)

// alwaysDay stands for "since always" in channel_costs.effective_from, so
// the column can be part of the primary key.
const alwaysDay = "0001-01-01"

// OwnChannelPrefix marks Signpost's own digital contacts when they are
// handed to the estimator beside the council's, so that Signpost's "web"
// (its notice pages) is never mistaken for the council's web figures.
const OwnChannelPrefix = "signpost-"

func dayText(t time.Time) string { return t.Format(time.DateOnly) }

// PutWeather inserts or replaces one day's weather.
func (tx *Tx) PutWeather(ctx context.Context, w shift.Weather) error {
	return tx.ExecPrepared(ctx, `INSERT INTO weather (day, snow_cm, min_temp_c, severity) VALUES (?, ?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET snow_cm = excluded.snow_cm, min_temp_c = excluded.min_temp_c, severity = excluded.severity`,
		dayText(w.Date), w.SnowCM, w.MinTempC, w.Severity)
}

// PutContact inserts or replaces one day's count for a channel and category.
func (tx *Tx) PutContact(ctx context.Context, c shift.Contact) error {
	return tx.ExecPrepared(ctx, `INSERT INTO contacts (day, channel, category, contacts) VALUES (?, ?, ?, ?)
		ON CONFLICT (day, channel, category) DO UPDATE SET contacts = excluded.contacts`,
		dayText(c.Date), c.Channel, c.Category, c.Count)
}

// PutContacts inserts or replaces many counts with multi-row statements,
// which on PostgreSQL saves a network round trip per row.
func (tx *Tx) PutContacts(ctx context.Context, cs []shift.Contact) error {
	const batch = 500 // 2,000 parameters: under both engines' limits
	for len(cs) > 0 {
		n := min(batch, len(cs))
		var q strings.Builder
		q.WriteString(`INSERT INTO contacts (day, channel, category, contacts) VALUES `)
		args := make([]any, 0, 4*n)
		for i, c := range cs[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?)")
			args = append(args, dayText(c.Date), c.Channel, c.Category, c.Count)
		}
		q.WriteString(` ON CONFLICT (day, channel, category) DO UPDATE SET contacts = excluded.contacts`)
		if err := tx.ExecPrepared(ctx, q.String(), args...); err != nil {
			return err
		}
		cs = cs[n:]
	}
	return nil
}

// PutCost inserts or replaces a channel's cost from its effective date.
func (tx *Tx) PutCost(ctx context.Context, c shift.Cost) error {
	from := alwaysDay
	if !c.EffectiveFrom.IsZero() {
		from = dayText(c.EffectiveFrom)
	}
	var marginal sql.NullFloat64
	if c.Marginal != nil {
		marginal = sql.NullFloat64{Float64: *c.Marginal, Valid: true}
	}
	return tx.ExecPrepared(ctx, `INSERT INTO channel_costs (channel, effective_from, fully_loaded_gbp, marginal_gbp, source) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (channel, effective_from) DO UPDATE SET fully_loaded_gbp = excluded.fully_loaded_gbp,
		marginal_gbp = excluded.marginal_gbp, source = excluded.source`,
		c.Channel, from, c.FullyLoaded, marginal, c.Source)
}

// PutCampaign inserts or replaces a campaign.
func (tx *Tx) PutCampaign(ctx context.Context, c shift.Campaign) error {
	return tx.ExecPrepared(ctx, `INSERT INTO campaigns (name, starts, ends, categories, description) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET starts = excluded.starts, ends = excluded.ends,
		categories = excluded.categories, description = excluded.description`,
		c.Name, dayText(c.Start), dayText(c.End), strings.Join(c.Categories, ";"), c.Description)
}

// CountContacts adds n of Signpost's own digital contacts for a day,
// channel and category. It writes outside Update on purpose: counting a page
// view is not a change residents' pages need to be rebuilt for, so it must
// not bump the change version that the web cache watches.
func (db *DB) CountContacts(ctx context.Context, day time.Time, channel, category string, n int) error {
	if n <= 0 {
		return nil
	}
	if channel == "" || category == "" {
		return signpost.Errorf(signpost.EINVALID, "count contacts: channel and category are required")
	}
	_, err := db.write.ExecContext(ctx, db.rebind(`INSERT INTO signpost_contacts (day, channel, category, contacts) VALUES (?, ?, ?, ?)
		ON CONFLICT (day, channel, category) DO UPDATE SET contacts = signpost_contacts.contacts + excluded.contacts`),
		dayText(day), channel, category, n)
	if err != nil {
		return fmt.Errorf("count %s contacts: %w", channel, err)
	}
	return nil
}

// Campaigns returns every campaign, earliest first.
func (db *DB) Campaigns(ctx context.Context) ([]shift.Campaign, error) {
	rows, err := db.query(ctx, `SELECT name, starts, ends, categories, description FROM campaigns ORDER BY starts, name`)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	var out []shift.Campaign
	for rows.Next() {
		var c shift.Campaign
		var starts, ends, cats string
		if err := rows.Scan(&c.Name, &starts, &ends, &cats, &c.Description); err != nil {
			return nil, err
		}
		if c.Start, err = time.Parse(time.DateOnly, starts); err != nil {
			return nil, fmt.Errorf("campaign %s: start %q: %w", c.Name, starts, err)
		}
		if c.End, err = time.Parse(time.DateOnly, ends); err != nil {
			return nil, fmt.Errorf("campaign %s: end %q: %w", c.Name, ends, err)
		}
		for _, cat := range strings.Split(cats, ";") {
			if cat = strings.TrimSpace(cat); cat != "" {
				c.Categories = append(c.Categories, cat)
			}
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Costs returns every recorded channel cost.
func (db *DB) Costs(ctx context.Context) ([]shift.Cost, error) {
	rows, err := db.query(ctx, `SELECT channel, effective_from, fully_loaded_gbp, marginal_gbp, source FROM channel_costs ORDER BY channel, effective_from`)
	if err != nil {
		return nil, fmt.Errorf("list costs: %w", err)
	}
	defer rows.Close()
	var out []shift.Cost
	for rows.Next() {
		var c shift.Cost
		var from string
		var marginal sql.NullFloat64
		if err := rows.Scan(&c.Channel, &from, &c.FullyLoaded, &marginal, &c.Source); err != nil {
			return nil, err
		}
		if from != alwaysDay {
			if c.EffectiveFrom, err = time.Parse(time.DateOnly, from); err != nil {
				return nil, fmt.Errorf("cost of %s: effective_from %q: %w", c.Channel, from, err)
			}
		}
		if marginal.Valid {
			m := marginal.Float64
			c.Marginal = &m
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ShiftData loads what the channel-shift estimator reads: every campaign
// and cost, and the weather and daily contacts from day from to day to
// inclusive (zero times leave that end open). Signpost's own counts come
// with their channel prefixed by OwnChannelPrefix.
func (db *DB) ShiftData(ctx context.Context, from, to time.Time) (shift.Data, error) {
	var d shift.Data
	var err error
	if d.Campaigns, err = db.Campaigns(ctx); err != nil {
		return d, err
	}
	if d.Costs, err = db.Costs(ctx); err != nil {
		return d, err
	}
	lo, hi := "0000-01-01", "9999-12-31"
	if !from.IsZero() {
		lo = dayText(from)
	}
	if !to.IsZero() {
		hi = dayText(to)
	}
	// Dates repeat once per channel and category, so parse each once.
	days := map[string]time.Time{}
	parse := func(s string) (time.Time, error) {
		if t, ok := days[s]; ok {
			return t, nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return t, fmt.Errorf("bad day %q in the database: %w", s, err)
		}
		days[s] = t
		return t, nil
	}
	rows, err := db.query(ctx, `SELECT day, snow_cm, min_temp_c, severity FROM weather WHERE day >= ? AND day <= ? ORDER BY day`, lo, hi)
	if err != nil {
		return d, fmt.Errorf("load weather: %w", err)
	}
	for rows.Next() {
		var w shift.Weather
		var day string
		if err := rows.Scan(&day, &w.SnowCM, &w.MinTempC, &w.Severity); err != nil {
			rows.Close()
			return d, err
		}
		if w.Date, err = parse(day); err != nil {
			rows.Close()
			return d, err
		}
		d.Weather = append(d.Weather, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("load weather: %w", err)
	}
	for _, table := range []struct{ name, prefix string }{{"contacts", ""}, {"signpost_contacts", OwnChannelPrefix}} {
		rows, err := db.query(ctx, `SELECT day, channel, category, contacts FROM `+table.name+` WHERE day >= ? AND day <= ?`, lo, hi)
		if err != nil {
			return d, fmt.Errorf("load %s: %w", table.name, err)
		}
		for rows.Next() {
			var c shift.Contact
			var day string
			if err := rows.Scan(&day, &c.Channel, &c.Category, &c.Count); err != nil {
				rows.Close()
				return d, err
			}
			if c.Date, err = parse(day); err != nil {
				rows.Close()
				return d, err
			}
			c.Channel = table.prefix + c.Channel
			d.Contacts = append(d.Contacts, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return d, fmt.Errorf("load %s: %w", table.name, err)
		}
	}
	return d, nil
}
