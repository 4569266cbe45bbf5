package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/signpost-uk/signpost"
)

// httpStatus is the one place error codes become HTTP status codes.
func httpStatus(code string) int {
	switch code {
	case "":
		return http.StatusOK
	case signpost.EINVALID:
		return http.StatusBadRequest
	case signpost.ENOTFOUND:
		return http.StatusNotFound
	case signpost.EGONE:
		return http.StatusGone
	case signpost.ECONFLICT:
		return http.StatusConflict
	case signpost.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case signpost.EFORBIDDEN:
		return http.StatusForbidden
	case signpost.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case signpost.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case signpost.ERATELIMITED:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// codeForStatus names the error code for a status the router produced
// itself (404, 405), the inverse of httpStatus.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return signpost.EINVALID
	case http.StatusNotFound:
		return signpost.ENOTFOUND
	case http.StatusGone:
		return signpost.EGONE
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusServiceUnavailable:
		return signpost.EUNAVAILABLE
	case http.StatusRequestEntityTooLarge:
		return signpost.ETOOLARGE
	}
	return signpost.EINTERNAL
}

type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(apiError{Error: apiErrorBody{Code: code, Message: message}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// jsonResponse marshals v into a cacheable response.
func (s *Server) jsonResponse(snap *snapshot, v any) (*response, error) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return newResponse(http.StatusOK, "application/json", append(body, '\n'), snap.builtAt, s.cfg.CacheControl), nil
}

// --- JSON shapes ---

type apiNotice struct {
	ID          int64       `json:"id"`
	Revision    int         `json:"revision"`
	Category    string      `json:"category"`
	Status      string      `json:"status"`
	StatusLabel string      `json:"status_label"`
	Places      []string    `json:"places"`
	Headline    string      `json:"headline"`
	Body        string      `json:"body"`
	Starts      *time.Time  `json:"starts,omitempty"`
	Ends        *time.Time  `json:"ends,omitempty"`
	PublishedAt time.Time   `json:"published_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	ClosedAt    *time.Time  `json:"closed_at,omitempty"`
	URL         string      `json:"url"`
	Revisions   []apiNotice `json:"revisions,omitempty"`
}

func (s *Server) apiNoticeOf(n *signpost.Notice) apiNotice {
	places := make([]string, 0, len(n.Places))
	for _, p := range n.Places {
		places = append(places, p.String())
	}
	return apiNotice{
		ID: n.ID, Revision: n.Revision, Category: string(n.Category), Status: string(n.Status), StatusLabel: n.Status.Label(),
		Places: places, Headline: n.Headline, Body: n.Body, Starts: n.Starts, Ends: n.Ends,
		PublishedAt: n.PublishedAt, UpdatedAt: n.UpdatedAt, ClosedAt: n.ClosedAt,
		URL: s.cfg.BaseURL + "/notices/" + strconv.FormatInt(n.ID, 10),
	}
}

func (s *Server) apiNoticesOf(ns []*signpost.Notice) []apiNotice {
	out := make([]apiNotice, 0, len(ns))
	for _, n := range ns {
		out = append(out, s.apiNoticeOf(n))
	}
	return out
}

// apiState is a place's current state and the notice that set it.
type apiState struct {
	Status      string `json:"status,omitempty"`
	StatusLabel string `json:"status_label"`
	NoticeID    int64  `json:"notice_id,omitempty"`
}

func stateOf(n *signpost.Notice, tag tagView) apiState {
	st := apiState{StatusLabel: tag.Label}
	if n != nil {
		st.Status, st.NoticeID = string(n.Status), n.ID
	}
	return st
}

type apiWard struct {
	Code    string      `json:"code"`
	Name    string      `json:"name"`
	Lat     float64     `json:"lat"`
	Lon     float64     `json:"lon"`
	URL     string      `json:"url"`
	Schools []apiSchool `json:"schools,omitempty"`
	Routes  []string    `json:"routes,omitempty"`
	Rounds  []apiRound  `json:"rounds,omitempty"`
	Notices []apiNotice `json:"notices,omitempty"`
}

type apiSchool struct {
	URN        string   `json:"urn"`
	Name       string   `json:"name"`
	Phase      string   `json:"phase"`
	Ward       string   `json:"ward"`
	Postcode   string   `json:"postcode"`
	Lat        float64  `json:"lat"`
	Lon        float64  `json:"lon"`
	Phone      string   `json:"phone,omitempty"`
	State      apiState `json:"state"`
	DistanceKM *float64 `json:"distance_km,omitempty"`
	URL        string   `json:"url"`
}

type apiRound struct {
	ID          string          `json:"id"`
	Ward        string          `json:"ward"`
	Day         string          `json:"day"`
	Streams     []string        `json:"streams"`
	Sector      string          `json:"postcode_sector"`
	State       apiState        `json:"state"`
	Collections []apiCollection `json:"next_collections"`
	Calendar    string          `json:"calendar"`
	URL         string          `json:"url"`
}

type apiCollection struct {
	Date     string `json:"date"`
	Status   string `json:"status,omitempty"`
	NoticeID int64  `json:"notice_id,omitempty"`
}

// GeoJSON for routes, so any GIS tool can read them.
type geoFeatureCollection struct {
	Type     string       `json:"type"`
	Features []geoFeature `json:"features"`
}

type geoFeature struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Geometry   geoLineString  `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type geoLineString struct {
	Type        string       `json:"type"`
	Coordinates [][2]float64 `json:"coordinates"`
}

func (s *Server) apiSchoolOf(snap *snapshot, sc *signpost.School) apiSchool {
	st := snap.schoolState[sc.URN]
	return apiSchool{
		URN: sc.URN, Name: sc.Name, Phase: sc.Phase, Ward: sc.WardCode, Postcode: sc.Postcode,
		Lat: sc.Lat, Lon: sc.Lon, Phone: sc.Phone, State: stateOf(st, schoolTag(st)),
		URL: s.cfg.BaseURL + "/schools/" + sc.URN,
	}
}

func (s *Server) apiRoundOf(snap *snapshot, rd *signpost.Round) apiRound {
	st := snap.roundState[rd.ID]
	out := apiRound{
		ID: rd.ID, Ward: rd.WardCode, Day: rd.Day.String(), Streams: rd.Streams, Sector: rd.Sector,
		State: stateOf(st, roundTag(st)), Collections: []apiCollection{},
		Calendar: s.cfg.BaseURL + "/calendar/rounds/" + rd.ID + ".ics",
		URL:      s.cfg.BaseURL + "/rounds/" + rd.ID,
	}
	if out.Streams == nil {
		out.Streams = []string{}
	}
	for _, c := range snap.collections(rd, snap.builtAt.In(s.loc), 4) {
		ac := apiCollection{Date: c.Date.Format(time.DateOnly)}
		if c.Notice != nil {
			ac.Status, ac.NoticeID = string(c.Notice.Status), c.Notice.ID
		}
		out.Collections = append(out.Collections, ac)
	}
	return out
}

func (s *Server) routeFeature(snap *snapshot, rt *signpost.Route) geoFeature {
	st := snap.routeState[rt.ID]
	coords := make([][2]float64, 0, len(rt.Line))
	for _, p := range rt.Line {
		coords = append(coords, [2]float64{p.Lon, p.Lat})
	}
	wards := rt.Wards
	if wards == nil {
		wards = []string{}
	}
	return geoFeature{
		Type: "Feature", ID: rt.ID,
		Geometry: geoLineString{Type: "LineString", Coordinates: coords},
		Properties: map[string]any{
			"route_id": rt.ID, "name": rt.Name, "priority": rt.Priority, "wards": wards,
			"length_km": rt.LengthKM, "state": stateOf(st, routeTag(st)),
			"url": s.cfg.BaseURL + "/routes/" + rt.ID,
		},
	}
}

// --- filters ---

// noticeQuery is a validated ?category=&ward=&status=&include_closed=
// filter, shared by the API and the feeds.
type noticeQuery struct {
	Category      signpost.Category
	Ward          string
	Status        signpost.Status
	IncludeClosed bool
}

// parseNoticeQuery validates the filters against the snapshot so that a
// typo gets a clear 400, not an empty list, and so cache keys stay bounded.
func parseNoticeQuery(q url.Values, snap *snapshot, allowStatus bool) (noticeQuery, error) {
	var f noticeQuery
	if c := q.Get("category"); c != "" {
		f.Category = signpost.Category(c)
		if !f.Category.Valid() {
			return f, signpost.Errorf(signpost.EINVALID, "category %q is not one of schools, roads, waste, transport, libraries, leisure, health, other", truncateRunes(c, 30))
		}
	}
	if w := q.Get("ward"); w != "" {
		if snap.wardByCode[w] == nil {
			return f, signpost.Errorf(signpost.EINVALID, "ward %q is not a ward code we know; see /api/v1/wards", truncateRunes(w, 30))
		}
		f.Ward = w
	}
	if allowStatus {
		if st := q.Get("status"); st != "" {
			f.Status = signpost.Status(st)
			if !f.Status.Valid() {
				return f, signpost.Errorf(signpost.EINVALID, "status %q is not one of closed, partially-open, delayed, cancelled, gritting-in-progress, gritted, resumed, information", truncateRunes(st, 30))
			}
		}
		switch v := q.Get("include_closed"); v {
		case "", "false", "0":
		case "true", "1":
			f.IncludeClosed = true
		default:
			return f, signpost.Errorf(signpost.EINVALID, "include_closed %q: want true or false", truncateRunes(v, 10))
		}
	}
	return f, nil
}

func (f noticeQuery) key() string {
	return "c=" + string(f.Category) + "&w=" + f.Ward + "&s=" + string(f.Status) + "&x=" + strconv.FormatBool(f.IncludeClosed)
}

// match reports whether a notice passes the filter. A ward filter matches
// notices naming the ward, the whole area, or any school, route or round in
// the ward.
func (f noticeQuery) match(snap *snapshot, n *signpost.Notice) bool {
	if n.Closed() && !f.IncludeClosed {
		return false
	}
	if f.Category != "" && n.Category != f.Category {
		return false
	}
	if f.Status != "" && n.Status != f.Status {
		return false
	}
	if f.Ward != "" && !snap.noticeInWard(n, f.Ward) {
		return false
	}
	return true
}

func (snap *snapshot) noticeInWard(n *signpost.Notice, ward string) bool {
	for _, p := range n.Places {
		switch p.Kind {
		case signpost.PlaceAll:
			return true
		case signpost.PlaceWard:
			if p.ID == ward {
				return true
			}
		case signpost.PlaceSchool:
			if sc := snap.schoolByURN[p.ID]; sc != nil && sc.WardCode == ward {
				return true
			}
		case signpost.PlaceRound:
			if rd := snap.roundByID[p.ID]; rd != nil && rd.WardCode == ward {
				return true
			}
		case signpost.PlaceRoute:
			if rt := snap.routeByID[p.ID]; rt != nil {
				for _, w := range rt.Wards {
					if w == ward {
						return true
					}
				}
			}
		}
	}
	return false
}

func (snap *snapshot) filterNotices(f noticeQuery) []*signpost.Notice {
	var out []*signpost.Notice
	for i := range snap.notices {
		if f.match(snap, &snap.notices[i]) {
			out = append(out, &snap.notices[i])
		}
	}
	return out
}

// --- handlers ---

// serveAPI is serveCached for the API: it counts the call and answers JSON.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, key string, category signpost.Category, render renderFunc) {
	s.count(channelAPI, category)
	s.serveCached(w, r, "api:"+key, render)
}

func (s *Server) apiNotices() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap, err := s.current(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f, err := parseNoticeQuery(r.URL.Query(), snap, true)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.serveAPI(w, r, "notices?"+f.key(), f.Category, func(ctx context.Context, snap *snapshot) (*response, error) {
			return s.jsonResponse(snap, map[string]any{"notices": s.apiNoticesOf(snap.filterNotices(f))})
		})
	})
}

func (s *Server) apiNotice() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := parseNoticeID(r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.serveAPI(w, r, "notice:"+strconv.FormatInt(id, 10), "", func(ctx context.Context, snap *snapshot) (*response, error) {
			n, revs, err := s.noticeWithHistory(ctx, snap, id)
			if err != nil {
				return nil, err
			}
			out := s.apiNoticeOf(&n)
			for i := len(revs) - 1; i >= 0; i-- { // oldest first, as the store keeps them
				out.Revisions = append(out.Revisions, s.apiNoticeOf(&revs[i]))
			}
			return s.jsonResponse(snap, out)
		})
	})
}

func (s *Server) apiWards() http.Handler {
	return s.apiCollection("wards", "", func(snap *snapshot) any {
		out := make([]apiWard, 0, len(snap.wards))
		for _, wd := range snap.wards {
			out = append(out, apiWard{Code: wd.Code, Name: wd.Name, Lat: wd.Lat, Lon: wd.Lon, URL: s.cfg.BaseURL + "/wards/" + wd.Code})
		}
		return map[string]any{"wards": out}
	})
}

func (s *Server) apiWard() http.Handler {
	return apiPlace(s, "code", "ward", "", "no ward %q",
		func(snap *snapshot, code string) *signpost.Ward { return snap.wardByCode[code] },
		func(snap *snapshot, wd *signpost.Ward) any {
			out := apiWard{Code: wd.Code, Name: wd.Name, Lat: wd.Lat, Lon: wd.Lon, URL: s.cfg.BaseURL + "/wards/" + wd.Code, Schools: []apiSchool{}, Routes: []string{}, Rounds: []apiRound{}}
			for _, sc := range snap.schoolsInWard(wd.Code) {
				out.Schools = append(out.Schools, s.apiSchoolOf(snap, sc))
			}
			for _, rt := range snap.routesInWard(wd.Code) {
				out.Routes = append(out.Routes, rt.ID)
			}
			for _, rd := range snap.roundsInWard(wd.Code) {
				out.Rounds = append(out.Rounds, s.apiRoundOf(snap, rd))
			}
			out.Notices = s.apiNoticesOf(snap.filterNotices(noticeQuery{Ward: wd.Code}))
			return out
		})
}

// apiPlace serves one place that the snapshot finds by a path value, or a
// 404 saying what was looked for. kind prefixes the cache key
// ("school:100001").
func apiPlace[P any](s *Server, param, kind string, category signpost.Category, missing string,
	find func(*snapshot, string) *P, encode func(*snapshot, *P) any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue(param)
		s.serveAPI(w, r, kind+":"+id, category, func(ctx context.Context, snap *snapshot) (*response, error) {
			p := find(snap, id)
			if p == nil {
				return nil, signpost.Errorf(signpost.ENOTFOUND, missing, truncateRunes(id, 20))
			}
			return s.jsonResponse(snap, encode(snap, p))
		})
	})
}

// apiCollection serves a whole collection built from the snapshot.
func (s *Server) apiCollection(key string, category signpost.Category, build func(*snapshot) any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveAPI(w, r, key, category, func(ctx context.Context, snap *snapshot) (*response, error) {
			return s.jsonResponse(snap, build(snap))
		})
	})
}

func (s *Server) apiSchools() http.Handler {
	return s.apiCollection("schools", signpost.CategorySchools, func(snap *snapshot) any {
		out := make([]apiSchool, 0, len(snap.schools))
		for i := range snap.schools {
			out = append(out, s.apiSchoolOf(snap, &snap.schools[i]))
		}
		return map[string]any{"schools": out}
	})
}

func (s *Server) apiSchool() http.Handler {
	return apiPlace(s, "urn", "school", signpost.CategorySchools, "no school with URN %q",
		func(snap *snapshot, urn string) *signpost.School { return snap.schoolByURN[urn] },
		func(snap *snapshot, sc *signpost.School) any { return s.apiSchoolOf(snap, sc) })
}

func (s *Server) apiRoutes() http.Handler {
	return s.apiCollection("routes", signpost.CategoryRoads, func(snap *snapshot) any {
		fc := geoFeatureCollection{Type: "FeatureCollection", Features: []geoFeature{}}
		for i := range snap.routes {
			fc.Features = append(fc.Features, s.routeFeature(snap, &snap.routes[i]))
		}
		return fc
	})
}

func (s *Server) apiRoute() http.Handler {
	return apiPlace(s, "id", "route", signpost.CategoryRoads, "no gritting route %q",
		func(snap *snapshot, id string) *signpost.Route { return snap.routeByID[id] },
		func(snap *snapshot, rt *signpost.Route) any { return s.routeFeature(snap, rt) })
}

func (s *Server) apiRounds() http.Handler {
	return s.apiCollection("rounds", signpost.CategoryWaste, func(snap *snapshot) any {
		out := make([]apiRound, 0, len(snap.rounds))
		for i := range snap.rounds {
			out = append(out, s.apiRoundOf(snap, &snap.rounds[i]))
		}
		return map[string]any{"rounds": out}
	})
}

func (s *Server) apiRound() http.Handler {
	return apiPlace(s, "id", "round", signpost.CategoryWaste, "no bin collection round %q",
		func(snap *snapshot, id string) *signpost.Round { return snap.roundByID[id] },
		func(snap *snapshot, rd *signpost.Round) any { return s.apiRoundOf(snap, rd) })
}

type apiPostcode struct {
	Postcode string       `json:"postcode"`
	Lat      float64      `json:"lat"`
	Lon      float64      `json:"lon"`
	Ward     apiWard      `json:"ward"`
	Rounds   []apiRound   `json:"rounds"`
	Schools  []apiSchool  `json:"nearby_schools"`
	Routes   []geoFeature `json:"gritting_routes"`
	Notices  []apiNotice  `json:"notices"`
}

func (s *Server) apiPostcode() http.Handler {
	const nearest, maxKM = 5, 5.0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.PathValue("postcode")
		if len(raw) > maxPostcodeInput {
			raw = raw[:maxPostcodeInput]
		}
		pc, err := signpost.NormalizePostcode(raw)
		if err != nil {
			s.count(channelAPI, "")
			s.fail(w, r, err)
			return
		}
		s.serveAPI(w, r, "area:"+pc, "", func(ctx context.Context, snap *snapshot) (*response, error) {
			loc, err := s.deps.Places.LookupPostcode(ctx, pc)
			if err != nil {
				if signpost.ErrorCode(err) == signpost.ENOTFOUND {
					return nil, signpost.Errorf(signpost.ENOTFOUND, "we have no information for %s; it may be outside the council's area", pc)
				}
				return nil, err
			}
			out := apiPostcode{Postcode: pc, Lat: loc.Lat, Lon: loc.Lon, Rounds: []apiRound{}, Schools: []apiSchool{}, Routes: []geoFeature{}}
			out.Ward = apiWard{Code: loc.WardCode, Name: snap.wardName(loc.WardCode), URL: s.cfg.BaseURL + "/wards/" + loc.WardCode}
			if wd := snap.wardByCode[loc.WardCode]; wd != nil {
				out.Ward.Lat, out.Ward.Lon = wd.Lat, wd.Lon
			}
			var schools []schoolView
			for _, ns := range snap.nearestSchools(loc.Lat, loc.Lon, nearest, maxKM) {
				a := s.apiSchoolOf(snap, ns.School)
				km := float64(int(ns.KM*100+0.5)) / 100
				a.DistanceKM = &km
				out.Schools = append(out.Schools, a)
				schools = append(schools, schoolView{School: ns.School})
			}
			var rounds []roundView
			for _, rd := range snap.roundBySector[signpost.PostcodeSector(pc)] {
				out.Rounds = append(out.Rounds, s.apiRoundOf(snap, rd))
				rounds = append(rounds, roundView{Round: rd})
			}
			routes := snap.routesInWard(loc.WardCode)
			for _, rt := range routes {
				out.Routes = append(out.Routes, s.routeFeature(snap, rt))
			}
			out.Notices = s.apiNoticesOf(snap.areaNotices(loc.WardCode, schools, rounds, routes))
			return s.jsonResponse(snap, out)
		})
	})
}
