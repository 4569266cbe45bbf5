package web

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// renderFunc renders one URL from a snapshot; ctx is the request's that
// triggered the render.
type renderFunc func(ctx context.Context, snap *snapshot) (*response, error)

// renderTimeout bounds the store queries one render may make.
const renderTimeout = 10 * time.Second

// serveCached answers from the snapshot's cache, rendering on a miss.
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request, key string, render renderFunc) {
	snap, err := s.current(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp, err := snap.cache.get(key, func() (*response, error) {
		// Other requests may be waiting on this render: a client that
		// hangs up must not fail it for them.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), renderTimeout)
		defer cancel()
		return render(ctx, snap)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp.write(w, r)
}

// htmlPage renders a page template into a cacheable response.
func (s *Server) htmlPage(snap *snapshot, status int, name string, pg *page) (*response, error) {
	pg.Now = snap.builtAt
	body, err := s.pages.render(name, pg)
	if err != nil {
		return nil, err
	}
	return newResponse(status, "text/html; charset=utf-8", body, snap.builtAt, s.cfg.CacheControl), nil
}

// errorPage writes an error as a page, or as JSON under /api/. It is not
// cached: error pages are rare and must not depend on the snapshot, which
// may be what failed.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	title := http.StatusText(status)
	switch status {
	case http.StatusBadRequest:
		title = "There is a problem with your request"
	case http.StatusNotFound:
		title = "Page not found"
		if message == "" {
			message = "If you typed the web address, check it is correct. If you pasted the web address, check you copied the entire address."
		}
	case http.StatusForbidden:
		title = "You cannot do this"
	case http.StatusGone:
		title = "This notice has been withdrawn"
	case http.StatusMethodNotAllowed:
		title = "Method not allowed"
		if message == "" {
			message = "This address cannot be used that way."
		}
	case http.StatusInternalServerError:
		title = "Sorry, there is a problem with the service"
		if message == "" {
			message = "Try again later."
		}
	case http.StatusServiceUnavailable:
		title = "Sorry, the service is unavailable"
	}
	if isAPI(r) {
		writeJSONError(w, status, codeForStatus(status), firstNonEmpty(message, title))
		return
	}
	allow := w.Header().Get("Allow")
	body, err := s.pages.render("error", &page{Title: title, Error: true, Now: s.now(), Canonical: "", Data: map[string]string{"Message": message, "Allow": allow}})
	if err != nil {
		s.log.Error("render error page", "err", err)
		http.Error(w, title, status)
		return
	}
	writeUncached(w, r, status, body)
}

// writeUncached writes a page no browser or proxy may store: error pages
// and everything in the staff area.
func writeUncached(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// fail reports err to the user with the status its code maps to; internal
// details go to the log only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := signpost.ErrorCode(err)
	status := httpStatus(code)
	if status >= 500 {
		s.log.Error("request failed", "route", r.Pattern, "code", code, "err", err)
	}
	if isAPI(r) {
		writeJSONError(w, status, code, signpost.ErrorMessage(err))
		return
	}
	msg := signpost.ErrorMessage(err)
	if status >= 500 {
		msg = ""
	}
	s.errorPage(w, r, status, msg)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// --- view models ---

type noticeView struct {
	*signpost.Notice
	Places []link
}

func (snap *snapshot) noticeView(n *signpost.Notice) noticeView {
	v := noticeView{Notice: n}
	for _, p := range n.Places {
		v.Places = append(v.Places, snap.placeLink(p))
	}
	return v
}

func (snap *snapshot) noticeViews(ns []*signpost.Notice) []noticeView {
	out := make([]noticeView, 0, len(ns))
	for _, n := range ns {
		out = append(out, snap.noticeView(n))
	}
	return out
}

// placeLink names a place as residents know it, linking to its page when
// the council holds it.
func (snap *snapshot) placeLink(p signpost.PlaceRef) link {
	switch p.Kind {
	case signpost.PlaceAll:
		return link{Label: "The whole area"}
	case signpost.PlaceSchool:
		if sc := snap.schoolByURN[p.ID]; sc != nil {
			return link{Href: "/schools/" + p.ID, Label: sc.Name}
		}
	case signpost.PlaceRoute:
		if rt := snap.routeByID[p.ID]; rt != nil {
			return link{Href: "/routes/" + p.ID, Label: rt.Name}
		}
	case signpost.PlaceRound:
		if rd := snap.roundByID[p.ID]; rd != nil {
			return link{Href: "/rounds/" + p.ID, Label: fmt.Sprintf("%s bin round %s", rd.Day, rd.ID)}
		}
	case signpost.PlaceWard:
		if wd := snap.wardByCode[p.ID]; wd != nil {
			return link{Href: "/wards/" + p.ID, Label: wd.Name + " ward"}
		}
	}
	return link{Label: p.String()}
}

type schoolView struct {
	*signpost.School
	WardName string
	Tag      tagView
	KM       float64
}

func schoolTag(state *signpost.Notice) tagView {
	if state == nil {
		return tagView{Label: "Open", Class: "govuk-tag--green"}
	}
	if state.Status == signpost.StatusResumed {
		return tagView{Label: "Open", Class: "govuk-tag--green"}
	}
	return statusTag(state.Status)
}

func (snap *snapshot) schoolView(sc *signpost.School) schoolView {
	return schoolView{School: sc, WardName: snap.wardName(sc.WardCode), Tag: schoolTag(snap.schoolState[sc.URN])}
}

type roundView struct {
	*signpost.Round
	Tag        tagView
	ThisWeek   string
	StreamList string
}

func roundTag(state *signpost.Notice) tagView {
	if state == nil || state.Status == signpost.StatusResumed {
		return tagView{Label: "Running as normal", Class: "govuk-tag--green"}
	}
	return statusTag(state.Status)
}

func (snap *snapshot) roundView(rd *signpost.Round, loc *time.Location) roundView {
	v := roundView{Round: rd, Tag: roundTag(snap.roundState[rd.ID]), StreamList: strings.Join(rd.Streams, ", ")}
	cols := snap.collections(rd, snap.builtAt.In(loc), 1)
	if len(cols) > 0 {
		v.ThisWeek = cols[0].Describe()
	}
	return v
}

type routeRow struct {
	ID, Name  string
	Priority  int
	Tag       tagView
	LineStyle string
}

type routeTableView struct {
	Caption string
	Routes  []routeRow
}

func (snap *snapshot) routeTable(caption string, routes []*signpost.Route) *routeTableView {
	t := &routeTableView{Caption: caption}
	for _, rt := range routes {
		st := snap.routeState[rt.ID]
		t.Routes = append(t.Routes, routeRow{ID: rt.ID, Name: rt.Name, Priority: rt.Priority, Tag: routeTag(st), LineStyle: routeLineStyle(st).Text})
	}
	return t
}

// collection is one collection day of a round and the notice disrupting it.
type collection struct {
	Date   time.Time
	Round  *signpost.Round
	Notice *signpost.Notice
}

// Describe says what happens on the day, in words.
func (c collection) Describe() string {
	day := c.Date.Format("Monday 2 January")
	if c.Notice == nil || !c.Notice.Status.Disrupted() {
		return day + ": collected as normal"
	}
	return fmt.Sprintf("%s: collection %s", day, binVerb(c.Notice.Status))
}

// collections lists a round's next n collection days from today, each with
// the notice that disrupts it, by the rule the iCalendar feed uses (package
// feed, RoundCalendar): an open waste notice with a disrupted status naming
// the round, its ward or the whole area, whose window (Starts, or when it
// was published, until Ends, or until closed) covers the day. A
// cancellation wins over a delay.
func (snap *snapshot) collections(rd *signpost.Round, today time.Time, n int) []collection {
	y, m, d := today.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, today.Location())
	for day.Weekday() != rd.Day {
		day = day.AddDate(0, 0, 1)
	}
	var notices []*signpost.Notice
	for i := range snap.notices {
		nt := &snap.notices[i]
		if !nt.Closed() && nt.Category == signpost.CategoryWaste && nt.Status.Disrupted() &&
			(nt.Affects(signpost.PlaceRound, rd.ID) || nt.Affects(signpost.PlaceWard, rd.WardCode)) {
			notices = append(notices, nt)
		}
	}
	out := make([]collection, 0, n)
	for i := 0; i < n; i++ {
		c := collection{Date: day, Round: rd}
		next := day.AddDate(0, 0, 1)
		for _, nt := range notices {
			start := nt.PublishedAt
			if nt.Starts != nil {
				start = *nt.Starts
			}
			if !start.Before(next) || (nt.Ends != nil && !nt.Ends.After(day)) {
				continue
			}
			if c.Notice == nil || (nt.Status == signpost.StatusCancelled || nt.Status == signpost.StatusClosed) && c.Notice.Status != signpost.StatusCancelled && c.Notice.Status != signpost.StatusClosed {
				c.Notice = nt
			}
		}
		out = append(out, c)
		day = next.AddDate(0, 0, 6)
	}
	return out
}

// --- pages ---

type postcodeForm struct {
	Example, Value, Error string
}

func (snap *snapshot) examplePostcode() string {
	for _, sc := range snap.schools {
		if sc.Postcode != "" {
			return sc.Postcode
		}
	}
	return "SW1A 2AA"
}

type categoryGroup struct {
	Category signpost.Category
	Notices  []noticeView
}

func (s *Server) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveCached(w, r, "home", func(ctx context.Context, snap *snapshot) (*response, error) {
			open := snap.openNotices()
			var groups []categoryGroup
			for _, c := range signpost.Categories {
				g := categoryGroup{Category: c}
				for _, n := range open {
					if n.Category == c {
						g.Notices = append(g.Notices, snap.noticeView(n))
					}
				}
				if len(g.Notices) > 0 {
					groups = append(groups, g)
				}
			}
			var resolved []*signpost.Notice
			for i := range snap.notices {
				n := &snap.notices[i]
				if n.Closed() && sameDay(snap.builtAt, *n.ClosedAt) {
					resolved = append(resolved, n)
				}
			}
			updated := snap.builtAt
			if len(snap.notices) > 0 {
				updated = snap.notices[0].UpdatedAt
			}
			return s.htmlPage(snap, http.StatusOK, "home", &page{
				Title:     "Service disruptions today",
				Canonical: "/",
				Data: map[string]any{
					"Groups":   groups,
					"Resolved": resolved,
					"Summary":  snap.summary(),
					"Updated":  updated,
					"Form":     postcodeForm{Example: snap.examplePostcode()},
				},
			})
		})
	})
}

// maxPostcodeInput bounds what we even try to read as a postcode.
const maxPostcodeInput = 64

func (s *Server) handleArea() http.Handler {
	const nearest, maxKM = 5, 5.0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, has := queryParam(r.URL.RawQuery, "postcode")
		if !has {
			// Arriving from the menu: just the form.
			s.serveCached(w, r, "area-form", func(ctx context.Context, snap *snapshot) (*response, error) {
				return s.htmlPage(snap, http.StatusOK, "area", &page{
					Title: "Check your area", Canonical: "/area",
					Data: map[string]any{"Known": false, "Blank": true, "Form": postcodeForm{Example: snap.examplePostcode()}},
				})
			})
			return
		}
		if len(raw) > maxPostcodeInput {
			raw = raw[:maxPostcodeInput]
		}
		s.count(channelWeb, "")
		pc, err := signpost.NormalizePostcode(raw)
		if err != nil {
			msg := signpost.ErrorMessage(err)
			snap, serr := s.current(r.Context())
			if serr != nil {
				s.fail(w, r, serr)
				return
			}
			if strings.TrimSpace(raw) == "" {
				msg = "Enter a postcode, like " + snap.examplePostcode()
			}
			resp, rerr := s.htmlPage(snap, http.StatusBadRequest, "area", &page{
				Title:     "Check your area",
				Error:     true,
				Canonical: "/area",
				Data: map[string]any{
					"Form": postcodeForm{Example: snap.examplePostcode(), Value: strings.ToValidUTF8(raw, ""), Error: msg},
				},
			})
			if rerr != nil {
				s.fail(w, r, rerr)
				return
			}
			resp.write(w, r)
			return
		}
		s.serveCached(w, r, "area:"+pc, func(ctx context.Context, snap *snapshot) (*response, error) {
			form := postcodeForm{Example: snap.examplePostcode()}
			loc, err := s.deps.Places.LookupPostcode(ctx, pc)
			if signpost.ErrorCode(err) == signpost.ENOTFOUND {
				return s.htmlPage(snap, http.StatusOK, "area", &page{
					Title:     "No information for " + pc,
					Canonical: "/area",
					Data:      map[string]any{"Postcode": pc, "Known": false, "Form": form},
				})
			}
			if err != nil {
				return nil, fmt.Errorf("look up postcode: %w", err)
			}
			var schools []schoolView
			for _, ns := range snap.nearestSchools(loc.Lat, loc.Lon, nearest, maxKM) {
				v := snap.schoolView(ns.School)
				v.KM = ns.KM
				schools = append(schools, v)
			}
			var rounds []roundView
			for _, rd := range snap.roundBySector[signpost.PostcodeSector(pc)] {
				rounds = append(rounds, snap.roundView(rd, s.loc))
			}
			routes := snap.routesInWard(loc.WardCode)
			wardName := snap.wardName(loc.WardCode)
			return s.htmlPage(snap, http.StatusOK, "area", &page{
				Title:     "Your area: " + pc,
				Canonical: "/area",
				FeedQuery: "?ward=" + loc.WardCode,
				FeedTitle: " in " + wardName,
				Data: map[string]any{
					"Postcode": pc,
					"Known":    true,
					"WardCode": loc.WardCode,
					"WardName": wardName,
					"Schools":  schools,
					"MaxKM":    maxKM,
					"Rounds":   rounds,
					"Routes":   snap.routeTable("Gritting routes through "+wardName, routes),
					"Map":      svgMap("area-map", "Map of gritting routes through "+wardName, routes, snap.routeState),
					"Notices":  snap.noticeViews(snap.areaNotices(loc.WardCode, schools, rounds, routes)),
					"Form":     form,
				},
			})
		})
	})
}

// areaNotices are the open notices naming a ward, the whole area, or any
// of the schools, rounds and routes a postcode page shows.
func (snap *snapshot) areaNotices(ward string, schools []schoolView, rounds []roundView, routes []*signpost.Route) []*signpost.Notice {
	var out []*signpost.Notice
	for _, n := range snap.openNotices() {
		hit := n.Affects(signpost.PlaceWard, ward)
		for _, sc := range schools {
			hit = hit || n.Affects(signpost.PlaceSchool, sc.URN)
		}
		for _, rd := range rounds {
			hit = hit || n.Affects(signpost.PlaceRound, rd.ID)
		}
		for _, rt := range routes {
			hit = hit || n.Affects(signpost.PlaceRoute, rt.ID)
		}
		if hit {
			out = append(out, n)
		}
	}
	return out
}

// parseNoticeID reads a positive notice id or reports ENOTFOUND: a
// malformed id names no notice.
func parseNoticeID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, signpost.Errorf(signpost.ENOTFOUND, "There is no notice %q.", truncateRunes(s, 20))
	}
	return id, nil
}

func truncateRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// noticeWithHistory finds a notice in the snapshot or, for old closed ones,
// in the store, with its revisions newest first.
func (s *Server) noticeWithHistory(ctx context.Context, snap *snapshot, id int64) (signpost.Notice, []signpost.Notice, error) {
	var n signpost.Notice
	if p := snap.noticeByID[id]; p != nil {
		n = *p
	} else {
		var err error
		if n, err = s.deps.Notices.Notice(ctx, id); err != nil {
			return n, nil, fmt.Errorf("notice %d: %w", id, err)
		}
	}
	if n.RetractedAt != nil {
		return n, nil, signpost.Errorf(signpost.EGONE, "This notice was withdrawn on %s because it was wrong or no longer applies. Check current service disruptions for up-to-date information.",
			n.RetractedAt.In(s.loc).Format("2 January 2006 at 3:04pm"))
	}
	revs, err := s.deps.Notices.NoticeRevisions(ctx, id)
	if err != nil {
		return n, nil, fmt.Errorf("notice %d revisions: %w", id, err)
	}
	for i, j := 0, len(revs)-1; i < j; i, j = i+1, j-1 {
		revs[i], revs[j] = revs[j], revs[i]
	}
	return n, revs, nil
}

func (s *Server) handleNotice() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := parseNoticeID(r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		category := signpost.Category("")
		if snap := s.snap.Load(); snap != nil && snap.noticeByID[id] != nil {
			category = snap.noticeByID[id].Category
		}
		s.count(channelWeb, category)
		s.serveCached(w, r, "notice:"+strconv.FormatInt(id, 10), func(ctx context.Context, snap *snapshot) (*response, error) {
			n, revs, err := s.noticeWithHistory(ctx, snap, id)
			if err != nil {
				return nil, err
			}
			view := snap.noticeView(&n)
			return s.htmlPage(snap, http.StatusOK, "notice", &page{
				Title:       n.Headline,
				Canonical:   "/notices/" + strconv.FormatInt(id, 10),
				Breadcrumbs: []link{{Href: "/", Label: "Service disruptions"}},
				FeedQuery:   "?category=" + string(n.Category),
				FeedTitle:   ": " + strings.ToLower(n.Category.Label()),
				JSONLD:      s.specialAnnouncement(snap, &n),
				Data:        map[string]any{"Notice": view, "Revisions": revs},
			})
		})
	})
}

// specialAnnouncement is the schema.org description of a notice that
// search engines show for closures.
func (s *Server) specialAnnouncement(snap *snapshot, n *signpost.Notice) map[string]any {
	url := s.cfg.BaseURL + "/notices/" + strconv.FormatInt(n.ID, 10)
	ld := map[string]any{
		"@context":     "https://schema.org",
		"@type":        "SpecialAnnouncement",
		"name":         n.Headline,
		"text":         n.Body,
		"url":          url,
		"datePosted":   n.PublishedAt.In(s.loc).Format(time.RFC3339),
		"dateModified": n.UpdatedAt.In(s.loc).Format(time.RFC3339),
		"publisher":    map[string]any{"@type": "GovernmentOrganization", "name": s.cfg.CouncilName},
		"spatialCoverage": map[string]any{
			"@type": "AdministrativeArea",
			"name":  s.cfg.CouncilName,
		},
	}
	if n.Ends != nil {
		ld["expires"] = n.Ends.In(s.loc).Format(time.RFC3339)
	} else if n.ClosedAt != nil {
		ld["expires"] = n.ClosedAt.In(s.loc).Format(time.RFC3339)
	}
	if n.Category == signpost.CategorySchools {
		ld["schoolClosuresInfo"] = url
	}
	var locs []map[string]any
	for _, p := range n.Places {
		if p.Kind == signpost.PlaceSchool {
			if sc := snap.schoolByURN[p.ID]; sc != nil {
				locs = append(locs, map[string]any{
					"@type":   "School",
					"name":    sc.Name,
					"address": map[string]any{"@type": "PostalAddress", "postalCode": sc.Postcode, "addressCountry": "GB"},
					"geo":     map[string]any{"@type": "GeoCoordinates", "latitude": sc.Lat, "longitude": sc.Lon},
				})
			}
		}
	}
	if len(locs) > 0 {
		ld["announcementLocation"] = locs
	}
	return ld
}

func (s *Server) handleSchool() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		urn := r.PathValue("urn")
		s.serveCached(w, r, "school:"+urn, func(ctx context.Context, snap *snapshot) (*response, error) {
			sc := snap.schoolByURN[urn]
			if sc == nil {
				return nil, signpost.Errorf(signpost.ENOTFOUND, "We have no school with reference number %q.", truncateRunes(urn, 20))
			}
			state := snap.schoolState[sc.URN]
			lead := "Open as normal: we have no closure notice for this school."
			if state != nil {
				lead = state.Headline
			}
			facts := []fact{
				{Key: "Reference number (URN)", Value: sc.URN},
				{Key: "Phase", Value: sc.Phase},
				{Key: "Ward", Value: snap.wardName(sc.WardCode), Href: "/wards/" + sc.WardCode},
				{Key: "Postcode", Value: sc.Postcode, Href: "/area?postcode=" + sc.Postcode},
			}
			if sc.Phone != "" {
				facts = append(facts, fact{Key: "Phone", Value: sc.Phone, Tel: telNumber(sc.Phone)})
			}
			return s.htmlPage(snap, http.StatusOK, "place", &page{
				Title:       sc.Name,
				Canonical:   "/schools/" + sc.URN,
				Breadcrumbs: []link{{Href: "/", Label: "Service disruptions"}, {Href: "/schools", Label: "Schools"}},
				FeedQuery:   "?ward=" + sc.WardCode,
				FeedTitle:   " in " + snap.wardName(sc.WardCode),
				Data: placeData{
					Caption: "School", Tag: schoolTag(state), Lead: lead, Facts: facts, Subscribe: s.subscribeTopic("school", sc.URN),
					Notices: snap.noticeViews(snap.noticesFor(signpost.PlaceSchool, sc.URN, sc.WardCode)),
				},
			})
		})
	})
}

// fact is one row of a place's summary list. A phone number goes in Tel,
// not Href: html/template only trusts http(s) and relative URLs in href, so
// the template writes the "tel:" scheme itself and the number stays data.
type fact struct{ Key, Value, Href, Tel string }

// telNumber keeps the digits of a phone number (and a leading +) for a
// tel: link; what is left is safe in any URL.
func telNumber(phone string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(phone) {
		if r >= '0' && r <= '9' || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

type placeData struct {
	Caption, Lead string
	Tag           tagView
	Facts         []fact
	Map           template.HTML
	Routes        *routeTableView
	Schools       []schoolView
	Rounds        []roundView
	Upcoming      []string
	RoundID       string
	Notices       []noticeView
	// Subscribe is the topic of the page's "Get e-mail updates" link.
	Subscribe string
}

func (s *Server) handleRoute() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		s.serveCached(w, r, "route:"+id, func(ctx context.Context, snap *snapshot) (*response, error) {
			rt := snap.routeByID[id]
			if rt == nil {
				return nil, signpost.Errorf(signpost.ENOTFOUND, "We have no gritting route %q.", truncateRunes(id, 20))
			}
			state := snap.routeState[rt.ID]
			var wards []string
			for _, w := range rt.Wards {
				wards = append(wards, snap.wardName(w))
			}
			lead := "We have no report of this route being treated yet."
			if state != nil {
				lead = state.Headline
			}
			routes := []*signpost.Route{rt}
			return s.htmlPage(snap, http.StatusOK, "place", &page{
				Title:       rt.Name,
				Canonical:   "/routes/" + rt.ID,
				Breadcrumbs: []link{{Href: "/", Label: "Service disruptions"}, {Href: "/routes", Label: "Gritting routes"}},
				FeedQuery:   "?category=roads",
				FeedTitle:   ": roads",
				Data: placeData{
					Caption: "Gritting route " + rt.ID, Tag: routeTag(state), Lead: lead,
					Facts: []fact{
						{Key: "Priority", Value: strconv.Itoa(rt.Priority) + " (1 is treated first)"},
						{Key: "Length", Value: fmt.Sprintf("%.1f km", rt.LengthKM)},
						{Key: "Wards", Value: strings.Join(wards, ", ")},
					},
					Map:     svgMap("route-map", "Map of "+rt.Name, routes, snap.routeState),
					Routes:  snap.routeTable("Status of "+rt.Name, routes),
					Notices: snap.noticeViews(snap.noticesFor(signpost.PlaceRoute, rt.ID, rt.Wards...)),
				},
			})
		})
	})
}

func (s *Server) handleWard() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := r.PathValue("code")
		s.serveCached(w, r, "ward:"+code, func(ctx context.Context, snap *snapshot) (*response, error) {
			wd := snap.wardByCode[code]
			if wd == nil {
				return nil, signpost.Errorf(signpost.ENOTFOUND, "We have no ward %q.", truncateRunes(code, 20))
			}
			routes := snap.routesInWard(wd.Code)
			var schools []schoolView
			for _, sc := range snap.schoolsInWard(wd.Code) {
				schools = append(schools, snap.schoolView(sc))
			}
			var rounds []roundView
			for _, rd := range snap.roundsInWard(wd.Code) {
				rounds = append(rounds, snap.roundView(rd, s.loc))
			}
			data := placeData{
				Caption: "Ward", Facts: []fact{{Key: "Ward code", Value: wd.Code}}, Subscribe: s.subscribeTopic("ward", wd.Code),
				Schools: schools, Rounds: rounds,
				Notices: snap.noticeViews(snap.noticesFor(signpost.PlaceWard, wd.Code)),
			}
			if len(routes) > 0 {
				data.Map = svgMap("ward-map", "Map of gritting routes in "+wd.Name, routes, snap.routeState)
				data.Routes = snap.routeTable("Gritting routes in "+wd.Name, routes)
			}
			return s.htmlPage(snap, http.StatusOK, "place", &page{
				Title:       wd.Name,
				Canonical:   "/wards/" + wd.Code,
				Breadcrumbs: []link{{Href: "/", Label: "Service disruptions"}, {Href: "/wards", Label: "Wards"}},
				FeedQuery:   "?ward=" + wd.Code,
				FeedTitle:   " in " + wd.Name,
				Data:        data,
			})
		})
	})
}

func (s *Server) handleRound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		s.serveCached(w, r, "round:"+id, func(ctx context.Context, snap *snapshot) (*response, error) {
			rd := snap.roundByID[id]
			if rd == nil {
				return nil, signpost.Errorf(signpost.ENOTFOUND, "We have no bin collection round %q.", truncateRunes(id, 20))
			}
			state := snap.roundState[rd.ID]
			var upcoming []string
			for _, c := range snap.collections(rd, snap.builtAt.In(s.loc), 4) {
				upcoming = append(upcoming, c.Describe())
			}
			lead := "Collections are running as normal."
			if state != nil {
				lead = state.Headline
			}
			return s.htmlPage(snap, http.StatusOK, "place", &page{
				Title:       fmt.Sprintf("%s bin collection round %s", rd.Day, rd.ID),
				Canonical:   "/rounds/" + rd.ID,
				Breadcrumbs: []link{{Href: "/", Label: "Service disruptions"}, {Href: "/rounds", Label: "Bin collection rounds"}},
				FeedQuery:   "?ward=" + rd.WardCode,
				FeedTitle:   " in " + snap.wardName(rd.WardCode),
				Data: placeData{
					Caption: "Bin collection round", Tag: roundTag(state), Lead: lead,
					Facts: []fact{
						{Key: "Collection day", Value: rd.Day.String()},
						{Key: "Collects", Value: strings.Join(rd.Streams, ", ")},
						{Key: "Postcodes", Value: rd.Sector + " (postcode sector)"},
						{Key: "Ward", Value: snap.wardName(rd.WardCode), Href: "/wards/" + rd.WardCode},
					},
					Upcoming: upcoming, RoundID: rd.ID, Subscribe: s.subscribeTopic("round", rd.ID),
					Notices: snap.noticeViews(snap.noticesFor(signpost.PlaceRound, rd.ID, rd.WardCode)),
				},
			})
		})
	})
}

type wardRow struct {
	Code, Name string
	Notices    int
}

// handleList serves the index pages: /schools, /routes, /wards, /rounds
// and /map.
func (s *Server) handleList(kind string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveCached(w, r, "list:"+kind, func(ctx context.Context, snap *snapshot) (*response, error) {
			pg := &page{Canonical: "/" + kind, Breadcrumbs: []link{{Href: "/", Label: "Service disruptions"}}}
			data := map[string]any{}
			switch kind {
			case "schools":
				pg.Title = "Schools"
				var rows []schoolView
				for i := range snap.schools {
					rows = append(rows, snap.schoolView(&snap.schools[i]))
				}
				m := snap.summary()
				data["Lead"] = fmt.Sprintf("%d of %d schools are closed today.", m.SchoolsClosed, m.Schools)
				data["Schools"] = rows
				data["Empty"] = emptyIf(len(rows) == 0, "We have no schools on record.")
				pg.FeedQuery, pg.FeedTitle = "?category=schools", ": schools"
			case "routes", "map":
				pg.Title = "Gritting routes"
				if kind == "map" {
					pg.Title = "Map of gritting routes"
				}
				routes := make([]*signpost.Route, len(snap.routes))
				for i := range snap.routes {
					routes[i] = &snap.routes[i]
				}
				m := snap.summary()
				data["Lead"] = fmt.Sprintf("%d of %d gritting routes have been treated; %d are in progress. Priority 1 routes are treated first.", m.RoutesTreated, m.Routes, m.RoutesTreating)
				data["Map"] = svgMap("map", "Map of "+s.cfg.CouncilName+" gritting routes", routes, snap.routeState)
				data["Routes"] = snap.routeTable("Every gritting route and its status", routes)
				data["Empty"] = emptyIf(len(routes) == 0, "We have no gritting routes on record.")
				pg.FeedQuery, pg.FeedTitle = "?category=roads", ": roads"
			case "wards":
				pg.Title = "Wards"
				var rows []wardRow
				for _, wd := range snap.wards {
					rows = append(rows, wardRow{Code: wd.Code, Name: wd.Name, Notices: len(snap.noticesFor(signpost.PlaceWard, wd.Code))})
				}
				data["Wards"] = rows
				data["Empty"] = emptyIf(len(rows) == 0, "We have no wards on record.")
			case "rounds":
				pg.Title = "Bin collection rounds"
				var rows []roundView
				for i := range snap.rounds {
					rows = append(rows, snap.roundView(&snap.rounds[i], s.loc))
				}
				data["Rounds"] = rows
				data["Empty"] = emptyIf(len(rows) == 0, "We have no bin collection rounds on record.")
				pg.FeedQuery, pg.FeedTitle = "?category=waste", ": waste"
			}
			pg.Data = data
			return s.htmlPage(snap, http.StatusOK, "list", pg)
		})
	})
}

func emptyIf(cond bool, msg string) string {
	if cond {
		return msg
	}
	return ""
}

// handleBrandCSS serves the council's colour as a stylesheet, since the CSP
// allows no inline style. The header text is white unless the brand colour
// is too light for it (WCAG 1.4.3 wants 4.5:1), when it is near-black.
func (s *Server) handleBrandCSS() http.Handler {
	c := s.cfg.BrandColour
	text := "#ffffff"
	if contrast(c, "#ffffff") < 4.5 {
		text = "#0b0c0c"
	}
	css := fmt.Sprintf(":root{--brand-colour:%s;--brand-text-colour:%s}\n", c, text)
	resp := newResponse(http.StatusOK, "text/css; charset=utf-8", []byte(css), time.Time{}, "public, max-age=3600")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { resp.write(w, r) })
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	var rgb [3]float64
	for i := range rgb {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			rgb[i] = c / 12.92
		} else {
			rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
}

// queryParam finds the first value of name in a raw query without building
// the url.Values map: the postcode check is a hot path.
func queryParam(rawQuery, name string) (string, bool) {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k != name {
			continue
		}
		if u, err := url.QueryUnescape(v); err == nil {
			return u, true
		}
		return v, true
	}
	return "", false
}
