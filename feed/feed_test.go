package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"

	"github.com/signpost-uk/signpost"
)

// hostileHeadline mixes markup, an entity, a CDATA terminator, emoji, a
// combining accent and controls XML 1.0 forbids (NUL, VT, ESC, C1 NEL).
const hostileHeadline = "<b>Schools & ]]> shut 🎒 cafe\u0301\x00\x0b\x1b\u0085 \"now\" 'ok'"

// hostileHeadlineClean is what every feed must carry for hostileHeadline:
// the same text with the forbidden controls removed.
const hostileHeadlineClean = "<b>Schools & ]]> shut 🎒 cafe\u0301 \"now\" 'ok'"

func testSite(t testing.TB) Site {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatalf("load Europe/London: %v", err)
	}
	return Site{
		Name:     "Northdale Council",
		BaseURL:  "https://signpost.northdale.example",
		Location: loc,
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

// notices is a small snow day: a school closure at its second revision, an
// open-ended bin cancellation for one ward and a closed road notice.
func testNotices() []signpost.Notice {
	return []signpost.Notice{
		{
			ID: 7, Revision: 2, Category: signpost.CategorySchools, Status: signpost.StatusClosed,
			Places:   []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "142316"}},
			Headline: "Hill Top Primary closed today", Body: "Snow on site.\r\n\r\nReopens tomorrow.",
			Starts: ptr(at("2026-11-25T07:00:00Z")), Ends: ptr(at("2026-11-25T18:00:00Z")),
			PublishedAt: at("2026-11-25T06:10:00Z"), UpdatedAt: at("2026-11-25T06:40:00Z"),
		},
		{
			ID: 9, Revision: 1, Category: signpost.CategoryWaste, Status: signpost.StatusCancelled,
			Places:      []signpost.PlaceRef{{Kind: signpost.PlaceWard, ID: "NDW01"}},
			Headline:    "Bins not collected in Northdale Central",
			Starts:      ptr(at("2026-12-01T00:00:00Z")),
			PublishedAt: at("2026-11-25T06:20:00Z"), UpdatedAt: at("2026-11-25T06:20:00Z"),
		},
		{
			ID: 11, Revision: 3, Category: signpost.CategoryRoads, Status: signpost.StatusGritted,
			Places:      []signpost.PlaceRef{{Kind: signpost.PlaceRoute, ID: "ND-GR01"}, {Kind: signpost.PlaceAll}},
			Headline:    "Priority 1 routes gritted",
			PublishedAt: at("2026-11-24T18:00:00Z"), UpdatedAt: at("2026-11-25T05:00:00Z"),
			ClosedAt: ptr(at("2026-11-25T05:00:00Z")),
		},
	}
}

func testMeta() Meta {
	return Meta{Title: "Northdale disruptions", SelfPath: "/feeds/notices.atom", PagePath: "/", Updated: at("2026-11-20T00:00:00Z")}
}

func hostileNotice() signpost.Notice {
	return signpost.Notice{
		ID: 13, Revision: 1, Category: signpost.CategoryOther, Status: signpost.StatusInformation,
		Places:   []signpost.PlaceRef{{Kind: signpost.PlaceAll}},
		Headline: hostileHeadline, Body: "a & b < c ]]> d\x00\ninvalid \xff utf8",
		PublishedAt: at("2026-11-25T08:00:00Z"), UpdatedAt: at("2026-11-25T08:00:00Z"),
	}
}

// wellFormed reads every token with encoding/xml, which rejects malformed
// markup and characters XML 1.0 forbids.
func wellFormed(t testing.TB, doc []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
	}
}

func TestAtom(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	tests := []struct {
		name    string
		notices []signpost.Notice
		check   func(t *testing.T, f *gofeed.Feed)
	}{
		{
			name:    "empty list",
			notices: nil,
			check: func(t *testing.T, f *gofeed.Feed) {
				if len(f.Items) != 0 {
					t.Errorf("items = %d, want 0", len(f.Items))
				}
				if f.UpdatedParsed == nil || !f.UpdatedParsed.Equal(at("2026-11-20T00:00:00Z")) {
					t.Errorf("updated = %v, want Meta.Updated", f.UpdatedParsed)
				}
			},
		},
		{
			name:    "snow day",
			notices: testNotices(),
			check: func(t *testing.T, f *gofeed.Feed) {
				if f.Title != "Northdale disruptions" || f.Language != "en-GB" {
					t.Errorf("title %q language %q", f.Title, f.Language)
				}
				if f.FeedLink != "https://signpost.northdale.example/feeds/notices.atom" {
					t.Errorf("self link = %q", f.FeedLink)
				}
				if len(f.Authors) != 1 || f.Authors[0].Name != "Northdale Council" {
					t.Errorf("authors = %+v", f.Authors)
				}
				if f.UpdatedParsed == nil || !f.UpdatedParsed.Equal(at("2026-11-25T06:40:00Z")) {
					t.Errorf("feed updated = %v, want newest notice", f.UpdatedParsed)
				}
				if len(f.Items) != 3 {
					t.Fatalf("items = %d, want 3", len(f.Items))
				}
				it := f.Items[0]
				if it.GUID != "tag:signpost.northdale.example,2026:notice/7" {
					t.Errorf("id = %q", it.GUID)
				}
				if it.Link != "https://signpost.northdale.example/notices/7" {
					t.Errorf("link = %q", it.Link)
				}
				if !it.UpdatedParsed.Equal(at("2026-11-25T06:40:00Z")) || !it.PublishedParsed.Equal(at("2026-11-25T06:10:00Z")) {
					t.Errorf("updated %v published %v", it.UpdatedParsed, it.PublishedParsed)
				}
				// gofeed reports the label; the term is checked below with
				// its Atom parser.
				if len(it.Categories) != 1 || it.Categories[0] != "Schools" {
					t.Errorf("categories = %v", it.Categories)
				}
				if want := "Status: Closed.\n\nSnow on site.\n\nReopens tomorrow."; it.Content != want {
					t.Errorf("content = %q, want %q", it.Content, want)
				}
				if !strings.HasPrefix(f.Items[2].Content, "No longer in effect (closed 25 November 2026 05:00)") {
					t.Errorf("closed notice content = %q", f.Items[2].Content)
				}
			},
		},
		{
			name:    "hostile text",
			notices: []signpost.Notice{hostileNotice()},
			check: func(t *testing.T, f *gofeed.Feed) {
				if len(f.Items) != 1 {
					t.Fatalf("items = %d", len(f.Items))
				}
				if f.Items[0].Title != hostileHeadlineClean {
					t.Errorf("title = %q, want %q", f.Items[0].Title, hostileHeadlineClean)
				}
				if want := "Status: Information.\n\na & b < c ]]> d\ninvalid \uFFFD utf8"; f.Items[0].Content != want {
					t.Errorf("content = %q, want %q", f.Items[0].Content, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := Atom(&b, site, testMeta(), tt.notices); err != nil {
				t.Fatal(err)
			}
			wellFormed(t, b.Bytes())
			f, err := gofeed.NewParser().ParseString(b.String())
			if err != nil {
				t.Fatalf("gofeed: %v\n%s", err, b.String())
			}
			if f.FeedType != "atom" {
				t.Fatalf("feed type = %q", f.FeedType)
			}
			raw, err := (&atom.Parser{}).Parse(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatalf("gofeed atom: %v", err)
			}
			for i, e := range raw.Entries {
				if len(e.Categories) != 1 || e.Categories[0].Term != string(tt.notices[i].Category) {
					t.Errorf("entry %d category = %+v, want term %q", i, e.Categories, tt.notices[i].Category)
				}
			}
			tt.check(t, f)
		})
	}
}

// TestAtomIDStableAcrossRevisions checks readers update an entry rather
// than add one when a notice changes.
func TestAtomIDStableAcrossRevisions(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	n := testNotices()[0]
	ids := map[string]bool{}
	for rev := 1; rev <= 3; rev++ {
		n.Revision = rev
		n.Headline = "Revision " + string(rune('0'+rev))
		n.UpdatedAt = n.UpdatedAt.Add(time.Hour)
		var b bytes.Buffer
		if err := Atom(&b, site, testMeta(), []signpost.Notice{n}); err != nil {
			t.Fatal(err)
		}
		f, err := gofeed.NewParser().ParseString(b.String())
		if err != nil {
			t.Fatal(err)
		}
		ids[f.Items[0].GUID] = true
	}
	if len(ids) != 1 {
		t.Errorf("entry ids across revisions = %v, want one", ids)
	}
}

func TestJSONFeed(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	meta := testMeta()
	meta.SelfPath = "/feeds/notices.json?ward=NDW01&category=waste"
	tests := []struct {
		name    string
		notices []signpost.Notice
		check   func(t *testing.T, f *gofeed.Feed)
	}{
		{"empty list", nil, func(t *testing.T, f *gofeed.Feed) {
			if len(f.Items) != 0 {
				t.Errorf("items = %d", len(f.Items))
			}
		}},
		{"snow day", testNotices(), func(t *testing.T, f *gofeed.Feed) {
			if f.FeedLink != "https://signpost.northdale.example/feeds/notices.json?ward=NDW01&category=waste" {
				t.Errorf("feed_url = %q", f.FeedLink)
			}
			if f.Link != "https://signpost.northdale.example/" || f.Language != "en-GB" {
				t.Errorf("home %q language %q", f.Link, f.Language)
			}
			if len(f.Items) != 3 {
				t.Fatalf("items = %d", len(f.Items))
			}
			it := f.Items[1]
			if it.GUID != "tag:signpost.northdale.example,2026:notice/9" || it.Link != "https://signpost.northdale.example/notices/9" {
				t.Errorf("id %q url %q", it.GUID, it.Link)
			}
			if it.Title != "Bins not collected in Northdale Central" || it.Content != "Status: Cancelled." {
				t.Errorf("title %q content %q", it.Title, it.Content)
			}
			if it.PublishedParsed == nil || !it.PublishedParsed.Equal(at("2026-11-25T06:20:00Z")) {
				t.Errorf("published = %v", it.PublishedParsed)
			}
			if strings.Join(it.Categories, ",") != "waste,cancelled" {
				t.Errorf("tags = %v", it.Categories)
			}
			if strings.Join(f.Items[2].Categories, ",") != "roads,gritted,ended" {
				t.Errorf("closed notice tags = %v", f.Items[2].Categories)
			}
		}},
		{"hostile text", []signpost.Notice{hostileNotice()}, func(t *testing.T, f *gofeed.Feed) {
			if f.Items[0].Title != hostileHeadlineClean {
				t.Errorf("title = %q", f.Items[0].Title)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := JSONFeed(&b, site, meta, tt.notices); err != nil {
				t.Fatal(err)
			}
			if !utf8.Valid(b.Bytes()) {
				t.Fatal("output is not UTF-8")
			}
			// The spec requires these members; gofeed tolerates their absence.
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"version", "title", "home_page_url", "feed_url", "language", "authors"} {
				if _, ok := raw[k]; !ok {
					t.Errorf("missing %q", k)
				}
			}
			if items := string(raw["items"]); !strings.HasPrefix(items, "[") {
				t.Errorf("items = %s, want an array", items)
			}
			f, err := gofeed.NewParser().ParseString(b.String())
			if err != nil {
				t.Fatalf("gofeed: %v\n%s", err, b.String())
			}
			if f.FeedType != "json" || f.FeedVersion != JSONFeedVersion {
				t.Fatalf("type %q version %q", f.FeedType, f.FeedVersion)
			}
			if f.Title != "Northdale disruptions" || len(f.Authors) != 1 || f.Authors[0].Name != "Northdale Council" {
				t.Errorf("title %q authors %+v", f.Title, f.Authors)
			}
			tt.check(t, f)
		})
	}
}

func TestSiteURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ base, path, want string }{
		{"https://c.example", "/feeds/a.atom", "https://c.example/feeds/a.atom"},
		{"https://c.example/", "/feeds/a.atom?ward=W1", "https://c.example/feeds/a.atom?ward=W1"},
		{"https://c.example/signpost", "/notices/4", "https://c.example/signpost/notices/4"},
		{"https://c.example/signpost/", "cap/4.xml", "https://c.example/signpost/cap/4.xml"},
		{"https://c.example", "https://cdn.example/x.xml", "https://cdn.example/x.xml"},
	}
	for _, tt := range tests {
		if got := (Site{BaseURL: tt.base}).URL(tt.path); got != tt.want {
			t.Errorf("Site{%q}.URL(%q) = %q, want %q", tt.base, tt.path, got, tt.want)
		}
	}
}

func TestSiteValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		site Site
		ok   bool
	}{
		{Site{Name: "C", BaseURL: "https://c.example"}, true},
		{Site{Name: "C", BaseURL: "http://127.0.0.1:8080/"}, true},
		{Site{Name: "C", BaseURL: "/relative"}, false},
		{Site{Name: "C", BaseURL: "ftp://c.example"}, false},
		{Site{Name: "C", BaseURL: "https://"}, false},
		{Site{Name: " ", BaseURL: "https://c.example"}, false},
	}
	for _, tt := range tests {
		err := tt.site.Validate()
		if (err == nil) != tt.ok || (err != nil && signpost.ErrorCode(err) != signpost.EINVALID) {
			t.Errorf("%+v: err = %v, want ok=%v", tt.site, err, tt.ok)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\r\nb\rc", "a\nb\nc"},
		{"tab\there", "tab\there"},
		{"nul\x00 esc\x1b del\x7f nel\u0085", "nul esc del nel"},
		{"bad \xff\xfe utf8", "bad \uFFFD\uFFFD utf8"},
		{"non\uFFFEchar\uFFFF", "nonchar"},
		{"e\u0301 🎒", "e\u0301 🎒"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
