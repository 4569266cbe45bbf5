package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// chartNames are the dashboard's charts, in page order; each is also a
// table name for data.csv.
func chartNames() []string { return []string{"channels", "baseline", "saving", "mix"} }

// Colours and dash patterns for series: the dashes keep lines apart for
// readers who cannot tell the colours apart and on black-and-white prints.
func seriesStyle(i int) (colour, dash string) {
	colours := []string{"#1d70b8", "#d4351c", "#00703c", "#f47738", "#4c2c92", "#505a5f", "#b58840", "#912b88"}
	dashes := []string{"", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4", "12 3 3 3"}
	return colours[i%len(colours)], dashes[i%len(dashes)]
}

type lineSeries struct {
	name   string
	values []float64 // NaN leaves a gap
}

type band struct{ low, high []float64 }

// lineChart draws series over labelled x positions as an SVG with a title
// and description for screen readers; the table beside it carries the data.
func lineChart(id, title, desc string, labels []string, series []lineSeries, b *band, money bool) template.HTML {
	const w, h, left, right, top, bottom = 640.0, 280.0, 64.0, 12.0, 12.0, 56.0
	maxY, minY := 0.0, 0.0
	for _, s := range series {
		for _, v := range s.values {
			if !math.IsNaN(v) {
				maxY, minY = math.Max(maxY, v), math.Min(minY, v)
			}
		}
	}
	if b != nil {
		for _, v := range b.high {
			if !math.IsNaN(v) {
				maxY = math.Max(maxY, v)
			}
		}
	}
	lo, hi, step := niceScale(minY, maxY)
	n := len(labels)
	x := func(i int) float64 {
		if n <= 1 {
			return left
		}
		return left + (w-left-right)*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return top + (h-top-bottom)*(1-(v-lo)/(hi-lo)) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-labelledby="%s-title %s-desc" focusable="false">`, w, h, w, h, id, id)
	fmt.Fprintf(&sb, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, template.HTMLEscapeString(title), id, template.HTMLEscapeString(desc))
	// Grid and y axis labels.
	for v := lo; v <= hi+step/2; v += step {
		label := formatThousands(v)
		if money {
			label = "£" + label
		}
		fmt.Fprintf(&sb, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#b1b4b6" stroke-width="0.5"/>`, left, w-right, y(v), y(v))
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#0b0c0c">%s</text>`, left-6, y(v)+4, label)
	}
	// X labels: about six, evenly spaced.
	every := max(1, n/6)
	for i := 0; i < n; i += every {
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#0b0c0c">%s</text>`, x(i), h-bottom+16, template.HTMLEscapeString(labels[i]))
	}
	if b != nil {
		var pts []string
		for i := 0; i < n; i++ {
			if !math.IsNaN(b.high[i]) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(b.high[i])))
			}
		}
		for i := n - 1; i >= 0; i-- {
			if !math.IsNaN(b.low[i]) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(b.low[i])))
			}
		}
		fmt.Fprintf(&sb, `<polygon points="%s" fill="#1d70b8" fill-opacity="0.15" stroke="none"/>`, strings.Join(pts, " "))
	}
	for si, s := range series {
		colour, dash := seriesStyle(si)
		var path strings.Builder
		pen := false
		for i, v := range s.values {
			if math.IsNaN(v) {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(i), y(v))
			pen = true
		}
		dashAttr := ""
		if dash != "" {
			dashAttr = ` stroke-dasharray="` + dash + `"`
		}
		fmt.Fprintf(&sb, `<path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`, strings.TrimSpace(path.String()), colour, dashAttr)
	}
	// Legend along the bottom.
	lx := left
	for si, s := range series {
		colour, dash := seriesStyle(si)
		dashAttr := ""
		if dash != "" {
			dashAttr = ` stroke-dasharray="` + dash + `"`
		}
		fmt.Fprintf(&sb, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`, lx, lx+24, h-14, h-14, colour, dashAttr)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" font-size="11" fill="#0b0c0c">%s</text>`, lx+28, h-10, template.HTMLEscapeString(s.name))
		lx += 40 + 7*float64(len(s.name))
	}
	if b != nil {
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="24" height="10" fill="#1d70b8" fill-opacity="0.15"/><text x="%.1f" y="%.1f" font-size="11" fill="#0b0c0c">95%% range of the baseline</text>`, lx, h-19, lx+28, h-10)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// niceScale picks axis limits and a tick step of 1, 2 or 5 × 10ⁿ.
func niceScale(lo, hi float64) (float64, float64, float64) {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step, step
}

// mixChart draws each period's channel shares as a stacked horizontal bar.
func mixChart(id, title, desc string, periods []string, channels []string, shares [][]float64) template.HTML {
	const w, left, barH, gap = 640.0, 120.0, 34.0, 18.0
	h := 24 + float64(len(periods))*(barH+gap) + 40
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-labelledby="%s-title %s-desc" focusable="false">`, w, h, w, h, id, id)
	fmt.Fprintf(&sb, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, template.HTMLEscapeString(title), id, template.HTMLEscapeString(desc))
	for pi, p := range periods {
		yy := 12 + float64(pi)*(barH+gap)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="end" fill="#0b0c0c">%s</text>`, left-8, yy+barH/2+4, template.HTMLEscapeString(p))
		xx := left
		for ci := range channels {
			share := shares[pi][ci]
			width := (w - left - 12) * share
			colour, _ := seriesStyle(ci)
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%g" fill="%s" stroke="#ffffff" stroke-width="1"/>`, xx, yy, width, barH, colour)
			if width > 34 {
				fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#ffffff">%.0f%%</text>`, xx+width/2, yy+barH/2+4, 100*share)
			}
			xx += width
		}
	}
	lx := left
	for ci, ch := range channels {
		colour, _ := seriesStyle(ci)
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/><text x="%.1f" y="%.1f" font-size="11" fill="#0b0c0c">%s</text>`, lx, h-24, colour, lx+16, h-14, template.HTMLEscapeString(ch))
		lx += 30 + 7*float64(len(ch))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

func f0(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

// buildChart makes one chart and its table from an estimate.
func buildChart(name string, res *shiftResult) chartView {
	rep := res.rep
	switch name {
	case "channels":
		labels := make([]string, len(res.weeks))
		series := make([]lineSeries, len(res.channels))
		t := tableView{Caption: "Contacts per week by channel, targeted categories", Head: append([]string{"Week starting"}, res.channels...)}
		for ci, ch := range res.channels {
			series[ci] = lineSeries{name: ch, values: make([]float64, len(res.weeks))}
		}
		for wi, wk := range res.weeks {
			labels[wi] = wk.start.Format("2 Jan 06")
			row := []string{wk.start.Format(time.DateOnly)}
			for ci, ch := range res.channels {
				series[ci].values[wi] = wk.counts[ch]
				row = append(row, f0(wk.counts[ch]))
			}
			t.Rows = append(t.Rows, row)
		}
		return chartView{ID: "chart-channels", CSV: name, Title: "Contacts by channel over time",
			Desc:  fmt.Sprintf("Weekly contacts through each channel about %s, from a year before the campaign to its end; the campaign started on %s.", strings.Join(rep.Categories, ", "), res.start.Format("2 January 2006")),
			SVG:   lineChart("chart-channels", "Contacts by channel over time", "Weekly contacts per channel; the table below gives the figures.", labels, series, nil, false),
			Table: t}
	case "baseline":
		n := len(rep.Daily)
		labels := make([]string, n)
		actual, base := make([]float64, n), make([]float64, n)
		b := &band{low: make([]float64, n), high: make([]float64, n)}
		t := tableView{Caption: "Calls each day: received and expected without the campaign", Head: []string{"Date", "Weather severity", "Calls received", "Calls expected", "Expected, low", "Expected, high"}}
		for i, d := range rep.Daily {
			day, _ := time.Parse(time.DateOnly, d.Date)
			labels[i] = day.Format("2 Jan")
			actual[i], base[i], b.low[i], b.high[i] = d.PhoneActual, d.PhoneBaseline, d.PhoneLow, d.PhoneHigh
			if d.PhoneBaseline == 0 && d.PhoneActual == 0 {
				actual[i], base[i], b.low[i], b.high[i] = math.NaN(), math.NaN(), math.NaN(), math.NaN() // closed
			}
			sev := strconv.Itoa(d.Severity)
			if d.Severity < 0 {
				sev = "not recorded"
			}
			t.Rows = append(t.Rows, []string{d.Date, sev, f0(d.PhoneActual), f0(d.PhoneBaseline), f0(d.PhoneLow), f0(d.PhoneHigh)})
		}
		return chartView{ID: "chart-baseline", CSV: name, Title: "Calls received against calls expected",
			Desc: fmt.Sprintf("Daily phone calls during the campaign against the weather-adjusted baseline and its 95%% range. In total %s calls were received against %s expected.", formatThousands(rep.ActualCalls), formatThousands(rep.BaselineCalls)),
			SVG: lineChart("chart-baseline", "Calls received against calls expected", "Daily calls received and expected, with the 95% range of the expectation; the table below gives the figures.",
				labels, []lineSeries{{"calls expected", base}, {"calls received", actual}}, b, false),
			Table: t}
	case "saving":
		n := len(rep.Daily)
		labels := make([]string, n)
		cum := make([]float64, n)
		t := tableView{Caption: "Net saving to date at fully-loaded cost", Head: []string{"Date", "Net saving to date (£)"}}
		for i, d := range rep.Daily {
			day, _ := time.Parse(time.DateOnly, d.Date)
			labels[i] = day.Format("2 Jan")
			cum[i] = d.CumulativeSaving
			t.Rows = append(t.Rows, []string{d.Date, f0(d.CumulativeSaving)})
		}
		return chartView{ID: "chart-saving", CSV: name, Title: "Cumulative net saving",
			Desc: fmt.Sprintf("Running total of the net saving at fully-loaded cost: £%s by the end (95%% interval £%s to £%s). At marginal cost the total is £%s.",
				formatThousands(rep.NetSaving.FullyLoaded.Estimate), formatThousands(rep.NetSaving.FullyLoaded.Low), formatThousands(rep.NetSaving.FullyLoaded.High), formatThousands(rep.NetSaving.Marginal.Estimate)),
			SVG:   lineChart("chart-saving", "Cumulative net saving", "Running total of the net saving in pounds; the table below gives the figures.", labels, []lineSeries{{"net saving to date (fully-loaded cost)", cum}}, nil, true),
			Table: t}
	}
	// mix: the same number of weeks before the campaign against during it.
	var before, during []weekRow
	for _, wk := range res.weeks {
		if wk.start.Before(res.start.AddDate(0, 0, -6)) {
			before = append(before, wk)
		} else {
			during = append(during, wk)
		}
	}
	if len(before) > len(during) {
		before = before[len(before)-len(during):]
	}
	sum := func(ws []weekRow) ([]float64, float64) {
		out := make([]float64, len(res.channels))
		var total float64
		for _, wk := range ws {
			for ci, ch := range res.channels {
				out[ci] += wk.counts[ch]
				total += wk.counts[ch]
			}
		}
		return out, total
	}
	b, bt := sum(before)
	d, dt := sum(during)
	shares := [][]float64{make([]float64, len(b)), make([]float64, len(d))}
	t := tableView{Caption: "Share of contacts by channel, before and during the campaign", Head: []string{"Channel", "Contacts before", "Share before (%)", "Contacts during", "Share during (%)"}}
	for ci, ch := range res.channels {
		if bt > 0 {
			shares[0][ci] = b[ci] / bt
		}
		if dt > 0 {
			shares[1][ci] = d[ci] / dt
		}
		t.Rows = append(t.Rows, []string{ch, f0(b[ci]), strconv.FormatFloat(math.Round(1000*shares[0][ci])/10, 'f', 1, 64), f0(d[ci]), strconv.FormatFloat(math.Round(1000*shares[1][ci])/10, 'f', 1, 64)})
	}
	periods := []string{fmt.Sprintf("%d weeks before", len(before)), fmt.Sprintf("%d weeks during", len(during))}
	return chartView{ID: "chart-mix", CSV: "mix", Title: "Channel mix before and during the campaign",
		Desc:  "Each channel's share of contacts about the targeted categories, in the weeks before the campaign and during it. The weather differs between the periods, so the mix is descriptive; the estimate above allows for it.",
		SVG:   mixChart("chart-mix", "Channel mix before and during the campaign", "Stacked bars of each channel's share of contacts; the table below gives the figures.", periods, res.channels, shares),
		Table: t}
}
