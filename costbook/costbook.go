// Package costbook keeps the cost per contact of each channel that the
// channel-shift reports turn avoided calls into money with: a fully-loaded
// and an optional marginal figure, each with its source, versioned by the
// date it takes effect. Figures are added, never overwritten, and every
// addition is audited, so a report can always be traced to the figures a
// finance officer signed off.
package costbook

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/shift"
	"github.com/signpost-uk/signpost/store"
)

// MaxCost bounds a cost per contact, in pounds.
const MaxCost = 1000

// Book reads and adds costs.
type Book struct{ db *store.DB }

// New returns a Book over db.
func New(db *store.DB) *Book { return &Book{db: db} }

// Costs lists every recorded cost by channel and date.
func (b *Book) Costs(ctx context.Context) ([]shift.Cost, error) { return b.db.Costs(ctx) }

var channelName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// Problem is what is wrong with one field of a new cost.
type Problem struct{ Field, Message string }

// Check lists what is wrong with c, field by field; none means it can be
// added. Fields are named as Add's audit entry names them.
func Check(c shift.Cost) []Problem {
	var out []Problem
	if !channelName.MatchString(c.Channel) {
		out = append(out, Problem{"channel", "Enter the channel as lower-case letters, digits and hyphens, like phone or face-to-face"})
	}
	if c.EffectiveFrom.IsZero() {
		out = append(out, Problem{"effective_from", "Enter the date the cost takes effect"})
	}
	if bad(c.FullyLoaded) {
		out = append(out, Problem{"fully_loaded", fmt.Sprintf("Enter the fully-loaded cost in pounds, from 0 to %d", MaxCost)})
	}
	if c.Marginal != nil {
		switch {
		case bad(*c.Marginal):
			out = append(out, Problem{"marginal", fmt.Sprintf("Enter the marginal cost in pounds, from 0 to %d, or leave it empty", MaxCost)})
		case !bad(c.FullyLoaded) && *c.Marginal > c.FullyLoaded:
			out = append(out, Problem{"marginal", "The marginal cost must not be more than the fully-loaded cost: it is the part of it a contact avoided saves"})
		}
	}
	src := strings.TrimSpace(c.Source)
	switch {
	case src == "":
		out = append(out, Problem{"source", "Enter where the figure comes from, so that reports can cite it"})
	case utf8.RuneCountInString(src) > 300 || strings.ContainsAny(src, "\r\n"):
		out = append(out, Problem{"source", "The source must be one line of 300 characters or fewer"})
	}
	return out
}

func bad(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > MaxCost }

// Add records a cost and audits it. A channel and date already costed is
// ECONFLICT: a changed figure takes a new date.
func (b *Book) Add(ctx context.Context, actor string, c shift.Cost) error {
	c.Source = strings.TrimSpace(c.Source)
	if ps := Check(c); len(ps) > 0 {
		return signpost.Errorf(signpost.EINVALID, "%s", ps[0].Message)
	}
	// Update, so the change version moves and the channel-shift dashboard
	// recomputes with the new figure.
	return b.db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.AddCost(ctx, c); err != nil {
			return err
		}
		after := map[string]any{"channel": c.Channel, "effective_from": c.EffectiveFrom.Format("2006-01-02"),
			"fully_loaded_gbp": c.FullyLoaded, "marginal_gbp": c.Marginal, "source": c.Source}
		_, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.Create, Target: "cost:" + c.Channel, After: after})
		return err
	})
}
