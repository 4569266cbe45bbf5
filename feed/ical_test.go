package feed

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"github.com/signpost-uk/signpost"
)

// checkICalLines asserts the physical form RFC 5545 requires: CRLF line
// endings only, no line over 75 octets, valid UTF-8 throughout.
func checkICalLines(t testing.TB, doc []byte) {
	t.Helper()
	if !utf8.Valid(doc) {
		t.Fatalf("calendar is not valid UTF-8")
	}
	if !bytes.HasSuffix(doc, []byte("\r\n")) {
		t.Fatalf("calendar does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(doc, []byte("\r\n")), []byte("\r\n")) {
		if len(line) > 75 {
			t.Errorf("line %d is %d octets: %q", i+1, len(line), line)
		}
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if !utf8.Valid(line) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i+1, line)
		}
	}
}

func TestRoundCalendar(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	round := signpost.Round{ID: "ND-R001", WardCode: "NDW01", Day: time.Tuesday, Streams: []string{"refuse", "garden"}}
	from := at("2026-11-25T06:00:00Z") // a Wednesday
	waste := func(id int64, status signpost.Status, place string, starts, ends string, headline string) signpost.Notice {
		ref, err := signpost.ParsePlaceRef(place)
		if err != nil {
			t.Fatal(err)
		}
		n := signpost.Notice{
			ID: id, Revision: 1, Category: signpost.CategoryWaste, Status: status, Places: []signpost.PlaceRef{ref},
			Headline: headline, PublishedAt: at("2026-11-25T06:00:00Z"), UpdatedAt: at("2026-11-25T06:00:00Z").Add(time.Duration(id) * time.Minute),
		}
		if starts != "" {
			n.Starts = ptr(at(starts))
		}
		if ends != "" {
			n.Ends = ptr(at(ends))
		}
		return n
	}
	longBody := strings.Repeat("Crews are clearing ice; please leave bins out, by the kerb — merci 🎒. ", 4)
	cancelled := waste(1, signpost.StatusCancelled, "round:ND-R001", "2026-12-01T00:00:00Z", "2026-12-01T23:59:00Z", hostileHeadline)
	cancelled.Body = longBody
	closedSchools := waste(3, signpost.StatusClosed, "all", "2026-12-15T00:00:00Z", "2026-12-16T00:00:00Z", "Schools shut")
	closedSchools.Category = signpost.CategorySchools
	over := waste(4, signpost.StatusCancelled, "ward:NDW01", "2026-12-15T00:00:00Z", "", "Old cancellation")
	over.ClosedAt = ptr(at("2026-11-25T07:00:00Z"))
	notices := []signpost.Notice{
		cancelled,
		waste(2, signpost.StatusDelayed, "ward:NDW01", "2026-12-08T06:00:00Z", "2026-12-09T00:00:00Z", "Rounds running late"),
		closedSchools, // wrong category
		over,          // closed
		waste(5, signpost.StatusCancelled, "round:ND-R002", "2026-12-22T00:00:00Z", "", "Other round"),
		waste(6, signpost.StatusResumed, "ward:NDW01", "2026-12-22T00:00:00Z", "", "Back to normal"),       // not a disruption
		waste(7, signpost.StatusDelayed, "all", "2026-12-20T00:00:00Z", "2026-12-22T00:00:00Z", "Weekend"), // ends as the day starts
	}
	type want struct {
		date, status, summary, desc string
	}
	tests := []struct {
		name    string
		weeks   int
		notices []signpost.Notice
		want    []want
	}{
		{"no weeks", 0, notices, nil},
		{"no notices", 2, nil, []want{
			{"2026-12-01", "CONFIRMED", "Bin collection: refuse and garden", ""},
			{"2026-12-08", "CONFIRMED", "Bin collection: refuse and garden", ""},
		}},
		{"disruptions", 4, notices, []want{
			{"2026-12-01", "CANCELLED", "Cancelled: Bin collection: refuse and garden", "Cancelled: " + hostileHeadlineClean + "\n" + strings.TrimSpace(longBody)},
			{"2026-12-08", "CONFIRMED", "Delayed: Bin collection: refuse and garden", "Delayed: Rounds running late"},
			{"2026-12-15", "CONFIRMED", "Bin collection: refuse and garden", ""},
			{"2026-12-22", "CONFIRMED", "Bin collection: refuse and garden", ""},
		}},
		{"open-ended ward cancellation wins over delay", 2, []signpost.Notice{
			waste(8, signpost.StatusDelayed, "ward:NDW01", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "Late"),
			waste(9, signpost.StatusClosed, "ward:NDW01", "", "", "Depot closed"),
		}, []want{
			{"2026-12-01", "CANCELLED", "Cancelled: Bin collection: refuse and garden", "Closed: Depot closed\n\nDelayed: Late"},
			{"2026-12-08", "CANCELLED", "Cancelled: Bin collection: refuse and garden", "Closed: Depot closed"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := RoundCalendar(&b, site, round, tt.notices, from, tt.weeks); err != nil {
				t.Fatal(err)
			}
			checkICalLines(t, b.Bytes())
			cal, err := ics.ParseCalendar(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatalf("golang-ical: %v\n%s", err, b.String())
			}
			calProp := func(p ics.Property) string {
				for _, cp := range cal.CalendarProperties {
					if cp.IANAToken == string(p) {
						return cp.Value
					}
				}
				return ""
			}
			if calProp(ics.PropertyVersion) != "2.0" || calProp(ics.PropertyMethod) != "PUBLISH" || calProp(ics.PropertyCalscale) != "GREGORIAN" {
				t.Errorf("calendar properties = %+v", cal.CalendarProperties)
			}
			if got := calProp(ics.PropertyXWRCalName); got != "Northdale Council: Bin collections, round ND-R001" {
				t.Errorf("X-WR-CALNAME = %q", got)
			}
			events := cal.Events()
			if len(events) != len(tt.want) {
				t.Fatalf("events = %d, want %d\n%s", len(events), len(tt.want), b.String())
			}
			for i, ev := range events {
				w := tt.want[i]
				start, err := ev.GetAllDayStartAt()
				if err != nil || start.Format("2006-01-02") != w.date {
					t.Errorf("event %d start = %v (%v), want %s", i, start, err, w.date)
				}
				if uid := ev.Id(); uid != "round-ND-R001-"+strings.ReplaceAll(w.date, "-", "")+"@signpost.northdale.example" {
					t.Errorf("event %d uid = %q", i, uid)
				}
				get := func(p ics.ComponentProperty) string {
					if prop := ev.GetProperty(p); prop != nil {
						return prop.Value
					}
					return ""
				}
				if got := get(ics.ComponentPropertyStatus); got != w.status {
					t.Errorf("event %d status = %q, want %q", i, got, w.status)
				}
				if got := get(ics.ComponentPropertySummary); got != w.summary {
					t.Errorf("event %d summary = %q, want %q", i, got, w.summary)
				}
				if got := get(ics.ComponentPropertyDescription); got != w.desc {
					t.Errorf("event %d description = %q, want %q", i, got, w.desc)
				}
				if _, err := ev.GetDtStampTime(); err != nil {
					t.Errorf("event %d DTSTAMP: %v", i, err)
				}
			}
		})
	}
}

func TestRoundCalendarDSTAndNegativeWeeks(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	round := signpost.Round{ID: "R", Day: time.Sunday, Streams: []string{"food"}}
	if err := RoundCalendar(&bytes.Buffer{}, site, round, nil, at("2026-03-20T12:00:00Z"), -1); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("negative weeks: err = %v, want EINVALID", err)
	}
	// Across the March clock change every collection stays on a Sunday.
	var b bytes.Buffer
	if err := RoundCalendar(&b, site, round, nil, at("2026-03-20T23:30:00Z"), 3); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, line := range strings.Split(b.String(), "\r\n") {
		if d, ok := strings.CutPrefix(line, "DTSTART;VALUE=DATE:"); ok {
			got = append(got, d)
		}
	}
	if strings.Join(got, ",") != "20260322,20260329,20260405" {
		t.Errorf("collection days = %v", got)
	}
}

func TestRoundCalendarStamp(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	round := signpost.Round{ID: "ND-R001", WardCode: "NDW01", Day: time.Tuesday, Streams: []string{"refuse"}}
	n := signpost.Notice{
		ID: 1, Revision: 3, Category: signpost.CategoryWaste, Status: signpost.StatusDelayed,
		Places: []signpost.PlaceRef{{Kind: signpost.PlaceRound, ID: "ND-R001"}}, Headline: "Late",
		Starts: ptr(at("2026-12-01T00:00:00Z")), Ends: ptr(at("2026-12-02T00:00:00Z")),
		PublishedAt: at("2026-11-20T09:00:00Z"), UpdatedAt: at("2026-11-25T09:15:00Z"),
	}
	var morning, evening bytes.Buffer
	if err := RoundCalendar(&morning, site, round, []signpost.Notice{n}, at("2026-11-25T06:00:00Z"), 2); err != nil {
		t.Fatal(err)
	}
	if err := RoundCalendar(&evening, site, round, []signpost.Notice{n}, at("2026-11-25T22:59:00Z"), 2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(morning.Bytes(), evening.Bytes()) {
		t.Errorf("calendar changed within a day with no notice change")
	}
	var stamps []string
	for _, line := range strings.Split(morning.String(), "\r\n") {
		if s, ok := strings.CutPrefix(line, "DTSTAMP:"); ok {
			stamps = append(stamps, s)
		}
	}
	if got := strings.Join(stamps, ","); got != "20261125T091500Z,20261125T000000Z" {
		t.Errorf("stamps = %s, want the notice update then the start of the day", got)
	}
	bad := round
	bad.Day = 9
	if err := RoundCalendar(&bytes.Buffer{}, site, bad, nil, at("2026-11-25T06:00:00Z"), 2); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("invalid day: err = %v, want EINVALID", err)
	}
}

func TestICalFolding(t *testing.T) {
	t.Parallel()
	tests := []string{
		"",
		strings.Repeat("a", 75),
		strings.Repeat("a", 76),
		strings.Repeat("é", 100),      // 2-octet sequences
		strings.Repeat("🎒", 100),      // 4-octet sequences
		"x" + strings.Repeat("€", 60), // 3-octet sequences off the boundary
	}
	for _, s := range tests {
		var c icalBuf
		c.line("SUMMARY:" + s)
		checkICalLines(t, c.Bytes())
		unfolded := strings.ReplaceAll(strings.TrimSuffix(c.String(), "\r\n"), "\r\n ", "")
		if unfolded != "SUMMARY:"+s {
			t.Errorf("unfolded %q, want %q", unfolded, "SUMMARY:"+s)
		}
	}
}

func TestICalTextEscaping(t *testing.T) {
	t.Parallel()
	var c icalBuf
	c.prop("SUMMARY", "a\\b;c,d\r\ne\x00f")
	if got, want := c.String(), "SUMMARY:a\\\\b\\;c\\,d\\nef\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
