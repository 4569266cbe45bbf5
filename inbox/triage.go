package inbox

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/risk"
)

// Places are what the gazetteer recognises in messages.
type Places struct {
	Schools []signpost.School
	Wards   []signpost.Ward
	Routes  []signpost.Route
	Rounds  []signpost.Round
	// Postcode looks up a normalised postcode; nil or false means the
	// council does not hold it (it is still reported, without a ward).
	Postcode func(normalised string) (signpost.Postcode, bool)
}

// Gazetteer finds the council's places in free text, however residents
// write them: any case or punctuation, "St" or "Saint", "Prim" or
// "Primary", with or without the apostrophe in "St Mary's". Build it once
// per change of places; Find is safe for concurrent use.
type Gazetteer struct {
	byFirst  map[string][]pattern
	wardName map[string]string
	rounds   []signpost.Round
	postcode func(string) (signpost.Postcode, bool)
}

// pattern is one way of writing a place, as normalised tokens.
type pattern struct {
	tokens []string
	place  PlaceMatch
}

// synonyms maps the abbreviations and variants residents use onto one
// token. "st" stands for Saint and Street alike: the two never sit in the
// same place in a name, so merging them loses nothing.
var synonyms = map[string]string{
	"saint": "st", "street": "st", "str": "st",
	"prim": "primary", "pri": "primary", "primry": "primary",
	"sch": "school", "schl": "school", "skool": "school",
	"jnr": "junior", "jun": "junior", "inf": "infant", "infants": "infant",
	"sec": "secondary", "acad": "academy", "nurs": "nursery",
	"rd": "road", "ave": "avenue", "ln": "lane", "dr": "drive", "cres": "crescent",
	"pk": "park", "gdns": "gardens", "sq": "square", "rte": "route",
}

// generic words describe what kind of school a place is, not which one;
// the rest of the name (its core) is what residents usually type.
var generic = map[string]bool{
	"school": true, "primary": true, "nursery": true, "infant": true, "junior": true, "high": true,
	"academy": true, "special": true, "secondary": true, "community": true, "college": true,
	"ce": true, "rc": true, "the": true, "and": true, "of": true,
}

// tokens splits text into lower-case words and numbers, dropping
// apostrophes inside words ("Mary's" is "marys") and applying synonyms.
func tokens(s string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() == 0 {
			return
		}
		w := b.String()
		if v, ok := synonyms[w]; ok {
			w = v
		}
		out = append(out, w)
		b.Reset()
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case (r == '\'' || r == '’') && b.Len() > 0:
			// inside a word: drop it
		default:
			flush()
		}
	}
	flush()
	return out
}

// NewGazetteer indexes the places.
func NewGazetteer(p Places) *Gazetteer {
	g := &Gazetteer{byFirst: map[string][]pattern{}, wardName: map[string]string{}, rounds: p.Rounds, postcode: p.Postcode}
	add := func(toks []string, m PlaceMatch) {
		if len(toks) == 0 {
			return
		}
		for _, q := range g.byFirst[toks[0]] {
			if q.place == m && slices.Equal(q.tokens, toks) {
				return
			}
		}
		g.byFirst[toks[0]] = append(g.byFirst[toks[0]], pattern{toks, m})
	}
	for _, s := range p.Schools {
		m := PlaceMatch{Kind: string(signpost.PlaceSchool), ID: s.URN, Name: s.Name}
		full := tokens(s.Name)
		add(full, m)
		if n := len(full); n > 1 && full[n-1] == "school" {
			add(full[:n-1], m) // "Holy Trinity Primary"
		}
		var core []string
		for _, t := range full {
			if !generic[t] {
				core = append(core, t)
			}
		}
		// A one-word core ("Dunmore") is too often a ward or a road to
		// stand for the school on its own.
		if len(core) > 1 {
			add(core, m)
		}
	}
	for _, w := range p.Wards {
		m := PlaceMatch{Kind: string(signpost.PlaceWard), ID: w.Code, Name: w.Name}
		g.wardName[w.Code] = w.Name
		add(tokens(w.Name), m)
	}
	for _, r := range p.Routes {
		m := PlaceMatch{Kind: string(signpost.PlaceRoute), ID: r.ID, Name: r.Name}
		add(tokens(r.Name), m)
		add(tokens(r.ID), m)
		if label, _, ok := strings.Cut(r.Name, ":"); ok {
			add(tokens(label), m) // "Route 1"
		}
	}
	return g
}

// postcodeLike finds UK postcodes written with or without the space.
var postcodeLike = regexp.MustCompile(`(?i)\b[a-z]{1,2}[0-9][a-z0-9]?\s?[0-9][a-z]{2}\b`)

// Find returns the places text mentions, in the order it first mentions
// them. Where several ways of writing places match at one point, only the
// longest count ("Holy Trinity Primary" is the primary school, not every
// Holy Trinity); a ward named inside a school's or route's name ("Castle
// Academy") is not a mention of the ward.
func (g *Gazetteer) Find(text string) []PlaceMatch {
	type hit struct {
		start, end int
		place      PlaceMatch
	}
	toks := tokens(text)
	var hits []hit
	for i := range toks {
		best := 0
		var here []hit
		for _, p := range g.byFirst[toks[i]] {
			n := len(p.tokens)
			if i+n > len(toks) || !slices.Equal(toks[i:i+n], p.tokens) || n < best {
				continue
			}
			if n > best {
				best, here = n, here[:0]
			}
			here = append(here, hit{i, i + n, p.place})
		}
		hits = append(hits, here...)
	}
	var out []PlaceMatch
	seen := map[PlaceMatch]bool{}
	for _, h := range hits {
		if h.place.Kind == string(signpost.PlaceWard) && slices.ContainsFunc(hits, func(o hit) bool {
			return o.place.Kind != string(signpost.PlaceWard) && o.start <= h.start && h.end <= o.end
		}) {
			continue
		}
		if !seen[h.place] {
			seen[h.place] = true
			out = append(out, h.place)
		}
	}
	for _, raw := range postcodeLike.FindAllString(text, -1) {
		pc, err := signpost.NormalizePostcode(raw)
		if err != nil {
			continue
		}
		m := PlaceMatch{Kind: "postcode", ID: pc, Name: pc}
		if g.postcode != nil {
			if p, ok := g.postcode(pc); ok {
				if name := g.wardName[p.WardCode]; name != "" {
					m.Name = pc + " (" + name + ")"
				}
			}
		}
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// categoryWords are the words that point to each category. A place
// mentioned counts as well: a school for schools, a route for roads.
var categoryWords = map[signpost.Category][]string{
	signpost.CategorySchools:   {"school", "schools", "pupils", "kids", "children", "teacher", "teachers", "nursery", "primary", "academy", "term", "class", "uniform"},
	signpost.CategoryRoads:     {"road", "roads", "grit", "gritted", "gritting", "gritter", "gritters", "icy", "ice", "pothole", "potholes", "salt", "salted", "plough", "route", "pavement", "pavements", "lane", "avenue", "drive"},
	signpost.CategoryWaste:     {"bin", "bins", "collection", "collected", "collections", "recycling", "rubbish", "refuse", "waste", "tip", "binmen", "garden", "food"},
	signpost.CategoryTransport: {"bus", "buses", "train", "trains", "tram", "ferry", "timetable", "station", "parking"},
	signpost.CategoryLibraries: {"library", "libraries", "books", "borrow"},
	signpost.CategoryLeisure:   {"leisure", "pool", "swimming", "gym", "sports", "park", "playground"},
	signpost.CategoryHealth:    {"gp", "surgery", "clinic", "hospital", "pharmacy", "vaccination", "nurse", "doctor", "care"},
}

var placeCategory = map[string]signpost.Category{
	string(signpost.PlaceSchool): signpost.CategorySchools,
	string(signpost.PlaceRoute):  signpost.CategoryRoads,
	string(signpost.PlaceRound):  signpost.CategoryWaste,
}

// SuggestCategory picks the category text is most likely about, or ""
// when nothing points anywhere. Places mentioned weigh twice a word.
func SuggestCategory(text string, places []PlaceMatch) signpost.Category {
	score := map[signpost.Category]int{}
	for _, t := range tokens(text) {
		for c, words := range categoryWords {
			if slices.Contains(words, t) {
				score[c]++
			}
		}
	}
	for _, p := range places {
		if c, ok := placeCategory[p.Kind]; ok {
			score[c] += 2
		}
	}
	var best signpost.Category
	for _, c := range signpost.Categories { // a fixed order breaks ties the same way every time
		if score[c] > score[best] {
			best = c
		}
	}
	return best
}

// AnsweringNotices returns the current notices that may answer a message
// about places in category: first those naming a place mentioned (or the
// ward or bin round of a postcode mentioned), then whole-area notices of
// the same category. Closed notices never answer anything.
func (g *Gazetteer) AnsweringNotices(places []PlaceMatch, category signpost.Category, notices []signpost.Notice) []int64 {
	var refs []signpost.PlaceRef
	for _, p := range places {
		switch p.Kind {
		case "postcode":
			if g.postcode == nil {
				continue
			}
			pc, ok := g.postcode(p.ID)
			if !ok {
				continue
			}
			refs = append(refs, signpost.PlaceRef{Kind: signpost.PlaceWard, ID: pc.WardCode})
			sector := signpost.PostcodeSector(p.ID)
			for _, r := range g.rounds {
				if r.Sector == sector {
					refs = append(refs, signpost.PlaceRef{Kind: signpost.PlaceRound, ID: r.ID})
				}
			}
		default:
			refs = append(refs, signpost.PlaceRef{Kind: signpost.PlaceKind(p.Kind), ID: p.ID})
		}
	}
	var direct, area []int64
	for _, n := range notices {
		if n.Closed() {
			continue
		}
		named := slices.ContainsFunc(n.Places, func(np signpost.PlaceRef) bool { return slices.Contains(refs, np) })
		switch {
		case named:
			direct = append(direct, n.ID)
		case category != "" && n.Category == category && n.Affects(signpost.PlaceAll, ""):
			area = append(area, n.ID)
		}
	}
	out := append(direct, area...)
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}

// Flags turns an incoming message's screening report into the inbox's
// flags: abuse and threat (never quoted back), and safeguarding, which
// makes the conversation urgent.
func Flags(rep risk.Report) (flags []string, urgent bool) {
	for _, c := range rep.Categories {
		switch c {
		case risk.Abuse, risk.Threat, risk.Safeguarding:
			flags = append(flags, string(c))
		}
	}
	urgent = rep.Escalate || slices.Contains(flags, FlagSafeguarding)
	if urgent && !slices.Contains(flags, FlagSafeguarding) {
		flags = append(flags, FlagSafeguarding)
	}
	return flags, urgent
}

// Screener is the part of risk.Screener the inbox uses.
type Screener interface {
	Screen(ctx context.Context, text string, opts risk.Options) risk.Report
}

// TriageMessage works out everything the console shows beside a message:
// the places it mentions, a suggested category, the current notices that
// may answer it, and the screener's flags.
func TriageMessage(ctx context.Context, text string, g *Gazetteer, notices []signpost.Notice, sc Screener) Triage {
	places := g.Find(text)
	category := SuggestCategory(text, places)
	flags, urgent := Flags(sc.Screen(ctx, text, risk.Options{Context: risk.Incoming}))
	return Triage{
		Category: string(category),
		Places:   places,
		Notices:  g.AnsweringNotices(places, category, notices),
		Flags:    flags,
		Urgent:   urgent,
	}
}

// NoticeReply is the one-click answer to a question a notice answers: it
// quotes the notice's headline and status and links the notice, and
// never repeats anything the resident wrote.
func NoticeReply(n signpost.Notice, link string) string {
	return fmt.Sprintf("Thank you for getting in touch. Our latest update: “%s” (%s). Full details, and any changes, are at %s",
		strings.TrimSpace(n.Headline), strings.ToLower(n.Status.Label()), link)
}

// RepeatsFlagged reports whether a reply repeats words that the screener
// flagged as abuse or a threat in the message it answers, which must never
// be shown back to a resident. Case and spacing are ignored.
func RepeatsFlagged(reply string, incoming risk.Report) bool {
	r := strings.Join(tokens(reply), " ")
	for _, f := range incoming.Findings {
		if f.Category != risk.Abuse && f.Category != risk.Threat || f.Severity < risk.Medium {
			continue
		}
		if t := strings.Join(tokens(f.Text), " "); t != "" && strings.Contains(" "+r+" ", " "+t+" ") {
			return true
		}
	}
	return false
}
