package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/mmcdole/gofeed"

	"github.com/signpost-uk/signpost"
)

func fuzzSeeds(f *testing.F) {
	f.Add("Schools closed", "Snow.\n\nStay safe.", "Northdale Council")
	f.Add(hostileHeadline, "a & b < c ]]> d\x00\ninvalid \xff utf8\r\n", "A & B <Council>")
	f.Add("", "", "")
	f.Add(strings.Repeat("🎒e\u0301", 40), "\\;,\n\r\t", "x\"y'z")
}

func fuzzNotice(headline, body string) signpost.Notice {
	return signpost.Notice{
		ID: 42, Revision: 2, Category: signpost.CategoryWaste, Status: signpost.StatusCancelled,
		Places:   []signpost.PlaceRef{{Kind: signpost.PlaceWard, ID: "W1"}, {Kind: signpost.PlaceAll}},
		Headline: headline, Body: body,
		Starts:      ptr(at("2026-12-01T00:00:00Z")),
		PublishedAt: at("2026-11-25T06:00:00Z"), UpdatedAt: at("2026-11-25T07:00:00Z"),
	}
}

func FuzzAtom(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, headline, body, council string) {
		site := Site{Name: council, BaseURL: "https://c.example"}
		var b bytes.Buffer
		if err := Atom(&b, site, Meta{Title: headline, SelfPath: "/feeds/notices.atom"}, []signpost.Notice{fuzzNotice(headline, body)}); err != nil {
			t.Fatal(err)
		}
		wellFormed(t, b.Bytes())
		var doc struct {
			Entry struct {
				Title   string `xml:"title"`
				Content string `xml:"content"`
			} `xml:"entry"`
			Author string `xml:"author>name"`
		}
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Entry.Title != clean(headline) || doc.Author != clean(council) {
			t.Errorf("title %q author %q, want %q %q", doc.Entry.Title, doc.Author, clean(headline), clean(council))
		}
		if !strings.HasSuffix(doc.Entry.Content, strings.TrimSpace(clean(body))) {
			t.Errorf("content %q lost the body %q", doc.Entry.Content, body)
		}
		if _, err := gofeed.NewParser().ParseString(b.String()); err != nil {
			t.Errorf("gofeed: %v", err)
		}
	})
}

func FuzzJSONFeed(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, headline, body, council string) {
		site := Site{Name: council, BaseURL: "https://c.example"}
		var b bytes.Buffer
		if err := JSONFeed(&b, site, Meta{Title: headline, SelfPath: "/feeds/notices.json"}, []signpost.Notice{fuzzNotice(headline, body)}); err != nil {
			t.Fatal(err)
		}
		var doc jsonFeed
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatalf("invalid JSON: %v", err)
		}
		if len(doc.Items) != 1 || doc.Items[0].Title != clean(headline) || doc.Title != clean(headline) {
			t.Errorf("items %+v, want title %q", doc.Items, clean(headline))
		}
		if _, err := gofeed.NewParser().ParseString(b.String()); err != nil {
			t.Errorf("gofeed: %v", err)
		}
	})
}

var (
	capCircleRE  = regexp.MustCompile(`^-?\d+\.\d{6},-?\d+\.\d{6} \d+\.\d{3}$`)
	capPolygonRE = regexp.MustCompile(`^(-?\d+\.\d{6},-?\d+\.\d{6} ){3,}-?\d+\.\d{6},-?\d+\.\d{6}$`)
)

func FuzzCAPAlert(f *testing.F) {
	f.Add("Schools closed", "Snow.", "Hill Top", 54.5, -1.5, 0.5)
	f.Add(hostileHeadline, "]]>\x00", hostileHeadline, 91.0, 181.0, -1.0)
	f.Add("", "", "", 0.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, headline, body, areaDesc string, lat, lon, radius float64) {
		site := Site{Name: headline, BaseURL: "https://c.example"}
		n := fuzzNotice(headline, body)
		prev := n
		prev.Revision = 1
		areas := func(signpost.PlaceRef) (Area, bool) {
			p := signpost.Point{Lat: lat, Lon: lon}
			return Area{
				Desc:     areaDesc,
				Circles:  []Circle{{Center: p, RadiusKM: radius}},
				Polygons: [][]signpost.Point{{p, {Lat: lat / 2, Lon: lon}, {Lat: lat / 2, Lon: lon / 2}}},
			}, true
		}
		var b bytes.Buffer
		if err := CAPAlert(&b, site, n, &prev, areas); err != nil {
			t.Fatal(err)
		}
		wellFormed(t, b.Bytes())
		var a capAlert
		if err := xml.Unmarshal(b.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		if a.Info.Headline != clean(headline) {
			t.Errorf("headline %q, want %q", a.Info.Headline, clean(headline))
		}
		for _, area := range a.Info.Areas {
			if strings.TrimSpace(area.Desc) == "" {
				t.Errorf("empty areaDesc")
			}
			for _, c := range area.Circles {
				if !capCircleRE.MatchString(c) {
					t.Errorf("bad circle %q", c)
				}
			}
			for _, p := range area.Polygons {
				if !capPolygonRE.MatchString(p) {
					t.Errorf("bad polygon %q", p)
				}
				if pts := strings.Fields(p); pts[0] != pts[len(pts)-1] {
					t.Errorf("polygon not closed: %q", p)
				}
			}
		}
	})
}

func FuzzRoundCalendar(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, headline, body, council string) {
		site := Site{Name: council, BaseURL: "https://c.example"}
		round := signpost.Round{ID: "R1", WardCode: "W1", Day: time.Tuesday, Streams: []string{headline, "refuse"}}
		var b bytes.Buffer
		if err := RoundCalendar(&b, site, round, []signpost.Notice{fuzzNotice(headline, body)}, at("2026-11-25T06:00:00Z"), 2); err != nil {
			t.Fatal(err)
		}
		checkICalLines(t, b.Bytes())
		cal, err := ics.ParseCalendar(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("golang-ical: %v\n%q", err, b.String())
		}
		events := cal.Events()
		if len(events) != 2 {
			t.Fatalf("events = %d, want 2", len(events))
		}
		want := "Cancelled: " + strings.TrimSpace(clean(headline))
		if desc := events[0].GetProperty(ics.ComponentPropertyDescription); desc == nil || !strings.HasPrefix(desc.Value, want) {
			t.Errorf("description %+v, want prefix %q", desc, want)
		}
	})
}
