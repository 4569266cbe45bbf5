package subscribe

import (
	"context"
	"sort"
	"strings"

	"github.com/signpost-uk/signpost"
)

// The kinds of thing a resident can subscribe to.
const (
	KindWard     = "ward"
	KindSchool   = "school"
	KindRound    = "round"
	KindCategory = "category"
)

// Choice is one topic a resident can pick, with the words the pages and
// e-mails use for it.
type Choice struct {
	Topic string // "ward:NDW01", "school:142316", "round:ND-R001", "category:schools"
	Label string // "Greenbank ward"
	Group string // "Wards", "Schools", "Bin collection rounds", "Services"
}

// PlaceReader reads the places topics refer to.
type PlaceReader interface {
	Wards(ctx context.Context) ([]signpost.Ward, error)
	Schools(ctx context.Context) ([]signpost.School, error)
	Routes(ctx context.Context) ([]signpost.Route, error)
	Rounds(ctx context.Context) ([]signpost.Round, error)
}

// catalogue is every topic and how notices' places map to wards, read
// from the places at one moment.
type catalogue struct {
	choices []Choice
	byTopic map[string]Choice
	// wardsOf maps a place reference ("school:142316") to the wards it
	// lies in, so a ward subscriber hears about its schools, rounds and
	// gritting routes.
	wardsOf map[string][]string
}

func loadCatalogue(ctx context.Context, places PlaceReader) (*catalogue, error) {
	wards, err := places.Wards(ctx)
	if err != nil {
		return nil, err
	}
	schools, err := places.Schools(ctx)
	if err != nil {
		return nil, err
	}
	routes, err := places.Routes(ctx)
	if err != nil {
		return nil, err
	}
	rounds, err := places.Rounds(ctx)
	if err != nil {
		return nil, err
	}
	c := &catalogue{byTopic: map[string]Choice{}, wardsOf: map[string][]string{}}
	add := func(ch Choice) {
		c.choices = append(c.choices, ch)
		c.byTopic[ch.Topic] = ch
	}
	wardName := map[string]string{}
	for _, w := range wards {
		wardName[w.Code] = w.Name
		add(Choice{Topic: KindWard + ":" + w.Code, Label: w.Name + " ward", Group: "Wards"})
	}
	sort.Slice(schools, func(i, j int) bool { return schools[i].Name < schools[j].Name })
	for _, s := range schools {
		add(Choice{Topic: KindSchool + ":" + s.URN, Label: s.Name, Group: "Schools"})
		c.wardsOf["school:"+s.URN] = []string{s.WardCode}
	}
	for _, r := range rounds {
		label := "Bin round " + r.ID + " (" + r.Day.String() + ", " + r.Sector + ")"
		if n := wardName[r.WardCode]; n != "" {
			label = "Bin round " + r.ID + " (" + r.Day.String() + ", " + n + ")"
		}
		add(Choice{Topic: KindRound + ":" + r.ID, Label: label, Group: "Bin collection rounds"})
		c.wardsOf["round:"+r.ID] = []string{r.WardCode}
	}
	for _, r := range routes {
		c.wardsOf["route:"+r.ID] = r.Wards
	}
	for _, k := range signpost.Categories {
		add(Choice{Topic: KindCategory + ":" + string(k), Label: "All " + strings.ToLower(k.Label()) + " notices", Group: "Services"})
	}
	return c, nil
}

// match returns the topics a notice revision reaches, and whether it is
// about the whole area (so every place topic matches).
func (c *catalogue) match(n signpost.Notice) (topics []string, anyPlace bool) {
	seen := map[string]bool{}
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			topics = append(topics, t)
		}
	}
	add(KindCategory + ":" + string(n.Category))
	for _, p := range n.Places {
		switch p.Kind {
		case signpost.PlaceAll:
			anyPlace = true
			continue
		case signpost.PlaceWard, signpost.PlaceSchool, signpost.PlaceRound:
			add(string(p.Kind) + ":" + p.ID)
		}
		for _, w := range c.wardsOf[p.String()] {
			add(KindWard + ":" + w)
		}
	}
	sort.Strings(topics)
	return topics, anyPlace
}
