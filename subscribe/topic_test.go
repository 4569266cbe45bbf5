package subscribe

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
)

type places struct{}

func (places) Wards(context.Context) ([]signpost.Ward, error) {
	return []signpost.Ward{{Code: "W1", Name: "Greenbank"}, {Code: "W2", Name: "Harbour"}, {Code: "W3", Name: "Moor"}}, nil
}
func (places) Schools(context.Context) ([]signpost.School, error) {
	return []signpost.School{{URN: "100001", Name: "Holy Trinity", WardCode: "W1"}}, nil
}
func (places) Routes(context.Context) ([]signpost.Route, error) {
	return []signpost.Route{{ID: "GR1", Wards: []string{"W2", "W3"}}}, nil
}
func (places) Rounds(context.Context) ([]signpost.Round, error) {
	return []signpost.Round{{ID: "B1", WardCode: "W3", Day: time.Tuesday, Sector: "ND3 1"}}, nil
}

// TestMatch checks who a notice reaches: its category, the places it
// names, and the wards those places lie in.
func TestMatch(t *testing.T) {
	t.Parallel()
	c, err := loadCatalogue(context.Background(), places{})
	if err != nil {
		t.Fatal(err)
	}
	ref := func(s string) signpost.PlaceRef {
		p, err := signpost.ParsePlaceRef(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		category signpost.Category
		places   []string
		want     []string
		anyPlace bool
	}{
		{"school reaches its ward", signpost.CategorySchools, []string{"school:100001"}, []string{"category:schools", "school:100001", "ward:W1"}, false},
		{"round reaches its ward", signpost.CategoryWaste, []string{"round:B1"}, []string{"category:waste", "round:B1", "ward:W3"}, false},
		{"route reaches every ward it crosses", signpost.CategoryRoads, []string{"route:GR1"}, []string{"category:roads", "ward:W2", "ward:W3"}, false},
		{"ward", signpost.CategoryOther, []string{"ward:W2", "ward:W2"}, []string{"category:other", "ward:W2"}, false},
		{"whole area", signpost.CategoryRoads, []string{"all"}, []string{"category:roads"}, true},
		{"unknown place still matches itself", signpost.CategorySchools, []string{"school:999"}, []string{"category:schools", "school:999"}, false},
	}
	for _, tt := range tests {
		n := signpost.Notice{Category: tt.category}
		for _, p := range tt.places {
			n.Places = append(n.Places, ref(p))
		}
		got, anyPlace := c.match(n)
		if !slices.Equal(got, tt.want) || anyPlace != tt.anyPlace {
			t.Errorf("%s: %v any=%v, want %v any=%v", tt.name, got, anyPlace, tt.want, tt.anyPlace)
		}
	}
	if ch := c.byTopic["round:B1"]; ch.Label != "Bin round B1 (Tuesday, Moor)" || ch.Group != "Bin collection rounds" {
		t.Errorf("round choice = %+v", ch)
	}
	if ch := c.byTopic["category:schools"]; ch.Label != "All schools notices" {
		t.Errorf("category choice = %+v", ch)
	}
}

func TestNormaliseAddress(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		" Ann.Smith@Example.ORG ":          "ann.smith@example.org",
		"a+tag@sub.example.co.uk":          "a+tag@sub.example.co.uk",
		"":                                 "",
		"ann":                              "",
		"ann@localhost":                    "",
		"Ann <ann@example.org>":            "",
		"ann@example.org, bob@example.org": "",
		"ann@example.org.":                 "",
	} {
		got, err := NormaliseAddress(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("NormaliseAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestPacer(t *testing.T) {
	t.Parallel()
	p := newPacer(200)
	start := time.Now()
	for range 21 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// 21 sends at 200/s need 100 ms after the first.
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("21 sends at 200/s took %s, want at least 100ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	slow := newPacer(0.001)
	slow.wait(context.Background())
	if err := slow.wait(ctx); err == nil {
		t.Error("a cancelled wait returned nil")
	}
}
