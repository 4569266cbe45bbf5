package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/signpost-uk/signpost"
)

// lineStyle is how a route's status is drawn, by the stylesheet's
// app-map__route classes. Colour and dash pattern both change, and the text
// says which is which, so colour is never the only signal (WCAG 1.4.1).
type lineStyle struct {
	Class string // extra class on app-map__route
	Text  string // "Solid green line"
	Means string // "gritted"
}

var (
	styleGritted   = lineStyle{Class: "app-map__route--gritted", Text: "Solid green line", Means: "gritted"}
	styleTreating  = lineStyle{Class: "app-map__route--gritting-in-progress", Text: "Dashed blue line", Means: "gritting in progress"}
	styleUntreated = lineStyle{Text: "Dotted grey line", Means: "not yet reported treated"}
	mapStyles      = []lineStyle{styleGritted, styleTreating, styleUntreated}
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
			if math.IsNaN(p.Lon) || math.IsNaN(p.Lat) {
				continue
			}
			minLon, maxLon = math.Min(minLon, p.Lon), math.Max(maxLon, p.Lon)
			minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		}
	}
	if math.IsInf(minLon, 0) || math.IsInf(maxLon, 0) || math.IsInf(minLat, 0) || math.IsInf(maxLat, 0) {
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
	var lines strings.Builder
	for _, r := range routes {
		st := routeLineStyle(states[r.ID])
		counts[st]++
		if len(r.Line) < 2 {
			continue
		}
		// No links on the lines: the SVG is one image (role="img") whose
		// children are presentational; the table beside it links each
		// route. The <title> still shows as a tooltip.
		fmt.Fprintf(&lines, `<polyline class="app-map__route %s" points="`, st.Class)
		for i, p := range r.Line {
			if i > 0 {
				lines.WriteByte(' ')
			}
			fmt.Fprintf(&lines, "%.1f,%.1f", pad+(p.Lon-minLon)*kx*scale, pad+(maxLat-p.Lat)*scale)
		}
		fmt.Fprintf(&lines, `"><title>%s: %s</title></polyline>`+"\n", html.EscapeString(r.Name), html.EscapeString(routeTag(states[r.ID]).Label))
	}
	var parts []string
	for _, st := range mapStyles {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s (%s)", n, st.Means, strings.ToLower(st.Text)))
		}
	}
	desc := fmt.Sprintf("%d gritting %s: %s. The table that follows lists every route and its status.", len(routes), plural(len(routes), "route", "routes"), strings.Join(parts, ", "))

	var b strings.Builder
	b.WriteString(`<figure class="app-map">` + "\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-title %s-desc" class="app-map__svg">`+"\n", mapWidth, height, id, id)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`+"\n", id, html.EscapeString(title))
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`+"\n", id, html.EscapeString(desc))
	b.WriteString(lines.String())
	b.WriteString("</svg>\n")
	b.WriteString(`<figcaption class="app-map__caption">Key<ul class="app-map-key">`)
	for _, st := range mapStyles {
		fmt.Fprintf(&b, `<li class="app-map-key__item"><svg class="app-map-key__swatch" viewBox="0 0 40 12" aria-hidden="true" focusable="false"><path class="app-map__route %s" d="M2 6 H38"/></svg>%s: %s</li>`, st.Class, st.Text, st.Means)
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
