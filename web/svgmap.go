package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/signpost-uk/signpost"
)

// lineStyle is how a route's status is drawn. Colour and dash pattern both
// change, and the text says which is which, so colour is never the only
// signal (WCAG 1.4.1); every colour has at least 3:1 contrast on white
// (WCAG 1.4.11).
type lineStyle struct {
	Stroke string
	Dash   string // SVG stroke-dasharray; "" is solid
	Text   string // "Solid green line"
	Means  string // "gritted"
}

var (
	styleGritted   = lineStyle{Stroke: "#00703c", Text: "Solid green line", Means: "gritted"}
	styleTreating  = lineStyle{Stroke: "#a35200", Dash: "12 6", Text: "Dashed orange line", Means: "gritting in progress"}
	styleUntreated = lineStyle{Stroke: "#505a5f", Dash: "2 6", Text: "Dotted grey line", Means: "no update: not yet treated"}
	styleDisrupted = lineStyle{Stroke: "#d4351c", Dash: "16 5 3 5", Text: "Dash-dot red line", Means: "closed or disrupted"}
)

func routeLineStyle(state *signpost.Notice) lineStyle {
	if state == nil {
		return styleUntreated
	}
	switch state.Status {
	case signpost.StatusGritted:
		return styleGritted
	case signpost.StatusGrittingInProgress:
		return styleTreating
	}
	if state.Status.Disrupted() {
		return styleDisrupted
	}
	return styleUntreated
}

// routeTag is a route's state as a tag; a route with no notice has not been
// reported treated.
func routeTag(state *signpost.Notice) tagView {
	if state == nil {
		return tagView{Label: "No update", Class: "govuk-tag--grey"}
	}
	return statusTag(state.Status)
}

const mapWidth = 640.0

// svgMap draws routes as an inline, accessible SVG: an equirectangular
// projection with longitude scaled by cos(latitude) so shapes are not
// stretched, in a viewBox so it scales down to a 320px screen. Its <title>
// and <desc> summarise it; the route table beside it carries the detail.
func svgMap(id, title string, routes []*signpost.Route, states map[string]*signpost.Notice) template.HTML {
	minLon, minLat, maxLon, maxLat := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, r := range routes {
		for _, p := range r.Line {
			minLon, maxLon = math.Min(minLon, p.Lon), math.Max(maxLon, p.Lon)
			minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		}
	}
	if math.IsInf(minLon, 0) {
		return ""
	}
	kx := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	w, h := (maxLon-minLon)*kx, maxLat-minLat
	const pad = 12.0
	scale := (mapWidth - 2*pad) / math.Max(w, 1e-9)
	if h*scale > mapWidth { // tall areas: fit the height instead
		scale = (mapWidth - 2*pad) / math.Max(h, 1e-9)
	}
	height := math.Max(h*scale+2*pad, 80)

	counts := map[lineStyle]int{}
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="signpost-map">`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-title %s-desc" focusable="false" class="signpost-map__svg">`+"\n", mapWidth, height, id, id)
	var lines strings.Builder
	for _, r := range routes {
		st := routeLineStyle(states[r.ID])
		counts[st]++
		if len(r.Line) < 2 {
			continue
		}
		fmt.Fprintf(&lines, `<polyline fill="none" stroke="%s" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"`, st.Stroke)
		if st.Dash != "" {
			fmt.Fprintf(&lines, ` stroke-dasharray="%s"`, st.Dash)
		}
		lines.WriteString(` points="`)
		for i, p := range r.Line {
			if i > 0 {
				lines.WriteByte(' ')
			}
			x := pad + (p.Lon-minLon)*kx*scale
			y := pad + (maxLat-p.Lat)*scale
			fmt.Fprintf(&lines, "%.1f,%.1f", x, y)
		}
		fmt.Fprintf(&lines, `"><title>%s: %s</title></polyline>`+"\n", html.EscapeString(r.Name), html.EscapeString(routeTag(states[r.ID]).Label))
	}
	var parts []string
	for _, st := range []lineStyle{styleGritted, styleTreating, styleDisrupted, styleUntreated} {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s (%s)", n, st.Means, strings.ToLower(st.Text)))
		}
	}
	desc := fmt.Sprintf("%d gritting %s: %s. The table that follows lists every route and its status.", len(routes), plural(len(routes), "route", "routes"), strings.Join(parts, ", "))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`+"\n", id, html.EscapeString(title))
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`+"\n", id, html.EscapeString(desc))
	fmt.Fprintf(&b, `<rect width="%.0f" height="%.0f" fill="#ffffff" stroke="#b1b4b6"/>`+"\n", mapWidth, height)
	b.WriteString(lines.String())
	b.WriteString("</svg>\n")
	b.WriteString(`<figcaption class="govuk-body-s">Key: <ul class="govuk-list">`)
	for _, st := range []lineStyle{styleGritted, styleTreating, styleDisrupted, styleUntreated} {
		fmt.Fprintf(&b, `<li><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10" width="40" height="10" aria-hidden="true" focusable="false"><line x1="2" y1="5" x2="38" y2="5" stroke="%s" stroke-width="4" stroke-linecap="round"`, st.Stroke)
		if st.Dash != "" {
			fmt.Fprintf(&b, ` stroke-dasharray="%s"`, st.Dash)
		}
		fmt.Fprintf(&b, `/></svg> %s: %s</li>`, st.Text, st.Means)
	}
	b.WriteString("</ul></figcaption>\n</figure>\n")
	// Every string interpolated above is a number, a constant or escaped.
	return template.HTML(b.String())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
