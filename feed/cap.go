package feed

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// CAPNamespace is the XML namespace of OASIS CAP 1.2.
const CAPNamespace = "urn:oasis:names:tc:emergency:cap:1.2"

// capTime is the only dateTime form CAP 1.2 allows: seconds, no fraction,
// and a numeric offset ("+00:00", never "Z").
const capTime = "2006-01-02T15:04:05-07:00"

// Circle is a CAP circle: a centre and a radius in kilometres.
type Circle struct {
	Center   signpost.Point
	RadiusKM float64
}

// Area is where a notice applies, as CAP describes it: a description every
// alert carries, and optionally polygons (rings of points; closed for you
// if the last point differs from the first) and circles.
type Area struct {
	Desc     string
	Polygons [][]signpost.Point
	Circles  []Circle
}

// AreaFunc gives the CAP area for one place a notice names. It returns
// false when it knows nothing about the place; the alert then describes the
// place by its reference alone. A nil AreaFunc is allowed.
type AreaFunc func(signpost.PlaceRef) (Area, bool)

// SchoolRadiusKM is the circle drawn around a school: its grounds and the
// streets where parents drop off.
const SchoolRadiusKM = 0.5

// SchoolArea is a school as a CAP area: a circle of SchoolRadiusKM around it.
func SchoolArea(s signpost.School) Area {
	return Area{
		Desc:    s.Name,
		Circles: []Circle{{Center: signpost.Point{Lon: s.Lon, Lat: s.Lat}, RadiusKM: SchoolRadiusKM}},
	}
}

// RouteArea is a gritting route as a CAP area. CAP has no lines, so the
// route becomes the smallest circle centred on its bounding box that holds
// every point, widened by bufferKM. That over-covers long thin routes, but
// a resident inside it is near the route, which is what an alerting client
// needs; the areaDesc names the route for people.
func RouteArea(r signpost.Route, bufferKM float64) Area {
	a := Area{Desc: r.Name}
	if a.Desc == "" {
		a.Desc = "Gritting route " + r.ID
	}
	var pts []signpost.Point
	for _, p := range r.Line {
		if validPoint(p) {
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 {
		return a
	}
	minLat, maxLat, minLon, maxLon := pts[0].Lat, pts[0].Lat, pts[0].Lon, pts[0].Lon
	for _, p := range pts {
		minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		minLon, maxLon = math.Min(minLon, p.Lon), math.Max(maxLon, p.Lon)
	}
	c := signpost.Point{Lat: (minLat + maxLat) / 2, Lon: (minLon + maxLon) / 2}
	radius := 0.0
	for _, p := range pts {
		radius = math.Max(radius, signpost.DistanceKM(c, p))
	}
	a.Circles = []Circle{{Center: c, RadiusKM: radius + math.Max(bufferKM, 0)}}
	return a
}

func validPoint(p signpost.Point) bool {
	return p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180 // false for NaN too
}

// CAPIdentifier is the identifier of the CAP message for one revision of a
// notice: unique per notice and revision, and free of the spaces, commas,
// "<" and "&" CAP forbids.
func CAPIdentifier(site Site, n signpost.Notice) string {
	return links{host: site.host()}.capID(n)
}

// capSender is the sender every alert from the site carries: its host.
func capSender(site Site) string { return site.host() }

// capCategory maps a notice category to CAP's fixed list. CAP's list is
// about hazards, not council services, so the choice is the nearest fit:
// roads and transport are Transport; bin collection is a municipal utility,
// which CAP files under Infra ("utility, telecommunication, other
// non-transport infrastructure"); health is Health; schools, libraries,
// leisure and anything else are service closures with no better home than
// Other.
func capCategory(c signpost.Category) string {
	switch c {
	case signpost.CategoryRoads, signpost.CategoryTransport:
		return "Transport"
	case signpost.CategoryWaste:
		return "Infra"
	case signpost.CategoryHealth:
		return "Health"
	}
	return "Other"
}

// capAssessment maps a status to CAP urgency, severity and certainty.
// Council disruptions are inconvenient rather than dangerous, so severity
// stops at Moderate (a closure or cancellation); the state is reported by
// the council itself, so certainty is Observed except while gritting, when
// roads may still be icy (Likely). A notice that has ended, or whose
// service is back, is Past.
func capAssessment(n signpost.Notice) (urgency, severity, certainty string) {
	if n.Closed() {
		return "Past", "Minor", "Observed"
	}
	switch n.Status {
	case signpost.StatusClosed, signpost.StatusCancelled:
		urgency, severity, certainty = "Immediate", "Moderate", "Observed"
	case signpost.StatusPartiallyOpen, signpost.StatusDelayed:
		urgency, severity, certainty = "Immediate", "Minor", "Observed"
	case signpost.StatusGrittingInProgress:
		urgency, severity, certainty = "Expected", "Moderate", "Likely"
	case signpost.StatusGritted, signpost.StatusResumed:
		return "Past", "Minor", "Observed"
	default:
		return "Unknown", "Unknown", "Unknown"
	}
	// A disruption announced ahead of time ("schools closed tomorrow") is
	// not yet something to act on.
	if n.Starts != nil && n.Starts.After(n.UpdatedAt) {
		urgency = "Future"
	}
	return urgency, severity, certainty
}

// CAPAlert writes one CAP 1.2 alert for the notice's current revision.
// previous is the revision before it (nil for revision 1): CAP updates and
// cancellations must reference the message they replace, so CAPAlert
// returns an error when a later revision comes without it. The message is
// an Alert for revision 1, an Update for later revisions and a Cancel once
// the notice is closed.
func CAPAlert(w io.Writer, site Site, n signpost.Notice, previous *signpost.Notice, areas AreaFunc) error {
	if previous != nil && (previous.ID != n.ID || previous.Revision >= n.Revision) {
		return fmt.Errorf("cap alert for notice %d revision %d: previous is notice %d revision %d", n.ID, n.Revision, previous.ID, previous.Revision)
	}
	if previous == nil && n.Revision > 1 {
		return fmt.Errorf("cap alert for notice %d revision %d: the previous revision is needed for <references>", n.ID, n.Revision)
	}
	loc := site.location()
	msgType := "Alert"
	switch {
	case previous != nil && n.Closed():
		msgType = "Cancel"
	case previous != nil:
		msgType = "Update"
	}
	var b xmlBuf
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.open("alert", "xmlns", CAPNamespace)
	b.WriteByte('\n')
	b.elem("identifier", CAPIdentifier(site, n))
	b.elem("sender", capSender(site))
	b.elem("sent", n.UpdatedAt.In(loc).Format(capTime))
	b.elem("status", "Actual")
	b.elem("msgType", msgType)
	b.elem("scope", "Public")
	if previous != nil {
		b.elem("references", capSender(site)+","+CAPIdentifier(site, *previous)+","+previous.UpdatedAt.In(loc).Format(capTime))
	}
	urgency, severity, certainty := capAssessment(n)
	b.WriteString("<info>\n")
	b.elem("language", site.language())
	b.elem("category", capCategory(n.Category))
	b.elem("event", n.Category.Label()+": "+n.Status.Label())
	b.elem("urgency", urgency)
	b.elem("severity", severity)
	b.elem("certainty", certainty)
	if n.Starts != nil {
		b.elem("effective", n.Starts.In(loc).Format(capTime))
	}
	if exp := capExpires(n); exp != nil {
		b.elem("expires", exp.In(loc).Format(capTime))
	}
	b.elem("senderName", site.Name)
	b.elem("headline", n.Headline)
	b.elem("description", contentText(n, loc))
	b.elem("web", site.NoticeURL(n.ID))
	for _, p := range n.Places {
		writeCAPArea(&b, site, p, areas)
	}
	b.WriteString("</info>\n")
	b.WriteString("</alert>\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write cap alert: %w", err)
	}
	return nil
}

// capExpires is when the alert stops applying: the notice's end, or its
// closing time if that came first.
func capExpires(n signpost.Notice) *time.Time {
	exp := n.Ends
	if n.ClosedAt != nil && (exp == nil || n.ClosedAt.Before(*exp)) {
		exp = n.ClosedAt
	}
	return exp
}

func writeCAPArea(b *xmlBuf, site Site, p signpost.PlaceRef, areas AreaFunc) {
	var a Area
	ok := false
	if areas != nil {
		a, ok = areas(p)
	}
	desc := strings.TrimSpace(clean(a.Desc))
	if !ok || desc == "" {
		desc = placeDesc(site, p)
	}
	b.WriteString("<area>\n")
	b.elem("areaDesc", desc)
	if ok {
		for _, ring := range a.Polygons {
			if s, valid := capPolygon(ring); valid {
				b.elem("polygon", s)
			}
		}
		for _, c := range a.Circles {
			if validPoint(c.Center) && c.RadiusKM >= 0 && !math.IsInf(c.RadiusKM, 0) {
				b.elem("circle", capPoint(c.Center)+" "+strconv.FormatFloat(c.RadiusKM, 'f', 3, 64))
			}
		}
	}
	b.WriteString("</area>\n")
}

// placeDesc describes a place when the caller has nothing better.
func placeDesc(site Site, p signpost.PlaceRef) string {
	switch p.Kind {
	case signpost.PlaceAll:
		if site.Name == "" {
			return "The whole council area"
		}
		return "The whole " + site.Name + " area"
	case signpost.PlaceSchool:
		return "School " + p.ID
	case signpost.PlaceRoute:
		return "Gritting route " + p.ID
	case signpost.PlaceRound:
		return "Bin round " + p.ID
	case signpost.PlaceWard:
		return "Ward " + p.ID
	}
	return p.String()
}

func capPoint(p signpost.Point) string {
	return strconv.FormatFloat(p.Lat, 'f', 6, 64) + "," + strconv.FormatFloat(p.Lon, 'f', 6, 64)
}

// capPolygon formats a ring as CAP wants it ("lat,lon lat,lon …", at least
// four pairs, first equal to last), closing it if needed. Rings with fewer
// than three usable points are not polygons and are dropped.
func capPolygon(ring []signpost.Point) (string, bool) {
	pts := make([]signpost.Point, 0, len(ring)+1)
	for _, p := range ring {
		if validPoint(p) {
			pts = append(pts, p)
		}
	}
	if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
		pts = pts[:len(pts)-1]
	}
	if len(pts) < 3 {
		return "", false
	}
	pts = append(pts, pts[0])
	parts := make([]string, len(pts))
	for i, p := range pts {
		parts[i] = capPoint(p)
	}
	return strings.Join(parts, " "), true
}

// CAPIndex writes an Atom feed listing the CAP alert of each notice, in the
// order given. capURL gives the URL (absolute, or a path on the site) of a
// notice's alert, e.g. "/cap/42.xml". Each entry's id is the CAP message
// identifier, so a new revision is a new entry, as CAP aggregators expect:
// every CAP message is immutable.
func CAPIndex(w io.Writer, site Site, meta Meta, notices []signpost.Notice, capURL func(signpost.Notice) string) error {
	var b xmlBuf
	loc := site.location()
	l := site.links()
	b.Grow(1024 + 768*len(notices))
	atomHead(&b, site, meta, latest(notices, meta.Updated))
	for _, n := range notices {
		b.WriteString("<entry>\n")
		b.elem("id", l.tag+"cap/"+l.capID(n))
		b.elem("title", n.Headline)
		b.elem("updated", n.UpdatedAt.In(loc).Format(atomTime))
		if !n.PublishedAt.IsZero() {
			b.elem("published", n.PublishedAt.In(loc).Format(atomTime))
		}
		b.empty("link", "rel", "alternate", "type", "application/cap+xml", "href", site.URL(capURL(n)))
		b.empty("link", "rel", "related", "type", "text/html", "href", l.notice(n.ID))
		b.empty("category", "term", string(n.Category), "label", n.Category.Label())
		b.elem("summary", statusLine(n, loc))
		b.WriteString("</entry>\n")
	}
	b.WriteString("</feed>\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write cap index: %w", err)
	}
	return nil
}
