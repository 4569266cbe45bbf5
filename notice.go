package signpost

import (
	"context"
	"strings"
	"time"
)

// Category is the service a notice is about.
type Category string

// The categories residents filter by.
const (
	CategorySchools   Category = "schools"
	CategoryRoads     Category = "roads"
	CategoryWaste     Category = "waste"
	CategoryTransport Category = "transport"
	CategoryLibraries Category = "libraries"
	CategoryLeisure   Category = "leisure"
	CategoryHealth    Category = "health"
	CategoryOther     Category = "other"
)

// Categories lists every category in the order pages show them.
var Categories = []Category{
	CategorySchools, CategoryRoads, CategoryWaste, CategoryTransport,
	CategoryLibraries, CategoryLeisure, CategoryHealth, CategoryOther,
}

// Valid reports whether c is one of Categories.
func (c Category) Valid() bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// Label is the category as a heading.
func (c Category) Label() string {
	if c == "" {
		return ""
	}
	return strings.ToUpper(string(c[:1])) + string(c[1:])
}

// ContactCategory maps a category onto the contact centre's categories
// (schools, roads, waste, other) that the channel-shift report counts
// digital contacts under; anything else, or nothing, is "other".
func (c Category) ContactCategory() string {
	switch c {
	case CategorySchools, CategoryRoads, CategoryWaste:
		return string(c)
	}
	return "other"
}

// Status is the state of the service a notice describes.
type Status string

// The statuses a notice may carry.
const (
	StatusClosed             Status = "closed"
	StatusPartiallyOpen      Status = "partially-open"
	StatusDelayed            Status = "delayed"
	StatusCancelled          Status = "cancelled"
	StatusGrittingInProgress Status = "gritting-in-progress"
	StatusGritted            Status = "gritted"
	StatusResumed            Status = "resumed"
	StatusInformation        Status = "information"
)

// Statuses lists every status.
var Statuses = []Status{
	StatusClosed, StatusPartiallyOpen, StatusDelayed, StatusCancelled,
	StatusGrittingInProgress, StatusGritted, StatusResumed, StatusInformation,
}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, k := range Statuses {
		if s == k {
			return true
		}
	}
	return false
}

// Label is the status as residents read it.
func (s Status) Label() string {
	switch s {
	case StatusPartiallyOpen:
		return "Partially open"
	case StatusGrittingInProgress:
		return "Gritting in progress"
	case "":
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Disrupted reports whether the status means the service is not running
// normally; "resumed", "gritted" and "information" are not disruptions.
func (s Status) Disrupted() bool {
	switch s {
	case StatusClosed, StatusPartiallyOpen, StatusDelayed, StatusCancelled:
		return true
	}
	return false
}

// PlaceKind is the type of place a notice can affect.
type PlaceKind string

// The kinds of place a notice can name.
const (
	PlaceSchool PlaceKind = "school"
	PlaceRoute  PlaceKind = "route"
	PlaceRound  PlaceKind = "round"
	PlaceWard   PlaceKind = "ward"
	PlaceAll    PlaceKind = "all" // the whole council area
)

// PlaceRef names one affected place, written "school:142316", "route:ND-GR01",
// "round:ND-R001", "ward:NDW01" or "all".
type PlaceRef struct {
	Kind PlaceKind
	ID   string
}

// String formats the reference as ParsePlaceRef reads it.
func (p PlaceRef) String() string {
	if p.Kind == PlaceAll {
		return string(PlaceAll)
	}
	return string(p.Kind) + ":" + p.ID
}

// ParsePlaceRef reads a reference written as PlaceRef.String writes it.
func ParsePlaceRef(s string) (PlaceRef, error) {
	s = strings.TrimSpace(s)
	if s == string(PlaceAll) {
		return PlaceRef{Kind: PlaceAll}, nil
	}
	kind, id, ok := strings.Cut(s, ":")
	id = strings.TrimSpace(id)
	if !ok || id == "" {
		return PlaceRef{}, Errorf(EINVALID, "place %q: want school:<URN>, route:<id>, round:<id>, ward:<code> or all", s)
	}
	switch k := PlaceKind(strings.ToLower(kind)); k {
	case PlaceSchool, PlaceRoute, PlaceRound, PlaceWard:
		return PlaceRef{Kind: k, ID: id}, nil
	}
	return PlaceRef{}, Errorf(EINVALID, "place %q: unknown kind %q (want school, route, round, ward or all)", s, kind)
}

// Notice is one service-disruption update as residents see it now. Every
// change makes a new revision; earlier revisions are kept.
type Notice struct {
	ID          int64
	Revision    int // 1 for the first version, +1 on every change
	Category    Category
	Status      Status
	Places      []PlaceRef
	Headline    string
	Body        string // plain text; blank lines separate paragraphs
	Starts      *time.Time
	Ends        *time.Time
	PublishedAt time.Time
	UpdatedAt   time.Time  // when this revision was made
	ClosedAt    *time.Time // set once the disruption is over
	// RetractedAt is set when the notice was withdrawn as wrong: residents'
	// pages, feeds and the API no longer show it.
	RetractedAt *time.Time
	// Channels names the channels (rows of the channels table) the notice
	// is published to besides the residents' site, sorted.
	Channels []string
}

// Retracted reports whether the notice has been withdrawn.
func (n Notice) Retracted() bool { return n.RetractedAt != nil }

// Closed reports whether the notice has been closed.
func (n Notice) Closed() bool { return n.ClosedAt != nil }

// Affects reports whether the notice names the place, or the whole area.
func (n Notice) Affects(kind PlaceKind, id string) bool {
	for _, p := range n.Places {
		if p.Kind == PlaceAll || (p.Kind == kind && p.ID == id) {
			return true
		}
	}
	return false
}

// NoticeInput is what an author sets when creating or updating a notice.
type NoticeInput struct {
	Category Category
	Status   Status
	Places   []PlaceRef
	Headline string
	Body     string
	Starts   *time.Time
	Ends     *time.Time
	// Channels names channels to publish to besides the residents' site;
	// a name that is not in the channels table is EINVALID.
	Channels []string
}

// Validate checks the fields a notice cannot do without and returns an
// EINVALID error naming the first bad field.
func (in NoticeInput) Validate() error {
	switch {
	case !in.Category.Valid():
		return Errorf(EINVALID, "category %q is not one of schools, roads, waste, transport, libraries, leisure, health, other", in.Category)
	case !in.Status.Valid():
		return Errorf(EINVALID, "status %q is not one of closed, partially-open, delayed, cancelled, gritting-in-progress, gritted, resumed, information", in.Status)
	case len(in.Places) == 0:
		return Errorf(EINVALID, "a notice needs at least one place (or all)")
	case strings.TrimSpace(in.Headline) == "":
		return Errorf(EINVALID, "headline is required")
	case len(in.Headline) > 200:
		return Errorf(EINVALID, "headline is %d characters; keep it under 200", len(in.Headline))
	case len(in.Body) > 20000:
		return Errorf(EINVALID, "body is %d characters; keep it under 20000", len(in.Body))
	case in.Starts != nil && in.Ends != nil && in.Ends.Before(*in.Starts):
		return Errorf(EINVALID, "ends (%s) is before starts (%s)", in.Ends.Format(time.RFC3339), in.Starts.Format(time.RFC3339))
	}
	return nil
}

// NoticeFilter narrows a list of notices. Zero values match everything.
type NoticeFilter struct {
	Category      Category
	Place         *PlaceRef // notices naming this place or the whole area
	IncludeClosed bool
	// IncludeRetracted also lists withdrawn notices; residents' pages,
	// feeds and the API never set it.
	IncludeRetracted bool
	Limit            int
}

// NoticeStore keeps notices and their revision history.
type NoticeStore interface {
	CreateNotice(ctx context.Context, in NoticeInput) (Notice, error)
	UpdateNotice(ctx context.Context, id int64, in NoticeInput) (Notice, error)
	CloseNotice(ctx context.Context, id int64) (Notice, error)
	// RetractNotice withdraws a notice as a new revision; retracting a
	// retracted notice is ECONFLICT.
	RetractNotice(ctx context.Context, id int64) (Notice, error)
	Notice(ctx context.Context, id int64) (Notice, error)
	// Notices returns the current revision of matching notices, most
	// recently updated first.
	Notices(ctx context.Context, f NoticeFilter) ([]Notice, error)
	// NoticeRevisions returns every revision of a notice, oldest first.
	NoticeRevisions(ctx context.Context, id int64) ([]Notice, error)
	// ChangeVersion increases whenever places or notices change, so
	// readers (and other processes sharing the database) can tell cheaply
	// that cached pages are stale.
	ChangeVersion(ctx context.Context) (int64, error)
}
