package inbox

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/risk"
)

// northdale is a few of the demo council's places.
func northdale() Places {
	return Places{
		Schools: []signpost.School{
			{URN: "142316", Name: "Holy Trinity Nursery School", WardCode: "NDW01"},
			{URN: "142317", Name: "Holy Trinity Primary School", WardCode: "NDW07"},
			{URN: "142318", Name: "Holy Trinity High School", WardCode: "NDW02"},
			{URN: "142352", Name: "St Mary's Nursery School", WardCode: "NDW01"},
			{URN: "142360", Name: "Castle Academy", WardCode: "NDW03"},
			{URN: "142361", Name: "Castle Road Primary School", WardCode: "NDW03"},
			{URN: "142370", Name: "Dunmore Primary School", WardCode: "NDW06"},
		},
		Wards: []signpost.Ward{{Code: "NDW01", Name: "Greenbank"}, {Code: "NDW03", Name: "Castle"}, {Code: "NDW06", Name: "Dunmore"}},
		Routes: []signpost.Route{
			{ID: "ND-GR01", Name: "Route 1: Abbey to Harbour"},
			{ID: "ND-GR10", Name: "Route 10: Fellside to Eastfield"},
		},
		Rounds: []signpost.Round{{ID: "ND-R001", WardCode: "NDW01", Sector: "ND1 1"}},
		Postcode: func(pc string) (signpost.Postcode, bool) {
			if pc == "ND1 1BX" {
				return signpost.Postcode{Postcode: pc, WardCode: "NDW01"}, true
			}
			return signpost.Postcode{}, false
		},
	}
}

func names(ms []PlaceMatch) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Kind+":"+m.ID)
	}
	return strings.Join(out, " ")
}

func TestFind(t *testing.T) {
	g := NewGazetteer(northdale())
	cases := []struct{ text, want string }{
		{"Is Holy Trinity Primary School open today?", "school:142317"},
		{"is holy trinity prim shut??", "school:142317"},
		{"HOLY-TRINITY PRIMARY", "school:142317"},
		{"Is Holy Trinity closed?", "school:142316 school:142317 school:142318"},
		{"Is Saint Marys nursery open", "school:142352"},
		{"st. mary’s nursery sch", "school:142352"},
		{"Castle Academy closed?", "school:142360"},
		{"Has Castle Rd Primary got heating", "school:142361"},
		{"Gritting in Castle ward please", "ward:NDW03"},
		{"Dunmore Primary and the rest of Dunmore", "school:142370 ward:NDW06"},
		{"When is route 1 gritted? Not route 10", "route:ND-GR01 route:ND-GR10"},
		{"is ND-GR10 done", "route:ND-GR10"},
		{"My bins at nd11bx were missed, also ND9 9ZZ", "postcode:ND1 1BX postcode:ND9 9ZZ"},
		{"Nothing here about anywhere", ""},
		{"", ""},
	}
	for _, tc := range cases {
		if got := names(g.Find(tc.text)); got != tc.want {
			t.Errorf("Find(%q) = %q; want %q", tc.text, got, tc.want)
		}
	}
	if got := g.Find("bins at ND1 1BX"); len(got) != 1 || got[0].Name != "ND1 1BX (Greenbank)" {
		t.Errorf("known postcode named %+v; want its ward", got)
	}
}

func TestSuggestCategory(t *testing.T) {
	g := NewGazetteer(northdale())
	cases := []struct {
		text string
		want signpost.Category
	}{
		{"Is Holy Trinity Primary open today?", signpost.CategorySchools},
		{"Has route 1 been gritted yet? It's icy", signpost.CategoryRoads},
		{"My bin wasn't collected on Tuesday", signpost.CategoryWaste},
		{"Are the buses running?", signpost.CategoryTransport},
		{"Is the library open", signpost.CategoryLibraries},
		{"Thank you!", ""},
	}
	for _, tc := range cases {
		if got := SuggestCategory(tc.text, g.Find(tc.text)); got != tc.want {
			t.Errorf("SuggestCategory(%q) = %q; want %q", tc.text, got, tc.want)
		}
	}
}

func TestAnsweringNotices(t *testing.T) {
	g := NewGazetteer(northdale())
	closed := time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC)
	notices := []signpost.Notice{
		{ID: 1, Category: signpost.CategorySchools, Places: []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "142317"}}, Headline: "Holy Trinity Primary is closed today"},
		{ID: 2, Category: signpost.CategorySchools, Places: []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "142361"}}},
		{ID: 3, Category: signpost.CategoryWaste, Places: []signpost.PlaceRef{{Kind: signpost.PlaceRound, ID: "ND-R001"}}},
		{ID: 4, Category: signpost.CategoryRoads, Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}},
		{ID: 5, Category: signpost.CategorySchools, Places: []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "142317"}}, ClosedAt: &closed},
		{ID: 6, Category: signpost.CategoryRoads, Places: []signpost.PlaceRef{{Kind: signpost.PlaceWard, ID: "NDW01"}}},
	}
	cases := []struct {
		text string
		want []int64
	}{
		{"Is Holy Trinity Primary School open?", []int64{1}},
		{"bins missed at ND1 1BX", []int64{3, 6}},
		{"are the roads gritted", []int64{4}},
		{"route 1 icy?", []int64{4}},
		{"Is the library open", nil},
	}
	for _, tc := range cases {
		places := g.Find(tc.text)
		if got := g.AnsweringNotices(places, SuggestCategory(tc.text, places), notices); !slices.Equal(got, tc.want) {
			t.Errorf("AnsweringNotices(%q) = %v; want %v", tc.text, got, tc.want)
		}
	}
}

// TestTriageMessage runs the real screener over incoming messages from
// the development set and checks the flags and urgency they produce.
func TestTriageMessage(t *testing.T) {
	sc, err := risk.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGazetteer(northdale())
	ctx := context.Background()
	cases := []struct {
		text   string
		flags  string
		urgent bool
	}{
		{"My neighbour's carer hasn't been for three days and he can't get out of bed", "[safeguarding]", true},
		{"If the gritters don't come by tonight I'll smash the depot windows myself", "[threat]", false},
		{"Is Holy Trinity Primary School open today?", "[]", false},
	}
	for _, tc := range cases {
		tr := TriageMessage(ctx, tc.text, g, nil, sc)
		if fmt.Sprint(nonNilStrings(tr.Flags)) != tc.flags || tr.Urgent != tc.urgent {
			t.Errorf("TriageMessage(%q) flags %v urgent %v; want %s %v", tc.text, tr.Flags, tr.Urgent, tc.flags, tc.urgent)
		}
	}
	tr := TriageMessage(ctx, "Is Holy Trinity Primary School open today?", g, nil, sc)
	if tr.Category != "schools" || names(tr.Places) != "school:142317" {
		t.Errorf("triage = %+v", tr)
	}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestRepeatsFlagged(t *testing.T) {
	sc, err := risk.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := sc.Screen(context.Background(), "If the gritters don't come by tonight I'll smash the depot windows myself", risk.Options{Context: risk.Incoming})
	if len(rep.Findings) == 0 {
		t.Fatal("the screener found nothing to test against")
	}
	quoted := "You said: " + strings.ToUpper(rep.Findings[0].Text)
	if !RepeatsFlagged(quoted, rep) {
		t.Errorf("a reply quoting %q was not caught", rep.Findings[0].Text)
	}
	if RepeatsFlagged("The gritters are out on priority routes tonight.", rep) {
		t.Errorf("an ordinary answer was caught")
	}
}

func TestNoticeReply(t *testing.T) {
	n := signpost.Notice{Headline: " Holy Trinity Primary is closed today ", Status: signpost.StatusClosed}
	got := NoticeReply(n, "https://example.gov.uk/notices/1")
	want := "Thank you for getting in touch. Our latest update: \u201cHoly Trinity Primary is closed today\u201d (closed). Full details, and any changes, are at https://example.gov.uk/notices/1"
	if got != want {
		t.Errorf("NoticeReply = %q", got)
	}
}

// FuzzFind checks the gazetteer never panics and only reports places it
// knows or postcodes of a valid shape, whatever the text.
func FuzzFind(f *testing.F) {
	for _, s := range []string{"Holy Trinity Prim", "nd11bx", "St. Mary’s", "route 1", "\xff'’", "a's's", "Castle Castle Academy"} {
		f.Add(s)
	}
	g := NewGazetteer(northdale())
	f.Fuzz(func(t *testing.T, text string) {
		for _, m := range g.Find(text) {
			switch m.Kind {
			case "postcode":
				if pc, err := signpost.NormalizePostcode(m.ID); err != nil || pc != m.ID {
					t.Errorf("postcode %q from %q", m.ID, text)
				}
			case "school", "ward", "route":
			default:
				t.Errorf("kind %q from %q", m.Kind, text)
			}
		}
	})
}
