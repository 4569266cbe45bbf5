package shift

import (
	"fmt"
	"sort"
	"time"
)

// Marginal-cost assumptions used when a council gives only fully-loaded
// costs. They are Signpost's stated assumptions, not published figures: a
// fully-loaded cost spreads accommodation, IT, management and overheads over
// every contact, and little of that is saved when one contact fewer happens.
const (
	// AssistedMarginalShare is the share of a phone or face-to-face
	// contact's fully-loaded cost that is staff time, the part that is saved.
	AssistedMarginalShare = 0.4
	// DigitalMarginalShare is the share of a digital contact's cost that
	// grows with volume (hosting and bandwidth), which is close to nothing.
	DigitalMarginalShare = 0.1
)

// DefaultCosts are the per-contact costs used when a council has not
// imported its own, each with the source it comes from.
func DefaultCosts() []Cost {
	return []Cost{
		{Channel: "phone", FullyLoaded: 2.90, Source: "Socitm Insight (2010): average cost of a council phone contact, the figure councils commonly quote"},
		{Channel: "web", FullyLoaded: 0.32, Source: "Socitm Insight (2010): average cost of a council web contact, the figure councils commonly quote"},
		{Channel: "social", FullyLoaded: 0.32, Source: "assumed equal to web: Socitm Insight (2010) web figure"},
		{Channel: "face-to-face", FullyLoaded: 8.62, Source: "SOCITM channel value benchmarking (2012): average cost of a face-to-face contact"},
	}
}

// CostUsed is the cost of one channel that a report used, with where each
// figure came from.
type CostUsed struct {
	Channel           string  `json:"channel"`
	EffectiveFrom     string  `json:"effective_from,omitempty"`
	FullyLoaded       float64 `json:"fully_loaded_gbp"`
	FullyLoadedSource string  `json:"fully_loaded_source"`
	Marginal          float64 `json:"marginal_gbp"`
	MarginalSource    string  `json:"marginal_source"`
}

// chooseCost picks the cost of channel in force on day, falling back to
// Signpost's defaults and, for a digital channel nobody has costed, to the
// web cost. It also reports whether the cost changes between day and end.
func chooseCost(costs []Cost, channel, phone string, day, end int) (CostUsed, []string) {
	var warnings []string
	pick := func(list []Cost, ch string) (Cost, bool) {
		var cands []Cost
		for _, c := range list {
			if normName(c.Channel) == ch && (c.EffectiveFrom.IsZero() || dayNumber(c.EffectiveFrom) <= day) {
				cands = append(cands, c)
			}
		}
		if len(cands) == 0 {
			return Cost{}, false
		}
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].EffectiveFrom.Before(cands[j].EffectiveFrom) })
		return cands[len(cands)-1], true
	}
	for _, c := range costs {
		if normName(c.Channel) == channel && !c.EffectiveFrom.IsZero() {
			if d := dayNumber(c.EffectiveFrom); d > day && d <= end {
				warnings = append(warnings, fmt.Sprintf("The %s cost changes on %s, during the campaign; the report uses the cost in force when the campaign started.", channel, c.EffectiveFrom.Format(time.DateOnly)))
			}
		}
	}
	c, ok := pick(costs, channel)
	if !ok {
		c, ok = pick(DefaultCosts(), channel)
		if ok {
			c.Source = "Signpost default: " + c.Source
		}
	}
	if !ok && IsDigital(channel, phone) {
		if web, found := pick(costs, "web"); found {
			c, ok = web, true
		} else {
			c, ok = pick(DefaultCosts(), "web")
		}
		c.Channel = channel
		c.Source = "assumed equal to the web cost (" + c.Source + ")"
		warnings = append(warnings, fmt.Sprintf("No cost is recorded for the %s channel; the web cost is used.", channel))
	}
	if !ok {
		warnings = append(warnings, fmt.Sprintf("No cost is recorded for the %s channel; its contacts are valued at £0.", channel))
		return CostUsed{Channel: channel, FullyLoadedSource: "no cost recorded", MarginalSource: "no cost recorded"}, warnings
	}
	u := CostUsed{Channel: channel, FullyLoaded: c.FullyLoaded, FullyLoadedSource: c.Source}
	if !c.EffectiveFrom.IsZero() {
		u.EffectiveFrom = c.EffectiveFrom.Format(time.DateOnly)
	}
	if c.Marginal != nil {
		u.Marginal = *c.Marginal
		u.MarginalSource = c.Source
	} else {
		share, what := AssistedMarginalShare, "staff time only"
		if IsDigital(channel, phone) {
			share, what = DigitalMarginalShare, "hosting and bandwidth only"
		}
		u.Marginal = c.FullyLoaded * share
		u.MarginalSource = fmt.Sprintf("assumption: %.0f%% of the fully-loaded cost (%s); no marginal cost was supplied", share*100, what)
	}
	return u, warnings
}
