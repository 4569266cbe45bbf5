package shift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// quantity is one figure the report gives an interval for: a weighted sum
// of the per-series estimation errors.
type quantity struct {
	est   float64
	terms []weighted
	draws []float64
	// analytic is the delta-method variance of the error (coefficients
	// plus Poisson-scale noise), series taken as independent.
	analytic float64
}

type weighted struct {
	s int
	w float64
}

func (q *quantity) interval() Interval {
	sort.Float64s(q.draws)
	lo, hi := quantile(q.draws, 0.025), quantile(q.draws, 0.975)
	// The draws are of the error (estimate − truth), so the interval for
	// the truth is the estimate minus the error's upper and lower quantiles.
	// In simulation the bootstrap alone covered the truth only about 85% of
	// the time (it does not see the choice of model form, and resampled
	// residuals understate the rarest days), so the interval is never
	// narrower than the analytic one.
	half := 1.96 * math.Sqrt(q.analytic)
	return Interval{Estimate: q.est, Low: math.Min(q.est-hi, q.est-half), High: math.Max(q.est-lo, q.est+half)}
}

// add puts series s into the quantity with weight w.
func (q *quantity) add(s int, w float64, fs *fittedSeries) {
	q.terms = append(q.terms, weighted{s, w})
	q.analytic += w * w * (fs.paramVar + fs.phi*fs.actualSum)
}

func quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	h := p * float64(len(sorted)-1)
	i := int(h)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

func (e *estimation) run(d Data) (*Report, error) {
	camp := e.camp
	targeted := map[string]bool{}
	for _, c := range camp.Categories {
		targeted[c] = true
		if !slices.Contains(e.categories, c) {
			e.warnf("The campaign targets %q but there are no contact counts for that category.", c)
		}
	}
	if e.start-e.bStart < 365 {
		e.warnf("Only %d days of data before the campaign: with less than a year the baseline has not seen a full winter, so its weather effects and trend are uncertain.", e.start-e.bStart)
	}
	for _, other := range d.Campaigns {
		if other.Name == camp.Name {
			continue
		}
		os, oe := dayNumber(other.Start), dayNumber(other.End)
		if oe >= e.bStart && os < e.start && overlaps(other.Categories, camp.Categories) {
			e.warnf("Campaign %q (%s to %s) ran during this campaign's baseline for the same categories, so the baseline may already include its effect.",
				other.Name, other.Start.Format(time.DateOnly), other.End.Format(time.DateOnly))
		}
	}
	e.checkGaps(targeted)

	// Fit every channel for the targeted categories, and the phone for the
	// others as a control.
	var fits []*fittedSeries
	keys := make([]seriesKey, 0, len(e.series))
	for k := range e.series {
		if targeted[k.cat] || e.kind(k.ch) != kindAssisted {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].cat != keys[j].cat {
			return keys[i].cat < keys[j].cat
		}
		return keys[i].ch < keys[j].ch
	})
	fitted := make([]*fittedSeries, len(keys))
	errs := make([]error, len(keys))
	parallel(len(keys), func(i int) {
		fitted[i], errs[i] = e.fitSeries(keys[i], e.bStart, e.start, e.start, e.end)
	})
	for i, k := range keys {
		if errs[i] != nil {
			if targeted[k.cat] {
				e.warnf("No baseline could be fitted for %s contacts about %s (%v); they are left out.", k.ch, k.cat, errs[i])
			}
			continue
		}
		fitted[i].targeted = targeted[k.cat]
		if fitted[i].newChannel && targeted[k.cat] && fitted[i].actualSum > 0 {
			e.warnf("There were no %s contacts about %s before the campaign, so all %s during it are counted as new (a channel that did not exist has no baseline).", k.ch, k.cat, formatCount(fitted[i].actualSum))
		}
		fits = append(fits, fitted[i])
	}
	r := &Report{
		Campaign:        camp.Name,
		Description:     camp.Description,
		Categories:      slices.Clone(camp.Categories),
		Period:          Period{fmtDay(e.start), fmtDay(e.end)},
		BaselinePeriod:  Period{fmtDay(e.bStart), fmtDay(e.start - 1)},
		ByCategory:      map[string]CategoryResult{},
		ChangeByChannel: map[string]Interval{},
	}
	e.fitWarnings(fits)

	// Costs in force when the campaign started.
	costs := map[string]CostUsed{}
	for _, ch := range e.channels {
		if !slices.ContainsFunc(fits, func(f *fittedSeries) bool { return f.key.ch == ch && f.targeted }) {
			continue
		}
		c, w := chooseCost(d.Costs, ch, e.opt.PhoneChannel, e.start, e.end)
		e.warnings = append(e.warnings, w...)
		costs[ch] = c
		r.Costs = append(r.Costs, c)
	}

	// Point estimates and the weights that turn per-series errors into the
	// errors of each reported figure.
	newQ := func() *quantity { return &quantity{} }
	avoidedCat, addedCat := map[string]*quantity{}, map[string]*quantity{}
	changeCh := map[string]*quantity{}
	total, added, netFull, netMarg, control, controlDigital := newQ(), newQ(), newQ(), newQ(), newQ(), newQ()
	var controlCats []string
	for s, fs := range fits {
		diff := fs.predSum - fs.actualSum // calls avoided, or contacts lost
		switch {
		case !fs.targeted && fs.kind == kindDigital:
			controlDigital.est -= diff
			controlDigital.add(s, -1, fs)
			continue
		case !fs.targeted:
			control.est += diff
			control.add(s, 1, fs)
			controlCats = append(controlCats, fs.key.cat)
			continue
		case fs.kind == kindPhone:
			q := avoidedCat[fs.key.cat]
			if q == nil {
				q = newQ()
				avoidedCat[fs.key.cat] = q
			}
			q.est += diff
			q.add(s, 1, fs)
			total.est += diff
			total.add(s, 1, fs)
			c := costs[fs.key.ch]
			netFull.est += diff * c.FullyLoaded
			netFull.add(s, c.FullyLoaded, fs)
			netMarg.est += diff * c.Marginal
			netMarg.add(s, c.Marginal, fs)
			r.BaselineCalls += fs.predSum
			r.ActualCalls += fs.actualSum
			continue
		}
		q := changeCh[fs.key.ch]
		if q == nil {
			q = newQ()
			changeCh[fs.key.ch] = q
		}
		q.est -= diff
		q.add(s, -1, fs)
		if fs.kind != kindDigital {
			continue
		}
		q = addedCat[fs.key.cat]
		if q == nil {
			q = newQ()
			addedCat[fs.key.cat] = q
		}
		q.est -= diff
		q.add(s, -1, fs)
		added.est -= diff
		added.add(s, -1, fs)
		c := costs[fs.key.ch]
		// Net saving subtracts the cost of the added digital contacts:
		// −cost × (actual − predicted) = cost × diff.
		netFull.est += diff * c.FullyLoaded
		netFull.add(s, c.FullyLoaded, fs)
		netMarg.est += diff * c.Marginal
		netMarg.add(s, c.Marginal, fs)
	}
	all := []*quantity{total, added, netFull, netMarg, control, controlDigital}
	for _, m := range []map[string]*quantity{avoidedCat, addedCat, changeCh} {
		for _, k := range sortedKeys(m) {
			all = append(all, m[k])
		}
	}
	e.bootstrap(fits, all)

	r.AvoidedCalls = total.interval()
	r.AddedDigital = added.interval()
	r.NetSaving.FullyLoaded = netFull.interval()
	r.NetSaving.Marginal = netMarg.interval()
	for _, cat := range camp.Categories {
		cr := CategoryResult{Targeted: true}
		if q := avoidedCat[cat]; q != nil {
			cr.Interval = q.interval()
		}
		if q := addedCat[cat]; q != nil {
			cr.AddedDigital = q.interval()
		}
		for _, fs := range fits {
			if fs.key.cat == cat && fs.kind == kindPhone {
				cr.BaselineCalls += fs.predSum
				cr.ActualCalls += fs.actualSum
			}
		}
		r.ByCategory[cat] = cr
	}
	for ch, q := range changeCh {
		r.ChangeByChannel[ch] = q.interval()
	}
	if len(control.terms) > 0 {
		ci := control.interval()
		slices.Sort(controlCats)
		r.Control = &Control{Categories: slices.Compact(controlCats), AvoidedCalls: ci}
		if len(controlDigital.terms) > 0 {
			di := controlDigital.interval()
			r.Control.AddedDigital = &di
			if di.Low > 0 || di.High < 0 {
				e.warnf("Digital contacts about the categories the campaign did not target (%s) also moved (%s, interval %s to %s): the digital baselines' growth may be extrapolated %s, so the added digital contacts may be %s by a similar share.",
					strings.Join(r.Control.Categories, ", "), formatCount(di.Estimate), formatCount(di.Low), formatCount(di.High),
					map[bool]string{true: "too high", false: "too low"}[di.Estimate < 0], map[bool]string{true: "understated", false: "overstated"}[di.Estimate < 0])
			}
		}
		if ci.Low > 0 || ci.High < 0 {
			e.warnf("The categories the campaign did not target (%s) also show a change in calls (%s, interval %s to %s): something other than the campaign moved demand, so part of the estimate may not be the campaign's doing.",
				strings.Join(r.Control.Categories, ", "), formatCount(ci.Estimate), formatCount(ci.Low), formatCount(ci.High))
		}
	}
	r.NetSaving.Note = costBasisNote(r.NetSaving)
	r.Naive = e.naive(fits)
	r.Backtest = e.backtest(fits)
	r.Daily = e.daily(fits, costs)
	for _, fs := range fits {
		if fs.targeted && !fs.newChannel {
			r.Fits = append(r.Fits, fs.summary)
		}
	}
	r.Model = e.modelText(fits)
	r.IntervalMethod = fmt.Sprintf("95%% interval from %d seeded circular block bootstrap resamples (blocks of %d days, the same days for every channel and category so that shared weather shocks stay together): each resample re-weights the baseline's residuals to refit the model by one linearised (Newton) step, and adds day-to-day noise resampled from the baseline's residuals, aligned by weekday, to the campaign period. The interval is widened where needed to at least the analytic (delta-method, quasi-Poisson) 95%% interval. In simulations with a known effect these intervals covered the truth about 90%% of the time, so treat them as slightly optimistic.",
		e.opt.Draws, e.opt.BlockDays)
	r.Warnings = e.warnings
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r, nil
}

// parallel runs f(0)…f(n-1) on as many goroutines as there are CPUs.
// Each call writes only its own index, so results stay in order and the
// report is the same whatever the scheduling.
func parallel(n int, f func(i int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkGaps warns about days without weather and missing contact rows in
// the baseline and campaign periods of the targeted categories.
func (e *estimation) checkGaps(targeted map[string]bool) {
	noWeather := func(from, to int) (n int, firstDay int) {
		firstDay = -1
		for d := from; d <= to; d++ {
			if e.sev[d-e.first] < 0 {
				if firstDay < 0 {
					firstDay = d
				}
				n++
			}
		}
		return n, firstDay
	}
	if n, f := noWeather(e.start, e.end); n > 0 {
		e.warnf("%d campaign days have no weather recorded (first %s); those days are left out of the estimate, so it covers less than the whole campaign.", n, fmtDay(f))
	}
	if n, f := noWeather(e.bStart, e.start-1); n > 0 {
		e.warnf("%d baseline days have no weather recorded (first %s); the baseline is fitted without them.", n, fmtDay(f))
	}
	for _, k := range sortedSeriesKeys(e.series) {
		if !targeted[k.cat] {
			continue
		}
		y, closed := e.series[k], e.closed[k.ch]
		for _, span := range []struct {
			what     string
			from, to int
		}{{"campaign", e.start, e.end}, {"baseline", e.bStart, e.start - 1}} {
			n, f := 0, -1
			for d := span.from; d <= span.to; d++ {
				i := d - e.first
				if math.IsNaN(y[i]) && !closed[i] {
					if f < 0 {
						f = d
					}
					n++
				}
			}
			if n > 0 {
				e.warnf("%s contacts about %s are missing on %d %s days (first %s); those days are left out.", k.ch, k.cat, n, span.what, fmtDay(f))
			}
		}
	}
	for _, ch := range e.channels {
		n := 0
		closed := e.closed[ch]
		for d := e.start; d <= e.end; d++ {
			wd := weekdayOf(d)
			if closed[d-e.first] && !e.weekdayShut(ch, wd) {
				n++
			}
		}
		if n > 0 {
			e.warnf("The %s channel recorded no contacts at all on %d campaign days when it is normally open (bank holidays or an outage); they are treated as closures.", ch, n)
		}
	}
}

// weekdayShut reports whether the channel is closed on every baseline day
// of that weekday, i.e. the closure is structural.
func (e *estimation) weekdayShut(ch string, wd time.Weekday) bool {
	closed := e.closed[ch]
	for d := e.bStart; d < e.start; d++ {
		if weekdayOf(d) == wd && !closed[d-e.first] {
			return false
		}
	}
	return true
}

func sortedSeriesKeys(m map[seriesKey][]float64) []seriesKey {
	keys := make([]seriesKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].cat != keys[j].cat {
			return keys[i].cat < keys[j].cat
		}
		return keys[i].ch < keys[j].ch
	})
	return keys
}

// fitWarnings flags baselines that fit badly or rely on merged weather levels.
func (e *estimation) fitWarnings(fits []*fittedSeries) {
	mergedUsed := map[int]int{}
	for _, fs := range fits {
		if !fs.targeted {
			continue
		}
		if fs.phi > 2.5 {
			e.warnf("The baseline for %s contacts about %s fits poorly: day-to-day variation is %.1f times what chance alone explains, so the interval is wider and the model may be missing something (a holiday pattern, an earlier campaign, a change in how contacts are counted).", fs.key.ch, fs.key.cat, fs.phi)
		}
		if fs.kind != kindPhone {
			continue
		}
		for lv, to := range fs.cols.merged {
			for t, p := range fs.pred {
				if !math.IsNaN(p) && int(e.sev[e.start+t-e.first]) == lv {
					mergedUsed[lv] = to
				}
			}
		}
	}
	for _, lv := range []int{1, 2, 3} {
		if to, ok := mergedUsed[lv]; ok {
			e.warnf("Weather severity %d happened during the campaign but on fewer than %d days of the baseline; those days are predicted as severity %d, which understates (or overstates) the calls the weather would have caused.", lv, minLevelDays, to)
		}
	}
}

// bootstrap fills every quantity's draws of its estimation error. The
// draws are made in fixed chunks, each with its own seeded stream, so they
// can run in parallel and still come out the same every time.
func (e *estimation) bootstrap(fits []*fittedSeries, qs []*quantity) {
	B, L := e.opt.Draws, e.opt.BlockDays
	n := e.start - e.bStart
	T := e.end - e.start + 1
	L = min(L, n)
	S := len(fits)
	for _, q := range qs {
		q.draws = make([]float64, B)
	}
	nb := (n + L - 1) / L
	// Tables laid out day-major, series-minor, so that each resampled
	// block touches one contiguous row per series set.
	//
	// zc[d*S+s] is series s's cumulative influence up to baseline day d.
	zc := make([]float64, (n+1)*S)
	for si, fs := range fits {
		for d, v := range fs.zcum {
			zc[d*S+si] = v
		}
	}
	// Noise in the campaign's own counts comes from baseline residuals in
	// blocks that start on the same weekday, scaled to the campaign's
	// counts. noise[b][k*S+s] is block b's noise for series s when it
	// borrows the k-th possible start, worked out once for all draws.
	type noiseBlock struct {
		a0, starts int
		tab        []float64
	}
	var noise []noiseBlock
	for t0 := 0; t0 < T; t0 += L {
		ln := min(L, T-t0)
		a0 := ((e.start+t0-e.bStart)%7 + 7) % 7
		starts := 1
		if a0 < n {
			starts = (n-1-a0)/7 + 1
		}
		nbk := noiseBlock{a0: a0, starts: starts, tab: make([]float64, starts*S)}
		for k := 0; k < starts; k++ {
			s := a0 + 7*k
			for si, fs := range fits {
				sq := fs.sqrtAct[t0 : t0+ln]
				var acc float64
				for i := range sq {
					acc += sq[i] * fs.pearson[(s+i)%n]
				}
				nbk.tab[k*S+si] = acc
			}
		}
		noise = append(noise, nbk)
	}
	const chunk = 125
	parallel((B+chunk-1)/chunk, func(c int) {
		rng := rand.New(rand.NewPCG(e.opt.Seed, uint64(c)))
		errs := make([]float64, S)
		for b := c * chunk; b < min(B, (c+1)*chunk); b++ {
			clear(errs)
			// Estimation error of the baseline: resampled blocks of each
			// day's influence on the predicted total. Blocks wrap round the
			// end of the baseline (a circular block bootstrap): otherwise
			// its last days, which carry the most weight in extrapolating
			// the trend, would be drawn too rarely and the interval would
			// come out too narrow.
			for k := 0; k < nb; k++ {
				s := rng.IntN(n)
				ln := min(L, n-k*L)
				if s+ln <= n {
					hi, lo := zc[(s+ln)*S:(s+ln+1)*S], zc[s*S:(s+1)*S]
					for si := range errs {
						errs[si] += hi[si] - lo[si]
					}
				} else {
					end, lo, wrap := zc[n*S:(n+1)*S], zc[s*S:(s+1)*S], zc[(s+ln-n)*S:(s+ln-n+1)*S]
					for si := range errs {
						errs[si] += end[si] - lo[si] + wrap[si]
					}
				}
			}
			for _, nbk := range noise {
				k := rng.IntN(nbk.starts)
				row := nbk.tab[k*S : (k+1)*S]
				for si := range errs {
					errs[si] -= row[si]
				}
			}
			for _, q := range qs {
				var v float64
				for _, t := range q.terms {
					v += t.w * errs[t.s]
				}
				q.draws[b] = v
			}
		}
	})
}
