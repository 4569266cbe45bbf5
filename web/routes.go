package web

import (
	"net/http"
)

// Access levels. Every route today is public (the screening API included,
// until the staff console adds roles); the route test enumerates this table
// to check each level.
const accessPublic = "public"

// route is one entry in the table of everything the server answers.
type route struct {
	method  string // GET also answers HEAD
	pattern string // net/http ServeMux pattern without the method
	access  string
	handler http.Handler
}

// routeTable lists every route the server answers, top to bottom.
func (s *Server) routeTable() []route {
	return []route{
		// Residents' site.
		{"GET", "/{$}", accessPublic, s.handleHome()},
		{"GET", "/area", accessPublic, s.handleArea()},
		{"GET", "/notices/{id}", accessPublic, s.handleNotice()},
		{"GET", "/schools", accessPublic, s.handleList("schools")},
		{"GET", "/schools/{urn}", accessPublic, s.handleSchool()},
		{"GET", "/routes", accessPublic, s.handleList("routes")},
		{"GET", "/routes/{id}", accessPublic, s.handleRoute()},
		{"GET", "/wards", accessPublic, s.handleList("wards")},
		{"GET", "/wards/{code}", accessPublic, s.handleWard()},
		{"GET", "/rounds", accessPublic, s.handleList("rounds")},
		{"GET", "/rounds/{id}", accessPublic, s.handleRound()},
		{"GET", "/map", accessPublic, s.handleList("map")},
		{"GET", "/brand.css", accessPublic, s.handleBrandCSS()},
		{"GET", "/static/", accessPublic, s.handleStatic()},

		// Open feeds.
		{"GET", "/feeds/notices.atom", accessPublic, s.handleNoticeFeed(feedAtom)},
		{"GET", "/feeds/notices.json", accessPublic, s.handleNoticeFeed(feedJSON)},
		{"GET", "/feeds/cap.atom", accessPublic, s.handleCAPIndex()},
		{"GET", "/cap/{file}", accessPublic, s.handleCAP()},
		{"GET", "/calendar/rounds/{file}", accessPublic, s.handleRoundCalendar()},

		// Read-only JSON API.
		{"GET", "/api/openapi.json", accessPublic, s.handleOpenAPI()},
		{"GET", "/api/v1/notices", accessPublic, s.apiNotices()},
		{"GET", "/api/v1/notices/{id}", accessPublic, s.apiNotice()},
		{"GET", "/api/v1/wards", accessPublic, s.apiWards()},
		{"GET", "/api/v1/wards/{code}", accessPublic, s.apiWard()},
		{"GET", "/api/v1/schools", accessPublic, s.apiSchools()},
		{"GET", "/api/v1/schools/{urn}", accessPublic, s.apiSchool()},
		{"GET", "/api/v1/routes", accessPublic, s.apiRoutes()},
		{"GET", "/api/v1/routes/{id}", accessPublic, s.apiRoute()},
		{"GET", "/api/v1/rounds", accessPublic, s.apiRounds()},
		{"GET", "/api/v1/rounds/{id}", accessPublic, s.apiRound()},
		{"GET", "/api/v1/postcodes/{postcode}", accessPublic, s.apiPostcode()},
		{"POST", "/api/v1/check", accessPublic, CheckAPI(s.deps.Screener, s.log)},

		// Operations.
		{"GET", "/healthz", accessPublic, s.handleHealthz()},
		{"GET", "/readyz", accessPublic, s.handleReadyz()},
		{"GET", "/metrics", accessPublic, s.handleMetrics()},
	}
}
