package shift

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Formats the report can be written in.
const (
	FormatText = "text"
	FormatJSON = "json"
	FormatCSV  = "csv"
)

// Write renders r in the named format.
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatText, "":
		return WriteText(w, r)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatCSV:
		return WriteCSV(w, r)
	}
	return fmt.Errorf("unknown report format %q (want text, json or csv)", format)
}

// Summary is the board-level paragraph: what the campaign achieved, in
// plain English, with its uncertainty and the cost caveat.
func Summary(r *Report) string {
	var b strings.Builder
	a := r.AvoidedCalls
	fmt.Fprintf(&b, "Between %s and %s the %s campaign avoided an estimated %s calls (%s to %s) about %s, after allowing for the weather, the day of the week and the long-run trend in calls. ",
		longDate(r.Period.Start), longDate(r.Period.End), r.Campaign, roundCount(a.Estimate), roundCount(a.Low), roundCount(a.High), joinAnd(r.Categories))
	if d := r.AddedDigital; d.Estimate >= 0 {
		fmt.Fprintf(&b, "Residents made about %s more contacts online instead (%s to %s). ", roundCount(d.Estimate), roundCount(d.Low), roundCount(d.High))
	} else {
		fmt.Fprintf(&b, "Online contacts did not rise (change %s, %s to %s). ", roundCount(d.Estimate), roundCount(d.Low), roundCount(d.High))
	}
	f, m := r.NetSaving.FullyLoaded, r.NetSaving.Marginal
	fmt.Fprintf(&b, "That is a net saving of %s to %s at fully-loaded cost, or %s to %s at marginal cost; the saving depends heavily on which cost is used, and only the marginal figure is cash that leaves the budget. ",
		roundMoney(f.Low), roundMoney(f.High), roundMoney(m.Low), roundMoney(m.High))
	if a.Low <= 0 && a.High >= 0 {
		b.WriteString("The interval includes zero, so the data cannot show that the campaign avoided any calls. ")
	}
	if r.Naive.Available {
		fmt.Fprintf(&b, "A simple comparison with the same period last year would say %s calls %s; that comparison ignores the difference in weather and the trend. ",
			roundCount(math.Abs(r.Naive.AvoidedCalls)), map[bool]string{true: "fewer", false: "more"}[r.Naive.AvoidedCalls >= 0])
	}
	switch n := len(r.Warnings); n {
	case 0:
	case 1:
		b.WriteString("One caution applies; see the full report.")
	default:
		fmt.Fprintf(&b, "%d cautions apply; see the full report.", n)
	}
	return strings.TrimSpace(b.String())
}

// WriteText writes the report for people: the summary, the figures, how
// they were made and every warning.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Channel shift: %s\n", r.Campaign)
	if r.Description != "" {
		fmt.Fprintf(&b, "%s\n", r.Description)
	}
	fmt.Fprintf(&b, "Campaign %s to %s; baseline fitted on %s to %s; categories %s\n\n",
		r.Period.Start, r.Period.End, r.BaselinePeriod.Start, r.BaselinePeriod.End, strings.Join(r.Categories, ", "))
	fmt.Fprintf(&b, "%s\n\n", wrap(Summary(r), 78))
	row := func(label string, i Interval, money bool) {
		f := formatCount
		if money {
			f = formatMoney
		}
		fmt.Fprintf(&b, "  %-34s %12s   (95%% interval %s to %s)\n", label, f(i.Estimate), f(i.Low), f(i.High))
	}
	b.WriteString("Estimate\n")
	row("Calls avoided", r.AvoidedCalls, false)
	for _, cat := range r.Categories {
		if c, ok := r.ByCategory[cat]; ok {
			row("  "+cat, c.Interval, false)
		}
	}
	row("Added digital contacts", r.AddedDigital, false)
	for _, ch := range sortedKeys(r.ChangeByChannel) {
		row("  change in "+ch, r.ChangeByChannel[ch], false)
	}
	row("Net saving, fully-loaded cost", r.NetSaving.FullyLoaded, true)
	row("Net saving, marginal cost", r.NetSaving.Marginal, true)
	fmt.Fprintf(&b, "  Calls expected without the campaign %s; calls received %s\n\n", formatCount(r.BaselineCalls), formatCount(r.ActualCalls))
	fmt.Fprintf(&b, "%s\n\n", wrap(r.NetSaving.Note, 78))
	b.WriteString("Costs per contact\n")
	for _, c := range r.Costs {
		fmt.Fprintf(&b, "  %-14s fully-loaded £%.2f (%s)\n  %-14s marginal £%.2f (%s)\n", c.Channel, c.FullyLoaded, c.FullyLoadedSource, "", c.Marginal, c.MarginalSource)
	}
	b.WriteString("\nThe simple comparison\n")
	fmt.Fprintf(&b, "%s\n\n", wrap(r.Naive.Explanation, 78))
	if bt := r.Backtest; bt != nil {
		b.WriteString("Backtest\n")
		fmt.Fprintf(&b, "%s\n\n", wrap(fmt.Sprintf("Fitted only on earlier data and run on %s to %s, a year before the campaign, the method finds %s calls avoided (%.1f%% of the %s it expected), where the truth is none; chance alone gives about ±%s.",
			bt.Period.Start, bt.Period.End, formatCount(bt.AvoidedCalls), bt.ErrorPercent, formatCount(bt.BaselineCalls), formatCount(2*bt.NoiseSD)), 78))
	}
	if c := r.Control; c != nil {
		fmt.Fprintf(&b, "Categories not targeted (%s): %s calls avoided (%s to %s)",
			strings.Join(c.Categories, ", "), formatCount(c.AvoidedCalls.Estimate), formatCount(c.AvoidedCalls.Low), formatCount(c.AvoidedCalls.High))
		if d := c.AddedDigital; d != nil {
			fmt.Fprintf(&b, " and %s digital contacts added (%s to %s)", formatCount(d.Estimate), formatCount(d.Low), formatCount(d.High))
		}
		b.WriteString("; each interval should include zero.\n\n")
	}
	b.WriteString("Method\n")
	fmt.Fprintf(&b, "%s\n\n%s\n\n", wrap(r.Model, 78), wrap(r.IntervalMethod, 78))
	b.WriteString("Fit of each baseline\n")
	fmt.Fprintf(&b, "  %-12s %-13s %5s %9s %10s %9s %s\n", "category", "channel", "days", "deviance", "dispersion", "trend/yr", "weather")
	for _, f := range r.Fits {
		form := "multiplies"
		if f.Additive {
			form = "adds"
		}
		fmt.Fprintf(&b, "  %-12s %-13s %5d %8.0f%% %10.2f %+8.1f%% %s: ×%.1f/×%.1f/×%.1f\n", f.Category, f.Channel, f.Days, 100*f.DevianceExplained, f.Dispersion, 100*f.TrendPerYear,
			form, f.SeverityEffect["1"], f.SeverityEffect["2"], f.SeverityEffect["3"])
	}
	b.WriteString("\nWarnings\n")
	if len(r.Warnings) == 0 {
		b.WriteString("  none\n")
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "%s\n", indent(wrap("- "+warn, 76), "  "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCSV writes the figures as one table: measure, category, channel,
// estimate, low, high.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	num := func(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }
	rec := func(measure, cat, ch string, i Interval) []string {
		return []string{r.Campaign, measure, cat, ch, num(i.Estimate), num(i.Low), num(i.High)}
	}
	rows := [][]string{{"campaign", "measure", "category", "channel", "estimate", "low", "high"}}
	rows = append(rows, rec("avoided_calls", "all", "phone", r.AvoidedCalls))
	cats := sortedKeys(r.ByCategory)
	for _, cat := range cats {
		rows = append(rows, rec("avoided_calls", cat, "phone", r.ByCategory[cat].Interval))
	}
	rows = append(rows, rec("added_digital", "all", "digital", r.AddedDigital))
	for _, cat := range cats {
		rows = append(rows, rec("added_digital", cat, "digital", r.ByCategory[cat].AddedDigital))
	}
	for _, ch := range sortedKeys(r.ChangeByChannel) {
		rows = append(rows, rec("channel_change", "all", ch, r.ChangeByChannel[ch]))
	}
	rows = append(rows, rec("net_saving_gbp_fully_loaded", "all", "", r.NetSaving.FullyLoaded))
	rows = append(rows, rec("net_saving_gbp_marginal", "all", "", r.NetSaving.Marginal))
	point := func(v float64) Interval { return Interval{v, v, v} }
	rows = append(rows, rec("baseline_calls", "all", "phone", point(r.BaselineCalls)))
	rows = append(rows, rec("actual_calls", "all", "phone", point(r.ActualCalls)))
	if r.Naive.Available {
		rows = append(rows, rec("naive_avoided_calls", "all", "phone", point(r.Naive.AvoidedCalls)))
	}
	if r.Backtest != nil {
		rows = append(rows, rec("backtest_avoided_calls", "all", "phone", point(r.Backtest.AvoidedCalls)))
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write report csv: %w", err)
	}
	return nil
}

// WriteDailyCSV writes the campaign days behind the charts.
func WriteDailyCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	channels := map[string]bool{}
	for _, d := range r.Daily {
		for ch := range d.ByChannel {
			channels[ch] = true
		}
	}
	chs := sortedKeys(channels)
	head := []string{"date", "severity", "phone_actual", "phone_baseline", "phone_low", "phone_high", "digital_actual", "digital_baseline", "cumulative_saving_gbp"}
	for _, ch := range chs {
		head = append(head, "contacts_"+ch)
	}
	rows := [][]string{head}
	f := func(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }
	for _, d := range r.Daily {
		rec := []string{d.Date, strconv.Itoa(d.Severity), f(d.PhoneActual), f(d.PhoneBaseline), f(d.PhoneLow), f(d.PhoneHigh), f(d.DigitalActual), f(d.DigitalBaseline), f(d.CumulativeSaving)}
		for _, ch := range chs {
			rec = append(rec, f(d.ByChannel[ch]))
		}
		rows = append(rows, rec)
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write daily csv: %w", err)
	}
	return nil
}

// roundCount rounds for reading aloud: to the nearest 100 from a thousand,
// the nearest 10 from a hundred.
func roundCount(v float64) string { return formatCount(roundAbove(v, 1000, 100)) }

// roundMoney rounds pounds to the nearest £1,000 from £10,000 and the
// nearest £100 from £1,000.
func roundMoney(v float64) string { return formatMoney(roundAbove(v, 10000, 1000)) }

// roundAbove rounds to step from big upwards, and to step/10 from big/10.
func roundAbove(v, big, step float64) float64 {
	switch a := math.Abs(v); {
	case a >= big:
		return math.Round(v/step) * step
	case a >= big/10:
		return math.Round(v/(step/10)) * (step / 10)
	}
	return v
}

func longDate(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Format("2 January 2006")
}

func joinAnd(items []string) string {
	s := append([]string(nil), items...)
	sort.Strings(s)
	switch len(s) {
	case 0:
		return "the targeted categories"
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func wrap(s string, width int) string {
	var b strings.Builder
	line := 0
	for _, word := range strings.Fields(s) {
		n := len([]rune(word))
		if line > 0 && line+1+n > width {
			b.WriteByte('\n')
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += n
	}
	return b.String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
