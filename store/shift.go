package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
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
		if w.Date, err = time.Parse(time.DateOnly, day); err != nil {
			rows.Close()
			return d, err
		}
		d.Weather = append(d.Weather, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("load weather: %w", err)
	}
	// Contacts are most of the rows: read them in parallel slices of the
	// date range, and intern the repeated day, channel and category text
	// rather than allocate it per row.
	for _, table := range []struct{ name, prefix string }{{"contacts", ""}, {"signpost_contacts", OwnChannelPrefix}} {
		cs, err := db.loadContacts(ctx, table.name, table.prefix, lo, hi)
		if err != nil {
			return d, err
		}
		d.Contacts = append(d.Contacts, cs...)
	}
	return d, nil
}

// loadContacts reads one contacts table for days lo…hi, split into date
// slices read concurrently on the read pool.
func (db *DB) loadContacts(ctx context.Context, table, prefix, lo, hi string) ([]shift.Contact, error) {
	var first, last sql.NullString
	if err := db.queryRow(ctx, `SELECT MIN(day), MAX(day) FROM `+table+` WHERE day >= ? AND day <= ?`, lo, hi).Scan(&first, &last); err != nil {
		return nil, fmt.Errorf("load %s: %w", table, err)
	}
	if !first.Valid {
		return nil, nil
	}
	from, err1 := time.Parse(time.DateOnly, first.String)
	to, err2 := time.Parse(time.DateOnly, last.String)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("load %s: bad day %q or %q in the database", table, first.String, last.String)
	}
	parts := max(1, min(runtime.GOMAXPROCS(0), 8))
	span := int(to.Sub(from).Hours()/24) + 1
	step := (span + parts - 1) / parts
	results := make([][]shift.Contact, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		a := from.AddDate(0, 0, p*step)
		b := from.AddDate(0, 0, min((p+1)*step, span)-1)
		if a.After(to) {
			break
		}
		wg.Go(func() {
			results[p], errs[p] = db.loadContactSlice(ctx, table, prefix, dayText(a), dayText(b))
		})
	}
	wg.Wait()
	var out []shift.Contact
	for p := range results {
		if errs[p] != nil {
			return nil, errs[p]
		}
		out = append(out, results[p]...)
	}
	return out, nil
}

func (db *DB) loadContactSlice(ctx context.Context, table, prefix, lo, hi string) ([]shift.Contact, error) {
	rows, err := db.query(ctx, `SELECT day, channel, category, contacts FROM `+table+` WHERE day >= ? AND day <= ?`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", table, err)
	}
	defer rows.Close()
	days := map[string]time.Time{}
	names := map[string]string{}
	intern := func(b []byte) string {
		if s, ok := names[string(b)]; ok {
			return s
		}
		s := string(b)
		names[s] = s
		return s
	}
	var out []shift.Contact
	var day, channel, category sql.RawBytes
	for rows.Next() {
		var c shift.Contact
		if err := rows.Scan(&day, &channel, &category, &c.Count); err != nil {
			return nil, fmt.Errorf("load %s: %w", table, err)
		}
		t, ok := days[string(day)]
		if !ok {
			if t, err = time.Parse(time.DateOnly, string(day)); err != nil {
				return nil, fmt.Errorf("load %s: bad day %q in the database: %w", table, day, err)
			}
			days[string(day)] = t
		}
		c.Date = t
		c.Channel = intern(channel)
		if prefix != "" {
			c.Channel = prefix + c.Channel
		}
		c.Category = intern(category)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load %s: %w", table, err)
	}
	return out, nil
}

// AddCost records a channel's cost from a new effective date. Unlike
// PutCost (the import, which may correct a row it loaded), it never
// replaces a recorded figure: a date already costed for the channel is a
// conflict, and a change takes a new date.
func (tx *Tx) AddCost(ctx context.Context, c shift.Cost) error {
	from := alwaysDay
	if !c.EffectiveFrom.IsZero() {
		from = dayText(c.EffectiveFrom)
	}
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM channel_costs WHERE channel = ? AND effective_from = ?`, c.Channel, from).Scan(&one)
	switch {
	case err == nil:
		return signpost.Errorf(signpost.ECONFLICT, "%s already has a cost from %s: costs are never overwritten, so give the new one a later date", c.Channel, from)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("add cost of %s: %w", c.Channel, err)
	}
	var marginal sql.NullFloat64
	if c.Marginal != nil {
		marginal = sql.NullFloat64{Float64: *c.Marginal, Valid: true}
	}
	_, err = tx.Exec(ctx, `INSERT INTO channel_costs (channel, effective_from, fully_loaded_gbp, marginal_gbp, source) VALUES (?, ?, ?, ?, ?)`,
		c.Channel, from, c.FullyLoaded, marginal, c.Source)
	if err != nil {
		return fmt.Errorf("add cost of %s: %w", c.Channel, err)
	}
	return nil
}
