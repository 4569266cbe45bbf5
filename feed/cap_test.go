package feed

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/signpost-uk/signpost"
)

// capAlert is the part of a CAP alert the tests read back, decoded by
// encoding/xml rather than by the writer's own code.
type capAlert struct {
	XMLName    xml.Name `xml:"urn:oasis:names:tc:emergency:cap:1.2 alert"`
	Identifier string   `xml:"identifier"`
	Sender     string   `xml:"sender"`
	Sent       string   `xml:"sent"`
	MsgType    string   `xml:"msgType"`
	References string   `xml:"references"`
	Info       struct {
		Category    string `xml:"category"`
		Urgency     string `xml:"urgency"`
		Severity    string `xml:"severity"`
		Effective   string `xml:"effective"`
		Expires     string `xml:"expires"`
		Headline    string `xml:"headline"`
		Description string `xml:"description"`
		Web         string `xml:"web"`
		Areas       []struct {
			Desc     string   `xml:"areaDesc"`
			Polygons []string `xml:"polygon"`
			Circles  []string `xml:"circle"`
		} `xml:"area"`
	} `xml:"info"`
}

// validateCAP runs xmllint against the OASIS schema, skipping when it is
// not installed (Debian package libxml2-utils).
func validateCAP(t *testing.T, doc []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not found (apt-get install libxml2-utils); CAP schema validation skipped")
	}
	path := filepath.Join(t.TempDir(), "alert.xml")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", filepath.Join("testdata", "CAP-v1.2.xsd"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s\n%s", err, out, doc)
	}
}

func testAreas(ref signpost.PlaceRef) (Area, bool) {
	switch ref.Kind {
	case signpost.PlaceSchool:
		return SchoolArea(signpost.School{URN: ref.ID, Name: "Hill Top Primary", Lat: 54.5, Lon: -1.55}), true
	case signpost.PlaceRoute:
		return RouteArea(signpost.Route{ID: ref.ID, Name: "A1 & <town> centre", Line: []signpost.Point{{Lon: -1.6, Lat: 54.5}, {Lon: -1.5, Lat: 54.52}}}, 0.2), true
	case signpost.PlaceWard:
		return Area{Desc: "Northdale Central", Polygons: [][]signpost.Point{{{Lon: -1.6, Lat: 54.5}, {Lon: -1.5, Lat: 54.5}, {Lon: -1.5, Lat: 54.6}}}}, true
	}
	return Area{}, false
}

func TestCAPAlert(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	all := testNotices()
	school := all[0]
	schoolRev1 := school
	schoolRev1.Revision = 1
	schoolRev1.UpdatedAt = school.PublishedAt
	road := all[2]
	roadRev2 := road
	roadRev2.Revision = 2
	roadRev2.ClosedAt = nil
	roadRev2.UpdatedAt = at("2026-11-24T22:00:00Z")
	bins := all[1]
	tests := []struct {
		name     string
		notice   signpost.Notice
		previous *signpost.Notice
		areas    AreaFunc
		check    func(t *testing.T, a capAlert)
	}{
		{
			name: "first revision", notice: schoolRev1, areas: testAreas,
			check: func(t *testing.T, a capAlert) {
				if a.MsgType != "Alert" || a.References != "" {
					t.Errorf("msgType %q references %q", a.MsgType, a.References)
				}
				if a.Identifier != "signpost.northdale.example-notice-7-r1" || a.Sender != "signpost.northdale.example" {
					t.Errorf("identifier %q sender %q", a.Identifier, a.Sender)
				}
				if a.Sent != "2026-11-25T06:10:00+00:00" {
					t.Errorf("sent = %q", a.Sent)
				}
				// Sent at 06:10 about a closure from 07:00: not yet in effect.
				if a.Info.Category != "Other" || a.Info.Urgency != "Future" || a.Info.Severity != "Moderate" {
					t.Errorf("info = %+v", a.Info)
				}
				if a.Info.Effective != "2026-11-25T07:00:00+00:00" || a.Info.Expires != "2026-11-25T18:00:00+00:00" {
					t.Errorf("effective %q expires %q", a.Info.Effective, a.Info.Expires)
				}
				if a.Info.Web != "https://signpost.northdale.example/notices/7" {
					t.Errorf("web = %q", a.Info.Web)
				}
				if len(a.Info.Areas) != 1 || a.Info.Areas[0].Desc != "Hill Top Primary" || strings.Join(a.Info.Areas[0].Circles, "|") != "54.500000,-1.550000 0.500" {
					t.Errorf("areas = %+v", a.Info.Areas)
				}
			},
		},
		{
			name: "update references previous revision", notice: school, previous: &schoolRev1, areas: testAreas,
			check: func(t *testing.T, a capAlert) {
				if a.MsgType != "Update" {
					t.Errorf("msgType = %q", a.MsgType)
				}
				if a.Identifier != "signpost.northdale.example-notice-7-r2" {
					t.Errorf("identifier = %q", a.Identifier)
				}
				if want := "signpost.northdale.example,signpost.northdale.example-notice-7-r1,2026-11-25T06:10:00+00:00"; a.References != want {
					t.Errorf("references = %q, want %q", a.References, want)
				}
			},
		},
		{
			name: "closed notice cancels", notice: road, previous: &roadRev2, areas: testAreas,
			check: func(t *testing.T, a capAlert) {
				if a.MsgType != "Cancel" || a.Info.Urgency != "Past" {
					t.Errorf("msgType %q urgency %q", a.MsgType, a.Info.Urgency)
				}
				if a.Info.Category != "Transport" || a.Info.Expires != "2026-11-25T05:00:00+00:00" {
					t.Errorf("category %q expires %q", a.Info.Category, a.Info.Expires)
				}
				if len(a.Info.Areas) != 2 || a.Info.Areas[0].Desc != "A1 & <town> centre" || len(a.Info.Areas[0].Circles) != 1 {
					t.Fatalf("areas = %+v", a.Info.Areas)
				}
				if a.Info.Areas[1].Desc != "The whole Northdale Council area" {
					t.Errorf("whole-area desc = %q", a.Info.Areas[1].Desc)
				}
			},
		},
		{
			name: "ward polygon is closed", notice: bins, areas: testAreas,
			check: func(t *testing.T, a capAlert) {
				if a.Info.Category != "Infra" || a.Info.Urgency != "Future" {
					t.Errorf("category %q urgency %q", a.Info.Category, a.Info.Urgency)
				}
				want := "54.500000,-1.600000 54.500000,-1.500000 54.600000,-1.500000 54.500000,-1.600000"
				if len(a.Info.Areas) != 1 || strings.Join(a.Info.Areas[0].Polygons, "|") != want {
					t.Errorf("areas = %+v", a.Info.Areas)
				}
			},
		},
		{
			name: "no area function", notice: bins,
			check: func(t *testing.T, a capAlert) {
				if len(a.Info.Areas) != 1 || a.Info.Areas[0].Desc != "Ward NDW01" || len(a.Info.Areas[0].Polygons)+len(a.Info.Areas[0].Circles) != 0 {
					t.Errorf("areas = %+v", a.Info.Areas)
				}
			},
		},
		{
			name: "hostile text", notice: hostileNotice(),
			areas: func(signpost.PlaceRef) (Area, bool) {
				return Area{Desc: hostileHeadline, Polygons: [][]signpost.Point{{{Lat: 91}, {Lat: 1}}}, Circles: []Circle{{Center: signpost.Point{Lat: 200}, RadiusKM: 1}}}, true
			},
			check: func(t *testing.T, a capAlert) {
				if a.Info.Headline != hostileHeadlineClean || a.Info.Areas[0].Desc != hostileHeadlineClean {
					t.Errorf("headline %q areaDesc %q", a.Info.Headline, a.Info.Areas[0].Desc)
				}
				if len(a.Info.Areas[0].Polygons)+len(a.Info.Areas[0].Circles) != 0 {
					t.Errorf("invalid geometry written: %+v", a.Info.Areas[0])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := CAPAlert(&b, site, tt.notice, tt.previous, tt.areas); err != nil {
				t.Fatal(err)
			}
			var a capAlert
			if err := xml.Unmarshal(b.Bytes(), &a); err != nil {
				t.Fatalf("decode: %v\n%s", err, b.String())
			}
			tt.check(t, a)
			validateCAP(t, b.Bytes())
		})
	}
}

func TestCAPAlertNeedsPreviousRevision(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	n := testNotices()[0] // revision 2
	other := testNotices()[1]
	for name, prev := range map[string]*signpost.Notice{"missing": nil, "other notice": &other, "same revision": &n} {
		if err := CAPAlert(&bytes.Buffer{}, site, n, prev, nil); err == nil {
			t.Errorf("%s previous: no error", name)
		}
	}
}

func TestCAPSentUsesOffset(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	n := testNotices()[1]
	n.UpdatedAt = at("2026-07-01T09:30:15.123456Z") // BST, with a fraction CAP forbids
	var b bytes.Buffer
	if err := CAPAlert(&b, site, n, nil, nil); err != nil {
		t.Fatal(err)
	}
	var a capAlert
	if err := xml.Unmarshal(b.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if a.Sent != "2026-07-01T10:30:15+01:00" {
		t.Errorf("sent = %q, want local time with offset and no fraction", a.Sent)
	}
	validateCAP(t, b.Bytes())
}

func TestCAPIndex(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	meta := Meta{Title: "Northdale CAP alerts", SelfPath: "/feeds/cap.atom"}
	for _, notices := range [][]signpost.Notice{nil, testNotices(), {hostileNotice()}} {
		var b bytes.Buffer
		err := CAPIndex(&b, site, meta, notices, func(n signpost.Notice) string { return "/cap/" + string(rune('0'+n.ID%10)) + ".xml" })
		if err != nil {
			t.Fatal(err)
		}
		wellFormed(t, b.Bytes())
		f, err := gofeed.NewParser().ParseString(b.String())
		if err != nil {
			t.Fatalf("gofeed: %v\n%s", err, b.String())
		}
		if len(f.Items) != len(notices) {
			t.Fatalf("items = %d, want %d", len(f.Items), len(notices))
		}
		for i, it := range f.Items {
			n := notices[i]
			want := "https://signpost.northdale.example/cap/" + string(rune('0'+n.ID%10)) + ".xml"
			if it.Link != want {
				t.Errorf("entry %d link = %q, want %q", i, it.Link, want)
			}
			if !strings.HasSuffix(it.GUID, ":cap/"+CAPIdentifier(site, n)) {
				t.Errorf("entry %d id = %q, want the CAP identifier", i, it.GUID)
			}
		}
	}
}

// TestCAPMappings pins the category and status mappings documented on
// capCategory and capAssessment, and validates an alert for each status.
func TestCAPMappings(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	categories := map[signpost.Category]string{
		signpost.CategorySchools: "Other", signpost.CategoryRoads: "Transport", signpost.CategoryWaste: "Infra",
		signpost.CategoryTransport: "Transport", signpost.CategoryLibraries: "Other", signpost.CategoryLeisure: "Other",
		signpost.CategoryHealth: "Health", signpost.CategoryOther: "Other",
	}
	for _, c := range signpost.Categories {
		if got := capCategory(c); got != categories[c] {
			t.Errorf("capCategory(%s) = %q, want %q", c, got, categories[c])
		}
	}
	tests := []struct {
		status                       signpost.Status
		urgency, severity, certainty string
	}{
		{signpost.StatusClosed, "Immediate", "Moderate", "Observed"},
		{signpost.StatusCancelled, "Immediate", "Moderate", "Observed"},
		{signpost.StatusPartiallyOpen, "Immediate", "Minor", "Observed"},
		{signpost.StatusDelayed, "Immediate", "Minor", "Observed"},
		{signpost.StatusGrittingInProgress, "Expected", "Moderate", "Likely"},
		{signpost.StatusGritted, "Past", "Minor", "Observed"},
		{signpost.StatusResumed, "Past", "Minor", "Observed"},
		{signpost.StatusInformation, "Unknown", "Unknown", "Unknown"},
	}
	if len(tests) != len(signpost.Statuses) {
		t.Fatalf("table covers %d statuses, the domain has %d", len(tests), len(signpost.Statuses))
	}
	for i, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			t.Parallel()
			n := signpost.Notice{
				ID: int64(100 + i), Revision: 1, Category: signpost.Categories[i%len(signpost.Categories)], Status: tt.status,
				Places:   []signpost.PlaceRef{{Kind: signpost.PlaceAll}, {Kind: signpost.PlaceRound, ID: "R1"}, {Kind: signpost.PlaceWard, ID: "W1"}},
				Headline: "Test", PublishedAt: at("2026-11-25T06:00:00Z"), UpdatedAt: at("2026-11-25T06:00:00Z"),
			}
			var b bytes.Buffer
			if err := CAPAlert(&b, site, n, nil, nil); err != nil {
				t.Fatal(err)
			}
			var a capAlert
			if err := xml.Unmarshal(b.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			if a.Info.Urgency != tt.urgency || a.Info.Severity != tt.severity {
				t.Errorf("urgency %q severity %q, want %q %q", a.Info.Urgency, a.Info.Severity, tt.urgency, tt.severity)
			}
			if u, s, c := capAssessment(n); c != tt.certainty || u != tt.urgency || s != tt.severity {
				t.Errorf("capAssessment = %s %s %s", u, s, c)
			}
			var descs []string
			for _, area := range a.Info.Areas {
				descs = append(descs, area.Desc)
			}
			if got := strings.Join(descs, "|"); got != "The whole Northdale Council area|Bin round R1|Ward W1" {
				t.Errorf("area descriptions = %q", got)
			}
			validateCAP(t, b.Bytes())
		})
	}
}
