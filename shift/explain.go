package shift

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// naive compares calls in the campaign period with the same dates a year
// earlier and splits the difference from the model into weather and
// calendar, trend, and last year's noise.
func (e *estimation) naive(fits []*fittedSeries) Naive {
	thenStart := dayNumber(dateOf(e.start).AddDate(-1, 0, 0))
	thenEnd := dayNumber(dateOf(e.end).AddDate(-1, 0, 0))
	nv := Naive{Period: Period{fmtDay(thenStart), fmtDay(thenEnd)}}
	if thenStart < e.first {
		nv.Explanation = "There are no contact counts for the same period last year, so no simple year-on-year comparison can be made."
		return nv
	}
	nv.Available = true
	var predThen, trendAdj, predNow, avoided float64
	shift := e.start - thenStart
	for _, fs := range fits {
		if !fs.targeted || fs.kind != kindPhone {
			continue
		}
		y, closed := e.series[fs.key], e.closed[fs.key.ch]
		for d := thenStart; d <= thenEnd; d++ {
			i := d - e.first
			if math.IsNaN(y[i]) || closed[i] {
				continue
			}
			nv.CallsThen += y[i]
			if e.sev[i] >= 0 {
				mu := fs.muAt(d, e.sev[i], 0)
				predThen += mu
				trendAdj += fs.muAt(d, e.sev[i], shift) - mu
			}
		}
		for d := e.start; d <= e.end; d++ {
			i := d - e.first
			if !math.IsNaN(y[i]) && !closed[i] {
				nv.CallsNow += y[i]
			}
		}
		predNow += fs.predSum
		avoided += fs.predSum - fs.actualSum
	}
	for d := thenStart; d <= thenEnd; d++ {
		switch s := e.sev[d-e.first]; {
		case s >= 2:
			nv.SevereDaysThen++
		case s == 1:
			nv.FrostDaysThen++
		}
	}
	for d := e.start; d <= e.end; d++ {
		switch s := e.sev[d-e.first]; {
		case s >= 2:
			nv.SevereDaysNow++
		case s == 1:
			nv.FrostDaysNow++
		}
	}
	nv.AvoidedCalls = nv.CallsThen - nv.CallsNow
	// naive = avoided + (then − predThen) − trendAdj − (predNow − predThen − trendAdj)
	nv.Trend = -trendAdj
	nv.WeatherAndCalendar = -(predNow - predThen - trendAdj)
	nv.Noise = nv.AvoidedCalls - avoided - nv.Trend - nv.WeatherAndCalendar

	var b strings.Builder
	fmt.Fprintf(&b, "Comparing the campaign period with the same dates last year (%s to %s) gives %s calls %s. ",
		nv.Period.Start, nv.Period.End, formatCount(math.Abs(nv.AvoidedCalls)), fewerMore(nv.AvoidedCalls))
	fmt.Fprintf(&b, "The model's estimate is %s calls avoided; the two differ because ", formatCount(avoided))
	fmt.Fprintf(&b, "the weather was different (%d snow and %d frost days last year against %d and %d this time), which accounts for %s; ",
		nv.SevereDaysThen, nv.FrostDaysThen, nv.SevereDaysNow, nv.FrostDaysNow, signedCount(nv.WeatherAndCalendar))
	fmt.Fprintf(&b, "the long-run trend accounts for %s; ", signedCount(nv.Trend))
	fmt.Fprintf(&b, "and last year's calls were %s %s than the model expects for that weather (chance and anything the model leaves out).",
		formatCount(math.Abs(nv.Noise)), higherLower(nv.Noise))
	nv.Explanation = b.String()
	return nv
}

func fewerMore(v float64) string {
	if v >= 0 {
		return "fewer this year"
	}
	return "more this year"
}

func higherLower(v float64) string {
	if v >= 0 {
		return "higher"
	}
	return "lower"
}

func signedCount(v float64) string {
	if v >= 0 {
		return "+" + formatCount(v)
	}
	return "−" + formatCount(-v)
}

// backtest applies the method to the same dates a year before the
// campaign, fitting only on data before them.
func (e *estimation) backtest(fits []*fittedSeries) *Backtest {
	pStart := dayNumber(dateOf(e.start).AddDate(-1, 0, 0))
	pEnd := dayNumber(dateOf(e.end).AddDate(-1, 0, 0))
	if pStart-e.bStart < 365 {
		return nil
	}
	bt := &Backtest{Period: Period{fmtDay(pStart), fmtDay(pEnd)}}
	var variance float64
	var phone []*fittedSeries
	for _, fs := range fits {
		if fs.targeted && fs.kind == kindPhone {
			phone = append(phone, fs)
		}
	}
	placebo := make([]*fittedSeries, len(phone))
	parallel(len(phone), func(i int) {
		placebo[i], _ = e.fitSeries(phone[i].key, e.bStart, pStart, pStart, pEnd)
	})
	for _, p := range placebo {
		if p == nil {
			continue
		}
		bt.BaselineCalls += p.predSum
		bt.ActualCalls += p.actualSum
		variance += p.phi*p.actualSum + p.paramVar
	}
	if bt.BaselineCalls == 0 {
		return nil
	}
	bt.AvoidedCalls = bt.BaselineCalls - bt.ActualCalls
	bt.ErrorPercent = round(100*bt.AvoidedCalls/bt.BaselineCalls, 1)
	bt.NoiseSD = math.Sqrt(variance)
	if math.Abs(bt.AvoidedCalls) > 2*bt.NoiseSD && math.Abs(bt.ErrorPercent) > 5 {
		e.warnf("Backtest: run on the same dates a year earlier, before the campaign, the method finds %s calls avoided (%.1f%% of its baseline) where there should be none. Treat estimates smaller than this as not distinguishable from model error.",
			formatCount(bt.AvoidedCalls), bt.ErrorPercent)
	}
	return bt
}

// daily sums the campaign days across the targeted categories for charts.
func (e *estimation) daily(fits []*fittedSeries, costs map[string]CostUsed) []Day {
	T := e.end - e.start + 1
	days := make([]Day, T)
	phoneVar := make([]float64, T)
	cum := 0.0
	for t := range days {
		d := e.start + t
		days[t] = Day{Date: fmtDay(d), Severity: int(e.sev[d-e.first]), ByChannel: map[string]float64{}}
	}
	for k, y := range e.series {
		if !slices.Contains(e.camp.Categories, k.cat) {
			continue
		}
		for t := range days {
			if v := y[e.start+t-e.first]; !math.IsNaN(v) {
				days[t].ByChannel[k.ch] += v
			}
		}
	}
	for t := range days {
		for _, fs := range fits {
			if !fs.targeted || math.IsNaN(fs.pred[t]) {
				continue
			}
			diff := fs.pred[t] - fs.actual[t]
			switch fs.kind {
			case kindPhone:
				days[t].PhoneActual += fs.actual[t]
				days[t].PhoneBaseline += fs.pred[t]
				phoneVar[t] += fs.predVar[t]
				cum += diff * costs[fs.key.ch].FullyLoaded
			case kindDigital:
				days[t].DigitalActual += fs.actual[t]
				days[t].DigitalBaseline += fs.pred[t]
				cum += diff * costs[fs.key.ch].FullyLoaded
			}
		}
		sd := math.Sqrt(phoneVar[t])
		days[t].PhoneLow = math.Max(0, days[t].PhoneBaseline-1.96*sd)
		days[t].PhoneHigh = days[t].PhoneBaseline + 1.96*sd
		days[t].CumulativeSaving = cum
	}
	return days
}

func (e *estimation) modelText(fits []*fittedSeries) string {
	seasons := false
	var minDE, maxDE = 1.0, 0.0
	var phoneTrend []string
	additive, loglinear := 0, 0
	for _, fs := range fits {
		if !fs.targeted || fs.newChannel {
			continue
		}
		seasons = seasons || fs.cols.seasons
		minDE, maxDE = math.Min(minDE, fs.summary.DevianceExplained), math.Max(maxDE, fs.summary.DevianceExplained)
		if fs.cols.additive {
			additive++
		} else {
			loglinear++
		}
		if fs.kind == kindPhone {
			phoneTrend = append(phoneTrend, fmt.Sprintf("%s %+.1f%%", fs.key.cat, 100*fs.summary.TrendPerYear))
		}
	}
	season := ""
	if seasons {
		season = ", the time of year"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The calls expected without the campaign are predicted from the %d days before it (%s to %s), allowing for the day of the week, how bad the weather was each day%s and a steady long-run trend; calls avoided are the calls expected minus the calls received. ",
		e.start-e.bStart, fmtDay(e.bStart), fmtDay(e.start-1), season)
	b.WriteString("In detail: for each targeted category and each channel, a Poisson regression of daily contacts, fitted by maximum likelihood (Fisher scoring), in one of two forms. ")
	b.WriteString("In the additive form, routine contacts follow a day-of-week pattern and a log-linear trend")
	if seasons {
		b.WriteString(" with an annual cycle (one sine–cosine pair)")
	}
	b.WriteString(", and each weather severity level (frost or ice, snow, heavy snow) adds its own number of contacts, scaled by the day of week and, where the data show one (a score test at the 5% level), with a trend of its own, since weather-driven demand need not fall with routine demand. ")
	b.WriteString("In the log-linear form the same terms multiply instead. The additive form is used unless it fits worse than chance allows and the log-linear form fits clearly better (quasi-AIC difference over 10). ")
	fmt.Fprintf(&b, "Here %d baselines are additive and %d log-linear. ", additive, loglinear)
	b.WriteString("Weather levels seen on fewer than five baseline days borrow the next milder level. Days a channel was closed (such as Sundays) are left out rather than fitted as zeros. The baseline for the campaign uses the weather that actually happened. Added digital contacts are actual minus baseline for the digital channels (web, social, email, apps and Signpost's own pages, feeds and API); face-to-face and other assisted channels are reported but not costed. ")
	fmt.Fprintf(&b, "The baselines explain %.0f–%.0f%% of the deviance; long-run trend in routine phone calls per year: %s.", 100*minDE, 100*maxDE, strings.Join(phoneTrend, ", "))
	return b.String()
}

func costBasisNote(n NetSaving) string {
	f, m := n.FullyLoaded.Estimate, n.Marginal.Estimate
	s := fmt.Sprintf("The saving depends heavily on which cost per contact is used: %s at fully-loaded cost against %s at marginal cost", formatMoney(f), formatMoney(m))
	if m > 0 && f > 0 {
		s += fmt.Sprintf(", a factor of %.1f", f/m)
	}
	return s + ". Fully-loaded costs spread buildings, IT and management over every contact, and little of that falls when one call fewer is made; marginal costs count only what is actually saved, mostly staff time. A cash saving needs the marginal figure; the fully-loaded figure measures capacity freed."
}

// formatCount writes a whole number with thousands separators.
func formatCount(v float64) string {
	neg := v < 0
	n := int64(math.Round(math.Abs(v)))
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg && n != 0 {
		return "−" + b.String()
	}
	return b.String()
}

func formatMoney(v float64) string {
	if v < 0 {
		return "−£" + formatCount(-v)
	}
	return "£" + formatCount(v)
}
