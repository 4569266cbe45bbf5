// Package signpost holds the domain shared by every part of Signpost: the
// places a council serves (wards, postcodes, schools, gritting routes, bin
// rounds), the service-disruption notices it publishes about them, the
// service interfaces that storage implements and the web layer consumes, and
// the one error type that carries a code and a message safe to show users.
//
// Nothing here imports a database, HTTP or a channel: those live at the edges
// (store/, web/, feed/) and are wired together in cmd/signpost.
package signpost

import (
	"context"
	"time"
)

// Ward is an electoral ward, the unit most residents' questions resolve to.
type Ward struct {
	Code string
	Name string
	Lat  float64
	Lon  float64
}

// Postcode maps one normalised postcode to its ward and location.
type Postcode struct {
	Postcode string // normalised, e.g. "ND1 1BX"
	WardCode string
	Lat      float64
	Lon      float64
}

// School is an establishment identified by its Unique Reference Number.
type School struct {
	URN      string
	Name     string
	Phase    string // nursery, primary, secondary, special, or a council's own phase
	WardCode string
	Postcode string
	Lat      float64
	Lon      float64
	Phone    string
}

// Point is a WGS84 coordinate in GeoJSON order: longitude first.
type Point struct {
	Lon float64
	Lat float64
}

// Route is a gritting route; Priority 1 is treated first.
type Route struct {
	ID       string
	Name     string
	Priority int
	Wards    []string
	LengthKM float64
	Line     []Point
}

// Round is a bin collection round.
type Round struct {
	ID       string
	WardCode string
	Day      time.Weekday
	Streams  []string // refuse, recycling, garden, food, …
	Sector   string   // postcode sector, e.g. "ND1 1"
}

// PlaceStore reads the places a council serves.
type PlaceStore interface {
	Wards(ctx context.Context) ([]Ward, error)
	Schools(ctx context.Context) ([]School, error)
	Routes(ctx context.Context) ([]Route, error)
	Rounds(ctx context.Context) ([]Round, error)
	// LookupPostcode takes a normalised postcode and returns ENOTFOUND
	// when the council does not hold it.
	LookupPostcode(ctx context.Context, postcode string) (Postcode, error)
}
