package shift

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// minLevelDays is the fewest fitting days a weather severity level needs
// for its own coefficient; rarer levels borrow the next milder level's.
const minLevelDays = 5

// minBaselineDays is the fewest days before a campaign we fit at all; below
// a year the report still comes out but carries a warning.
const minBaselineDays = 56

type seriesKey struct{ ch, cat string }

type channelKind int

const (
	kindPhone channelKind = iota
	kindDigital
	kindAssisted
)

// estimation holds the indexed data for one campaign.
type estimation struct {
	opt        Options
	camp       Campaign
	start, end int // campaign days, inclusive; end is clipped to the data
	first      int // first day of the day-indexed arrays
	ndays      int
	bStart     int    // first baseline day
	sev        []int8 // by day-first; -1 when no weather is recorded
	series     map[seriesKey][]float64
	channels   []string
	categories []string
	closed     map[string][]bool // channel → day-first → closed (not a gap)
	sinDay     []float64         // annual cycle by day-first
	cosDay     []float64
	warnings   []string
}

func (e *estimation) warnf(format string, args ...any) {
	e.warnings = append(e.warnings, fmt.Sprintf(format, args...))
}

func (e *estimation) kind(ch string) channelKind {
	switch {
	case ch == e.opt.PhoneChannel:
		return kindPhone
	case IsDigital(ch, e.opt.PhoneChannel):
		return kindDigital
	}
	return kindAssisted
}

// Estimate produces the report for the named campaign.
func Estimate(d Data, campaign string, opt Options) (*Report, error) {
	opt = opt.withDefaults()
	var camp *Campaign
	for i := range d.Campaigns {
		if d.Campaigns[i].Name == campaign {
			camp = &d.Campaigns[i]
		}
	}
	if camp == nil {
		return nil, signpost.Errorf(signpost.ENOTFOUND, "no campaign called %q", campaign)
	}
	if camp.End.Before(camp.Start) {
		return nil, signpost.Errorf(signpost.EINVALID, "campaign %q ends before it starts", campaign)
	}
	if len(camp.Categories) == 0 {
		return nil, signpost.Errorf(signpost.EINVALID, "campaign %q targets no categories", campaign)
	}
	e, err := index(d, *camp, opt)
	if err != nil {
		return nil, err
	}
	return e.run(d)
}

// index lays the contacts and weather out as day-indexed arrays.
func index(d Data, camp Campaign, opt Options) (*estimation, error) {
	camp.Categories = slices.Clone(camp.Categories)
	for i, c := range camp.Categories {
		camp.Categories[i] = normName(c)
	}
	opt.PhoneChannel = normName(opt.PhoneChannel)
	e := &estimation{opt: opt, camp: camp, start: dayNumber(camp.Start), end: dayNumber(camp.End)}
	if len(d.Contacts) == 0 {
		return nil, signpost.Errorf(signpost.EINVALID, "there are no contact counts to measure against")
	}
	first, last := math.MaxInt, math.MinInt
	days := make([]int, len(d.Contacts))
	for i, c := range d.Contacts {
		n := dayNumber(c.Date)
		days[i] = n
		first, last = min(first, n), max(last, n)
	}
	if last < e.start {
		return nil, signpost.Errorf(signpost.EINVALID, "the contact counts end on %s, before campaign %q starts", dateOf(last).Format(time.DateOnly), camp.Name)
	}
	if e.start-first < minBaselineDays {
		return nil, signpost.Errorf(signpost.EINVALID, "only %d days of contacts before campaign %q: at least %d are needed to fit a baseline", max(0, e.start-first), camp.Name, minBaselineDays)
	}
	if e.end > last {
		e.warnf("The contact counts end on %s, before the campaign ends on %s; the estimate covers the campaign only up to %s.",
			dateOf(last).Format(time.DateOnly), camp.End.Format(time.DateOnly), dateOf(last).Format(time.DateOnly))
		e.end = last
	}
	e.first, e.ndays = first, last-first+1
	e.bStart = max(first, e.start-opt.BaselineDays)

	e.sinDay, e.cosDay = make([]float64, e.ndays), make([]float64, e.ndays)
	for i := range e.sinDay {
		a := 2 * math.Pi * float64(first+i) / 365.25
		e.sinDay[i], e.cosDay[i] = math.Sin(a), math.Cos(a)
	}
	e.sev = make([]int8, e.ndays)
	for i := range e.sev {
		e.sev[i] = -1
	}
	for _, w := range d.Weather {
		n := dayNumber(w.Date) - first
		if n >= 0 && n < e.ndays {
			e.sev[n] = int8(min(max(w.Severity, 0), 3))
		}
	}

	e.series = map[seriesKey][]float64{}
	chans, cats := map[string]bool{}, map[string]bool{}
	// raw maps the names as given to the series: "Phone " and "phone" are
	// one channel. Normalising once per distinct pair keeps the per-row
	// cost to a single map lookup.
	raw := map[seriesKey][]float64{}
	for i, c := range d.Contacts {
		y, ok := raw[seriesKey{c.Channel, c.Category}]
		if !ok {
			k := seriesKey{normName(c.Channel), normName(c.Category)}
			if y, ok = e.series[k]; !ok {
				y = make([]float64, e.ndays)
				for j := range y {
					y[j] = math.NaN()
				}
				e.series[k] = y
				chans[k.ch], cats[k.cat] = true, true
			}
			raw[seriesKey{c.Channel, c.Category}] = y
		}
		n := days[i] - first
		if math.IsNaN(y[n]) {
			y[n] = 0
		}
		y[n] += float64(c.Count)
	}
	for ch := range chans {
		e.channels = append(e.channels, ch)
	}
	for cat := range cats {
		e.categories = append(e.categories, cat)
	}
	sort.Strings(e.channels)
	sort.Strings(e.categories)
	if _, ok := e.series[seriesKey{opt.PhoneChannel, camp.Categories[0]}]; !ok && !chans[opt.PhoneChannel] {
		return nil, signpost.Errorf(signpost.EINVALID, "there are no %s contacts to measure calls avoided", opt.PhoneChannel)
	}
	e.findClosures()
	return e, nil
}

// findClosures marks the days a channel was shut rather than quiet, so
// that its zeros are neither fitted as low demand nor reported as gaps: a
// weekday on which the channel is nearly always empty (the contact centre
// shut on Sundays), and single days on which a normally busy channel
// recorded nothing at all (bank holidays).
func (e *estimation) findClosures() {
	e.closed = map[string][]bool{}
	for _, ch := range e.channels {
		tot := make([]float64, e.ndays)
		seen := make([]bool, e.ndays)
		for k, y := range e.series {
			if k.ch != ch {
				continue
			}
			for i, v := range y {
				if !math.IsNaN(v) {
					tot[i] += v
					seen[i] = true
				}
			}
		}
		var byWeekday [7][]float64
		for d := e.bStart; d < e.start; d++ {
			i := d - e.first
			if seen[i] {
				wd := weekdayOf(d)
				byWeekday[wd] = append(byWeekday[wd], tot[i])
			}
		}
		var shutWeekday [7]bool
		var median [7]float64
		for wd, vals := range byWeekday {
			if len(vals) == 0 {
				continue
			}
			zeros := 0
			for _, v := range vals {
				if v == 0 {
					zeros++
				}
			}
			shutWeekday[wd] = float64(zeros) >= 0.8*float64(len(vals))
			slices.Sort(vals)
			median[wd] = vals[len(vals)/2]
		}
		closed := make([]bool, e.ndays)
		for i := range closed {
			wd := weekdayOf(e.first + i)
			closed[i] = shutWeekday[wd] || (seen[i] && tot[i] == 0 && median[wd] >= 10)
		}
		e.closed[ch] = closed
	}
}

// normName is how channel and category names are compared: case and
// surrounding spaces do not matter.
func normName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// columns lays out the model's coefficients and evaluates its mean.
type columns struct {
	p        int
	additive bool   // additive weather uplift rather than multiplicative effects
	dow      [7]int // column of each weekday's effect, -1 for the reference
	sevLevel [4]int // severity level used after merging rare levels
	sevCol   [4]int // column of each (merged) level's effect, -1 for the reference
	trend    int
	sevTrend [4]int // column of the bad-weather trend, -1 for none
	sin, cos int
	origin   int         // day at which the trend is zero: the campaign start
	merged   map[int]int // rare level → level it borrows from
	seasons  bool
	// sinDay and cosDay hold the annual cycle for every day from first,
	// computed once per estimate rather than once per day per iteration.
	sinDay, cosDay []float64
	first          int
}

func (c *columns) season(day int) (float64, float64) {
	if i := day - c.first; i >= 0 && i < len(c.sinDay) {
		return c.sinDay[i], c.cosDay[i]
	}
	a := 2 * math.Pi * float64(day) / 365.25
	return math.Sin(a), math.Cos(a)
}

// width of a Jacobian row: level, weekday, severity, trend, sin, cos,
// bad-weather trend.
const designWidth = 7

// row is one day's covariates, worked out once so that the fitting loop
// only multiplies.
type row struct {
	t, sn, cs   float64 // years from the campaign start; annual cycle
	dow         int     // weekday, to index the weekday effects
	sevCol      int32   // column of the day's severity effect, -1 for none
	trendCol    int32   // column of the bad-weather trend, -1 for none
	dowCol      int32   // column of the weekday effect, -1 for the reference
	trendColumn int32   // column of the general trend
}

func (c *columns) row(day int, sev int8, shift int) row {
	r := row{t: float64(day+shift-c.origin) / 365.25, dow: int(weekdayOf(day)), trendColumn: int32(c.trend)}
	if c.seasons {
		r.sn, r.cs = c.season(day)
	}
	r.dowCol = int32(c.dow[r.dow])
	r.sevCol = int32(c.sevCol[c.sevLevel[sev]])
	r.trendCol = int32(c.sevTrend[c.sevLevel[sev]])
	return r
}

// eval returns the expected count on a day (with the trend moved on by
// shift days) and fills the derivatives with respect to the coefficients.
func (c *columns) eval(day int, sev int8, shift int, beta []float64, idx []int32, jac []float64) float64 {
	r := c.row(day, sev, shift)
	var dowExp [7]float64
	c.weekdayFactors(beta, &dowExp)
	return c.evalRow(&r, beta, &dowExp, idx, jac)
}

// weekdayFactors fills exp(weekday effect) for each weekday, which the
// additive form multiplies by.
func (c *columns) weekdayFactors(beta []float64, out *[7]float64) {
	for wd, col := range c.dow {
		out[wd] = 1
		if col >= 0 {
			out[wd] = math.Exp(beta[col])
		}
	}
}

// evalRow is the model's mean and its derivatives on one precomputed day.
//
// The log-linear form is μ = exp(a + weekday + severity + b·t + season +
// c·t·[bad weather]): weather multiplies demand. The additive form is
// μ = weekday × (exp(a + b·t + season) + uplift[severity]·exp(c·t)): bad
// weather adds a number of calls on top of the routine ones, and that
// uplift has its own trend, because routine calls falling each year does
// not mean fewer calls when schools close for snow.
func (c *columns) evalRow(r *row, beta []float64, dowExp *[7]float64, idx []int32, jac []float64) float64 {
	clear(idx)
	clear(jac)
	t := r.t
	if !c.additive {
		eta := beta[0] + beta[r.trendColumn]*t
		if r.dowCol >= 0 {
			eta += beta[r.dowCol]
		}
		if r.sevCol >= 0 {
			eta += beta[r.sevCol]
		}
		if r.trendCol >= 0 {
			eta += beta[r.trendCol] * t
		}
		if c.seasons {
			eta += beta[c.sin]*r.sn + beta[c.cos]*r.cs
		}
		mu := math.Exp(eta)
		jac[0] = mu
		if r.dowCol >= 0 {
			idx[1], jac[1] = r.dowCol, mu
		}
		if r.sevCol >= 0 {
			idx[2], jac[2] = r.sevCol, mu
		}
		idx[3], jac[3] = r.trendColumn, mu*t
		if c.seasons {
			idx[4], jac[4], idx[5], jac[5] = int32(c.sin), mu*r.sn, int32(c.cos), mu*r.cs
		}
		if r.trendCol >= 0 {
			idx[6], jac[6] = r.trendCol, mu*t
		}
		return mu
	}
	d := dowExp[r.dow]
	le := beta[0] + beta[r.trendColumn]*t
	if c.seasons {
		le += beta[c.sin]*r.sn + beta[c.cos]*r.cs
	}
	base := math.Exp(le)
	var uplift, grow float64
	if r.sevCol >= 0 {
		grow = 1
		if r.trendCol >= 0 {
			grow = math.Exp(beta[r.trendCol] * t)
		}
		uplift = beta[r.sevCol] * grow
	}
	mu := d * (base + uplift)
	jac[0] = d * base
	if r.dowCol >= 0 {
		idx[1], jac[1] = r.dowCol, mu
	}
	if r.sevCol >= 0 {
		idx[2], jac[2] = r.sevCol, d*grow
	}
	idx[3], jac[3] = r.trendColumn, d*base*t
	if c.seasons {
		idx[4], jac[4], idx[5], jac[5] = int32(c.sin), d*base*r.sn, int32(c.cos), d*base*r.cs
	}
	if r.trendCol >= 0 {
		idx[6], jac[6] = r.trendCol, d*uplift*t
	}
	return mu
}

// fittedSeries is one channel × category baseline and what it says about
// the campaign period.
type fittedSeries struct {
	key      seriesKey
	kind     channelKind
	targeted bool
	cols     columns
	fit      *poissonFit
	rowDay   []int // baseline day of each fitted row
	phi      float64
	// Campaign period, indexed by day-start; NaN where the day is left out.
	pred, actual, predVar []float64
	predSum, actualSum    float64
	paramVar              float64 // variance of predSum from the coefficients
	newChannel            bool    // no contacts before the campaign: the baseline is zero
	// Bootstrap inputs, indexed by day-bStart over the baseline window.
	zcum    []float64 // cumulative influence of each day's residual on predSum
	pearson []float64 // Pearson residual, 0 where the day was not fitted
	sqrtAct []float64 // √actual per campaign day, 0 where left out
	summary SeriesFit
}

// fitSeries fits one series on days [from, to) in both forms, keeps the
// one that fits better, and predicts days [pFrom, pTo].
func (e *estimation) fitSeries(k seriesKey, from, to, pFrom, pTo int) (*fittedSeries, error) {
	y := e.series[k]
	closed := e.closed[k.ch]
	fs := &fittedSeries{key: k, kind: e.kind(k.ch)}
	var levelDays [4]int
	var levelSum [4]float64
	var wdDays [7]int
	var ys []float64
	var sevs []int8
	for d := from; d < to; d++ {
		i := d - e.first
		if i < 0 || closed[i] || e.sev[i] < 0 || math.IsNaN(y[i]) {
			continue
		}
		fs.rowDay = append(fs.rowDay, d)
		ys = append(ys, y[i])
		sevs = append(sevs, e.sev[i])
		levelDays[e.sev[i]]++
		levelSum[e.sev[i]] += y[i]
		wdDays[weekdayOf(d)]++
	}
	if total := sum(ys); total == 0 {
		return e.newChannel(fs, from, to, pFrom, pTo), nil
	}
	c := columns{origin: e.start, merged: map[int]int{}, sinDay: e.sinDay, cosDay: e.cosDay, first: e.first}
	p := 1
	ref := true
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		c.dow[wd] = -1
		if wdDays[wd] == 0 {
			continue
		}
		if ref {
			ref = false
			continue
		}
		c.dow[wd] = p
		p++
	}
	// Merge rare severity levels into the nearest milder level with data
	// (or the nearest harsher one when there is no milder).
	for lv := 0; lv < 4; lv++ {
		c.sevLevel[lv] = lv
		if levelDays[lv] >= minLevelDays {
			continue
		}
		found := -1
		for m := lv - 1; m >= 0 && found < 0; m-- {
			if levelDays[m] >= minLevelDays {
				found = m
			}
		}
		for m := lv + 1; m < 4 && found < 0; m++ {
			if levelDays[m] >= minLevelDays {
				found = m
			}
		}
		if found < 0 {
			found = 0
		}
		c.sevLevel[lv] = found
		c.merged[lv] = found
	}
	ref = true
	for lv := 0; lv < 4; lv++ {
		c.sevCol[lv] = -1
		if c.sevLevel[lv] != lv || levelDays[lv] == 0 {
			continue
		}
		if ref {
			ref = false
			continue
		}
		c.sevCol[lv] = p
		p++
	}
	for lv := 0; lv < 4; lv++ {
		c.sevCol[lv] = c.sevCol[c.sevLevel[lv]]
	}
	c.trend = p
	p++
	// layout adds the bad-weather trend (optional) and the annual cycle.
	base, pBase := c, p
	layout := func(weatherTrend bool) columns {
		c, p := base, pBase
		for lv := range c.sevTrend {
			c.sevTrend[lv] = -1
		}
		shared := -1
		for lv := 1; lv < 4 && weatherTrend; lv++ {
			if c.sevCol[lv] >= 0 && c.sevLevel[lv] == lv {
				if shared < 0 {
					shared = p
					p++
				}
				c.sevTrend[lv] = shared
			}
		}
		for lv := 0; lv < 4; lv++ {
			c.sevTrend[lv] = c.sevTrend[c.sevLevel[lv]]
		}
		if to-from >= 730 && seasonalTerms {
			c.seasons = true
			c.sin, c.cos = p, p+1
			p += 2
		}
		c.p = p
		return c
	}

	// The additive form reads in a sentence ("snow adds 800 calls a
	// day"), so it is fitted first and kept when its day-to-day variation
	// is no more than chance allows. Otherwise the log-linear form is
	// tried too and kept if it fits clearly better: both have the same
	// number of coefficients, so the dispersion-scaled deviance compares
	// them like (quasi-)AIC.
	calm := levelSum[c.sevLevel[0]] / math.Max(1, float64(levelDays[c.sevLevel[0]]))
	hasWeather := c.sevCol[1] >= 0 || c.sevCol[2] >= 0 || c.sevCol[3] >= 0
	fitBest := func(c columns) (*poissonFit, columns, error) {
		p := c.p
		var best *poissonFit
		var bestCols columns
		var firstErr error
		for _, additive := range []bool{true, false} {
			if additive && !hasWeather {
				continue // no bad weather in the baseline: the two forms are the same
			}
			if !additive && best != nil && best.dispersion() <= goodDispersion {
				break
			}
			cc := c
			cc.additive = additive
			init := make([]float64, p)
			init[0] = math.Log(math.Max(calm, 0.5))
			for lv := 1; lv < 4; lv++ {
				col := cc.sevCol[lv]
				if col < 0 || cc.sevLevel[lv] != lv {
					continue
				}
				mean := levelSum[lv] / float64(levelDays[lv])
				if additive {
					init[col] = mean - calm
				} else {
					init[col] = math.Log(math.Max(mean, 0.5) / math.Max(calm, 0.5))
				}
			}
			rows := make([]row, len(ys))
			for i, d := range fs.rowDay {
				rows[i] = cc.row(d, sevs[i], 0)
			}
			var dowExp [7]float64
			// fitMean evaluates rows 0…n-1 in order for one set of
			// coefficients, so the weekday factors are worked out at row 0.
			m := func(i int, beta []float64, idx []int32, jac []float64) float64 {
				if i == 0 {
					cc.weekdayFactors(beta, &dowExp)
				}
				return cc.evalRow(&rows[i], beta, &dowExp, idx, jac)
			}
			f, err := fitMean(m, ys, p, designWidth, init)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			if best == nil || (best.deviance-f.deviance)/best.dispersion() > strongAIC {
				best, bestCols = f, cc
			}
		}
		if best == nil {
			return nil, c, firstErr
		}
		return best, bestCols, nil
	}
	best, bestCols, err := fitBest(layout(false))
	if err != nil {
		return nil, fmt.Errorf("fit %s contacts about %s: %w", k.ch, k.cat, err)
	}
	// Three or so winters pin a trend in weather-driven demand down
	// poorly, and extrapolating a noisy trend adds error, so it is added
	// only when the data show one: a score test at the 5% level, which
	// needs no second fit unless it passes.
	if hasWeather && weatherTrendScore(best, bestCols, fs.rowDay, ys) > 3.84 {
		if f, cols, err := fitBest(layout(true)); err == nil {
			best, bestCols = f, cols
		}
	}
	p = bestCols.p
	f := best
	fs.cols = bestCols
	c = bestCols
	fs.fit, fs.phi = f, f.dispersion()
	fs.summary = SeriesFit{Category: k.cat, Channel: k.ch, Days: len(ys), Dispersion: round(fs.phi, 2),
		TrendPerYear: round(math.Expm1(f.beta[c.trend]), 4), SeverityEffect: map[string]float64{}, Additive: c.additive}
	if f.nullDev > 0 {
		fs.summary.DevianceExplained = round(1-f.deviance/f.nullDev, 3)
	}
	ix, jx := make([]int32, designWidth), make([]float64, designWidth)
	for lv := 1; lv < 4; lv++ {
		// Effect at the campaign start on a reference weekday.
		calmMu := c.eval(pFrom, 0, 0, f.beta, ix, jx)
		mu := c.eval(pFrom, int8(lv), 0, f.beta, ix, jx)
		fs.summary.SeverityEffect[fmt.Sprint(lv)] = round(mu/calmMu, 2)
	}

	// Predict the evaluation period and the gradient of the predicted total.
	T := pTo - pFrom + 1
	fs.pred, fs.actual, fs.predVar = make([]float64, T), make([]float64, T), make([]float64, T)
	fs.sqrtAct = make([]float64, T)
	g := make([]float64, p)
	tmp := make([]float64, p)
	for t := 0; t < T; t++ {
		d := pFrom + t
		i := d - e.first
		if i >= e.ndays || closed[i] || e.sev[i] < 0 || math.IsNaN(y[i]) {
			fs.pred[t], fs.actual[t], fs.predVar[t] = math.NaN(), math.NaN(), math.NaN()
			continue
		}
		mu := math.Max(c.eval(d, e.sev[i], 0, f.beta, ix, jx), 0)
		fs.pred[t], fs.actual[t] = mu, y[i]
		fs.predSum += mu
		fs.actualSum += y[i]
		fs.sqrtAct[t] = math.Sqrt(max(y[i], 0))
		clear(tmp)
		for j, col := range ix {
			g[col] += jx[j]
			tmp[col] += jx[j]
		}
		fs.predVar[t] = fs.phi * (mu + quad(f.hinv, tmp, p))
	}
	// Each fitted day's influence on predSum: a one-step refit moves the
	// coefficients by I⁻¹ Σ J_i (y_i−μ_i)/μ_i, so predSum moves by
	// Σ_i (J_i·I⁻¹g)(y_i−μ_i)/μ_i.
	v := matVec(f.hinv, g, p)
	for j := range g {
		fs.paramVar += fs.phi * g[j] * v[j]
	}
	nb := to - from
	fs.zcum = make([]float64, nb+1)
	fs.pearson = make([]float64, nb)
	z := make([]float64, nb)
	w := f.width
	for r, d := range fs.rowDay {
		mu := f.mu[r]
		ix, jr := f.jidx[r*w:(r+1)*w], f.jac[r*w:(r+1)*w]
		var cv, h float64
		for k, col := range ix {
			cv += jr[k] * v[col]
			for l, col2 := range ix {
				h += jr[k] * f.hinv[int(col)*p+int(col2)] * jr[l]
			}
		}
		// Fitted residuals are smaller than the noise by the share of
		// the day the fit absorbed (its leverage h); scaling them back up
		// (Davison and Hinkley's modified residuals) stops the bootstrap
		// understating the error on influential days such as the last
		// weeks before the campaign and the rare heavy-snow days.
		h /= mu
		u := (ys[r] - mu) / math.Sqrt(math.Max(1-h, 0.05))
		z[d-from] = cv * u / mu
		fs.pearson[d-from] = u / math.Sqrt(mu)
	}
	for i, zi := range z {
		fs.zcum[i+1] = fs.zcum[i] + zi
	}
	return fs, nil
}

// goodDispersion is the Pearson dispersion below which a fit is as good as
// Poisson noise allows (about four standard errors above 1 for a year or
// more of days), so no other form is tried.
const goodDispersion = 1.2

// weatherTrendScore is the quasi-Poisson score statistic (χ² with one
// degree of freedom) for adding a trend in weather-driven demand to a fit
// without one: the slope of the likelihood in that direction, scaled by
// its variance once the fitted terms have taken their share.
func weatherTrendScore(f *poissonFit, c columns, days []int, y []float64) float64 {
	p, w := c.p, f.width
	b := make([]float64, p)
	var u, ikk float64
	for i, mu := range f.mu {
		ix, jx := f.jidx[i*w:(i+1)*w], f.jac[i*w:(i+1)*w]
		if jx[2] == 0 {
			continue // a calm day: the weather trend does not reach it
		}
		t := float64(days[i]-c.origin) / 365.25
		jk := mu * t // log-linear: ∂μ/∂c = μ·t on bad-weather days
		if c.additive {
			jk = jx[2] * f.beta[ix[2]] * t // additive: weekday × uplift × t
		}
		u += jk * (y[i] - mu) / mu
		ikk += jk * jk / mu
		for k, col := range ix {
			b[col] += jx[k] * jk / mu
		}
	}
	v := matVec(f.hinv, b, p)
	var bhb float64
	for j := range b {
		bhb += b[j] * v[j]
	}
	den := f.dispersion() * (ikk - bhb)
	if den <= 0 {
		return 0
	}
	return u * u / den
}

// strongAIC is the difference in AIC that Burnham and Anderson (2002)
// describe as essentially no support for the worse model.
const strongAIC = 10

// seasonalTerms switches on an annual sine/cosine pair when the baseline
// covers two years or more.
const seasonalTerms = true

func quad(a, x []float64, p int) float64 {
	var s float64
	for i := 0; i < p; i++ {
		if x[i] == 0 {
			continue
		}
		for j := 0; j < p; j++ {
			s += x[i] * a[i*p+j] * x[j]
		}
	}
	return s
}

func matVec(a, x []float64, p int) []float64 {
	out := make([]float64, p)
	for i := 0; i < p; i++ {
		for j := 0; j < p; j++ {
			out[i] += a[i*p+j] * x[j]
		}
	}
	return out
}

// newChannel is the baseline of a series with no contacts before the
// campaign, such as Signpost's own pages launched with it: nothing, known
// exactly, so every contact in the campaign counts as new and adds no
// uncertainty.
func (e *estimation) newChannel(fs *fittedSeries, from, to, pFrom, pTo int) *fittedSeries {
	y, closed := e.series[fs.key], e.closed[fs.key.ch]
	T := pTo - pFrom + 1
	fs.newChannel = true
	fs.fit = &poissonFit{beta: make([]float64, 1)}
	fs.cols = columns{p: 1, trend: 0}
	for i := range fs.cols.dow {
		fs.cols.dow[i] = -1
	}
	for lv := range fs.cols.sevCol {
		fs.cols.sevCol[lv], fs.cols.sevTrend[lv] = -1, -1
	}
	fs.fit.beta[0] = math.Inf(-1)
	fs.pred, fs.actual, fs.predVar, fs.sqrtAct = make([]float64, T), make([]float64, T), make([]float64, T), make([]float64, T)
	for t := 0; t < T; t++ {
		i := pFrom + t - e.first
		if i >= e.ndays || closed[i] || math.IsNaN(y[i]) {
			fs.pred[t], fs.actual[t], fs.predVar[t] = math.NaN(), math.NaN(), math.NaN()
			continue
		}
		fs.actual[t] = y[i]
		fs.actualSum += y[i]
	}
	fs.zcum = make([]float64, to-from+1)
	fs.pearson = make([]float64, to-from)
	fs.summary = SeriesFit{Category: fs.key.cat, Channel: fs.key.ch, SeverityEffect: map[string]float64{}}
	return fs
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

// muAt is the fitted baseline on one day, with its trend moved on by shift days.
func (fs *fittedSeries) muAt(day int, sev int8, shift int) float64 {
	if fs.newChannel {
		return 0
	}
	ix, jx := make([]int32, designWidth), make([]float64, designWidth)
	return math.Max(0, fs.cols.eval(day, sev, shift, fs.fit.beta, ix, jx))
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

func fmtDay(d int) string { return dateOf(d).Format(time.DateOnly) }
