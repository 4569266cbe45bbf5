package web

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// snapshot is everything the public pages show, read from the store once per
// change version. It is never modified after buildSnapshot returns, so
// requests read it without locks; only its response cache changes.
type snapshot struct {
	version int64
	builtAt time.Time // local time; also the Last-Modified of every response

	wards   []signpost.Ward
	schools []signpost.School
	routes  []signpost.Route
	rounds  []signpost.Round

	wardByCode    map[string]*signpost.Ward
	schoolByURN   map[string]*signpost.School
	routeByID     map[string]*signpost.Route
	roundByID     map[string]*signpost.Round
	roundBySector map[string][]*signpost.Round

	// notices holds open notices and the most recently closed ones, most
	// recently updated first.
	notices    []signpost.Notice
	noticeByID map[int64]*signpost.Notice

	// The open notice that decides each place's state, if any.
	schoolState map[string]*signpost.Notice
	routeState  map[string]*signpost.Notice
	roundState  map[string]*signpost.Notice

	cache *responseCache
}

// recentClosed is how many closed notices the snapshot keeps for pages,
// feeds and the API; older ones are read from the store on demand.
const recentClosed = 200

func buildSnapshot(ctx context.Context, places signpost.PlaceStore, notices signpost.NoticeStore, version int64, now time.Time, maxAreas int) (*snapshot, error) {
	s := &snapshot{version: version, builtAt: now}
	var err error
	if s.wards, err = places.Wards(ctx); err != nil {
		return nil, fmt.Errorf("snapshot wards: %w", err)
	}
	if s.schools, err = places.Schools(ctx); err != nil {
		return nil, fmt.Errorf("snapshot schools: %w", err)
	}
	if s.routes, err = places.Routes(ctx); err != nil {
		return nil, fmt.Errorf("snapshot routes: %w", err)
	}
	if s.rounds, err = places.Rounds(ctx); err != nil {
		return nil, fmt.Errorf("snapshot rounds: %w", err)
	}
	open, err := notices.Notices(ctx, signpost.NoticeFilter{})
	if err != nil {
		return nil, fmt.Errorf("snapshot open notices: %w", err)
	}
	all, err := notices.Notices(ctx, signpost.NoticeFilter{IncludeClosed: true, Limit: len(open) + recentClosed})
	if err != nil {
		return nil, fmt.Errorf("snapshot notices: %w", err)
	}
	s.index(open, all)
	s.cache = newResponseCache(maxAreas)
	return s, nil
}

func (s *snapshot) index(open, all []signpost.Notice) {
	sort.Slice(s.wards, func(i, j int) bool { return s.wards[i].Name < s.wards[j].Name })
	sort.Slice(s.schools, func(i, j int) bool { return s.schools[i].Name < s.schools[j].Name })
	sort.Slice(s.routes, func(i, j int) bool {
		if s.routes[i].Priority != s.routes[j].Priority {
			return s.routes[i].Priority < s.routes[j].Priority
		}
		return s.routes[i].ID < s.routes[j].ID
	})
	sort.Slice(s.rounds, func(i, j int) bool { return s.rounds[i].ID < s.rounds[j].ID })

	s.wardByCode = make(map[string]*signpost.Ward, len(s.wards))
	for i := range s.wards {
		s.wardByCode[s.wards[i].Code] = &s.wards[i]
	}
	s.schoolByURN = make(map[string]*signpost.School, len(s.schools))
	for i := range s.schools {
		s.schoolByURN[s.schools[i].URN] = &s.schools[i]
	}
	s.routeByID = make(map[string]*signpost.Route, len(s.routes))
	for i := range s.routes {
		s.routeByID[s.routes[i].ID] = &s.routes[i]
	}
	s.roundByID = make(map[string]*signpost.Round, len(s.rounds))
	s.roundBySector = map[string][]*signpost.Round{}
	for i := range s.rounds {
		r := &s.rounds[i]
		s.roundByID[r.ID] = r
		sector := strings.ToUpper(strings.TrimSpace(r.Sector))
		s.roundBySector[sector] = append(s.roundBySector[sector], r)
	}

	// Merge open and recent notices; the store orders each list most
	// recently updated first, and so do we.
	seen := map[int64]bool{}
	for _, list := range [][]signpost.Notice{open, all} {
		for _, n := range list {
			if !seen[n.ID] {
				seen[n.ID] = true
				s.notices = append(s.notices, n)
			}
		}
	}
	sort.SliceStable(s.notices, func(i, j int) bool { return s.notices[i].UpdatedAt.After(s.notices[j].UpdatedAt) })
	s.noticeByID = make(map[int64]*signpost.Notice, len(s.notices))
	for i := range s.notices {
		s.noticeByID[s.notices[i].ID] = &s.notices[i]
	}

	// A place's state is the most recently updated open notice of its
	// category that names it, its ward or the whole area.
	s.schoolState = map[string]*signpost.Notice{}
	s.routeState = map[string]*signpost.Notice{}
	s.roundState = map[string]*signpost.Notice{}
	for i := range s.notices {
		n := &s.notices[i]
		if n.Closed() {
			continue
		}
		switch n.Category {
		case signpost.CategorySchools:
			for j := range s.schools {
				sc := &s.schools[j]
				if _, ok := s.schoolState[sc.URN]; !ok && (n.Affects(signpost.PlaceSchool, sc.URN) || n.Affects(signpost.PlaceWard, sc.WardCode)) {
					s.schoolState[sc.URN] = n
				}
			}
		case signpost.CategoryRoads:
			for j := range s.routes {
				rt := &s.routes[j]
				if _, ok := s.routeState[rt.ID]; !ok && routeAffected(n, rt) {
					s.routeState[rt.ID] = n
				}
			}
		case signpost.CategoryWaste:
			for j := range s.rounds {
				rd := &s.rounds[j]
				if _, ok := s.roundState[rd.ID]; !ok && (n.Affects(signpost.PlaceRound, rd.ID) || n.Affects(signpost.PlaceWard, rd.WardCode)) {
					s.roundState[rd.ID] = n
				}
			}
		}
	}
}

func routeAffected(n *signpost.Notice, rt *signpost.Route) bool {
	if n.Affects(signpost.PlaceRoute, rt.ID) {
		return true
	}
	for _, w := range rt.Wards {
		if n.Affects(signpost.PlaceWard, w) {
			return true
		}
	}
	return false
}

// openNotices returns the notices not yet closed, most recent first.
func (s *snapshot) openNotices() []*signpost.Notice {
	var out []*signpost.Notice
	for i := range s.notices {
		if !s.notices[i].Closed() {
			out = append(out, &s.notices[i])
		}
	}
	return out
}

// noticesFor returns open notices naming the place (or its ward, or the
// whole area), most recent first.
func (s *snapshot) noticesFor(kind signpost.PlaceKind, id string, wards ...string) []*signpost.Notice {
	var out []*signpost.Notice
	for i := range s.notices {
		n := &s.notices[i]
		if n.Closed() {
			continue
		}
		hit := n.Affects(kind, id)
		for _, w := range wards {
			hit = hit || n.Affects(signpost.PlaceWard, w)
		}
		if hit {
			out = append(out, n)
		}
	}
	return out
}

// summary is the whole area's state at a glance.
type summary struct {
	SchoolsClosed   int
	SchoolsPartial  int
	Schools         int
	RoutesTreated   int
	RoutesTreating  int
	Routes          int
	RoundsDisrupted int
	Rounds          int
	BinDays         []string // "Tuesday's bin collections delayed"
	BinGroups       []binGroup
	OpenNotices     int
}

// binGroup is the disrupted rounds sharing a collection day and status.
type binGroup struct {
	Day    time.Weekday
	Status signpost.Status
	Rounds int
}

// glanceItem is one figure in the home page's "at a glance" row.
type glanceItem struct{ Figure, Text string }

// Glance is the summary as figures with their captions.
func (m summary) Glance() []glanceItem {
	var out []glanceItem
	if m.Schools > 0 {
		out = append(out, glanceItem{strconv.Itoa(m.SchoolsClosed), fmt.Sprintf("of %d %s closed", m.Schools, plural(m.Schools, "school", "schools"))})
		if m.SchoolsPartial > 0 {
			out = append(out, glanceItem{strconv.Itoa(m.SchoolsPartial), plural(m.SchoolsPartial, "school", "schools") + " partially open or opening late"})
		}
	}
	if m.Routes > 0 {
		out = append(out, glanceItem{fmt.Sprintf("%d of %d", m.RoutesTreated, m.Routes), "gritting routes treated"})
		if m.RoutesTreating > 0 {
			out = append(out, glanceItem{strconv.Itoa(m.RoutesTreating), plural(m.RoutesTreating, "route", "routes") + " being gritted now"})
		}
	}
	if m.Rounds > 0 && len(m.BinGroups) == 0 {
		out = append(out, glanceItem{"All", "bin collections running as normal"})
	}
	for _, g := range m.BinGroups {
		out = append(out, glanceItem{g.Day.String() + "’s", fmt.Sprintf("bin collections %s (%d %s)", binVerb(g.Status), g.Rounds, plural(g.Rounds, "round", "rounds"))})
	}
	out = append(out, glanceItem{strconv.Itoa(m.OpenNotices), "current " + plural(m.OpenNotices, "notice", "notices")})
	return out
}

// Sentences renders the summary as the short phrases the home page shows.
func (m summary) Sentences() []string {
	var out []string
	if m.Schools > 0 {
		s := fmt.Sprintf("%d of %d schools closed", m.SchoolsClosed, m.Schools)
		if m.SchoolsClosed == 0 {
			s = "All schools open as normal"
		}
		if m.SchoolsPartial > 0 {
			s += fmt.Sprintf(", %d partially open", m.SchoolsPartial)
		}
		out = append(out, s)
	}
	if m.Routes > 0 {
		s := fmt.Sprintf("%d of %d gritting routes treated", m.RoutesTreated, m.Routes)
		if m.RoutesTreating > 0 {
			s += fmt.Sprintf(", %d in progress", m.RoutesTreating)
		}
		out = append(out, s)
	}
	if m.Rounds > 0 {
		if len(m.BinDays) == 0 {
			out = append(out, "Bin collections running as normal")
		}
		out = append(out, m.BinDays...)
	}
	return out
}

func (s *snapshot) summary() summary {
	m := summary{Schools: len(s.schools), Routes: len(s.routes), Rounds: len(s.rounds), OpenNotices: len(s.openNotices())}
	for _, sc := range s.schools {
		if n := s.schoolState[sc.URN]; n != nil {
			switch n.Status {
			case signpost.StatusClosed:
				m.SchoolsClosed++
			case signpost.StatusPartiallyOpen:
				m.SchoolsPartial++
			}
		}
	}
	for _, rt := range s.routes {
		if n := s.routeState[rt.ID]; n != nil {
			switch n.Status {
			case signpost.StatusGritted:
				m.RoutesTreated++
			case signpost.StatusGrittingInProgress:
				m.RoutesTreating++
			}
		}
	}
	// Group disrupted rounds by collection day and status, in week order.
	type dayStatus struct {
		day    time.Weekday
		status signpost.Status
	}
	seen := map[dayStatus]int{}
	var groups []dayStatus
	for _, rd := range s.rounds {
		n := s.roundState[rd.ID]
		if n == nil || !n.Status.Disrupted() {
			continue
		}
		m.RoundsDisrupted++
		k := dayStatus{rd.Day, n.Status}
		if seen[k] == 0 {
			groups = append(groups, k)
		}
		seen[k]++
	}
	sort.Slice(groups, func(i, j int) bool {
		di, dj := (groups[i].day+6)%7, (groups[j].day+6)%7 // Monday first
		if di != dj {
			return di < dj
		}
		return groups[i].status < groups[j].status
	})
	for _, g := range groups {
		m.BinDays = append(m.BinDays, fmt.Sprintf("%s's bin collections %s", g.day, binVerb(g.status)))
		m.BinGroups = append(m.BinGroups, binGroup{Day: g.day, Status: g.status, Rounds: seen[g]})
	}
	return m
}

func binVerb(st signpost.Status) string {
	switch st {
	case signpost.StatusDelayed:
		return "delayed"
	case signpost.StatusCancelled:
		return "cancelled"
	case signpost.StatusPartiallyOpen:
		return "partly running"
	}
	return strings.ToLower(st.Label())
}

// nearSchool is a school with its distance from a point.
type nearSchool struct {
	*signpost.School
	KM    float64
	State *signpost.Notice
}

// nearestSchools returns up to n schools nearest (lat, lon), within maxKM.
func (s *snapshot) nearestSchools(lat, lon float64, n int, maxKM float64) []nearSchool {
	out := make([]nearSchool, 0, len(s.schools))
	for i := range s.schools {
		sc := &s.schools[i]
		d := distanceKM(lat, lon, sc.Lat, sc.Lon)
		if d <= maxKM {
			out = append(out, nearSchool{School: sc, KM: d, State: s.schoolState[sc.URN]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KM < out[j].KM })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// distanceKM is the great-circle distance (haversine), plenty accurate for
// "which school is near me".
func distanceKM(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// routesInWard returns the routes passing through a ward.
func (s *snapshot) routesInWard(code string) []*signpost.Route {
	var out []*signpost.Route
	for i := range s.routes {
		for _, w := range s.routes[i].Wards {
			if w == code {
				out = append(out, &s.routes[i])
				break
			}
		}
	}
	return out
}

func (s *snapshot) schoolsInWard(code string) []*signpost.School {
	var out []*signpost.School
	for i := range s.schools {
		if s.schools[i].WardCode == code {
			out = append(out, &s.schools[i])
		}
	}
	return out
}

func (s *snapshot) roundsInWard(code string) []*signpost.Round {
	var out []*signpost.Round
	for i := range s.rounds {
		if s.rounds[i].WardCode == code {
			out = append(out, &s.rounds[i])
		}
	}
	return out
}

func (s *snapshot) wardName(code string) string {
	if w := s.wardByCode[code]; w != nil {
		return w.Name
	}
	return code
}
