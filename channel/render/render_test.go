package render

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
)

func TestLength(t *testing.T) {
	t.Parallel()
	longURL := "https://www.northdale.gov.uk/" + strings.Repeat("a", 200)
	family := "👩\u200d👩\u200d👧\u200d👦"
	tests := []struct {
		name string
		text string
		t    channel.Type
		want int
	}{
		{"ascii x", "hello world", channel.X, 11},
		{"japanese weighs 2 on x", "こんにちは", channel.X, 10},
		{"zwj family is one emoji on x", family, channel.X, 2},
		{"flag is one emoji on x", "🇬🇧", channel.X, 2},
		{"keycap on x", "#\ufe0f\u20e3", channel.X, 2},
		{"combining accent normalises on x", "cafe\u0301", channel.X, 4},
		{"welsh circumflex on x", "ŵ ŷ", channel.X, 3},
		{"curly quotes are light on x", "“a”", channel.X, 3},
		{"url counts 23 on x", "see " + longURL, channel.X, 4 + 23},
		{"url trailing full stop is text on x", "see " + longURL + ".", channel.X, 4 + 23 + 1},
		{"zwj family is one grapheme on bluesky", family + family, channel.Bluesky, 2},
		{"flags on bluesky", "🇬🇧🏴\U000E0067\U000E0062\U000E0077\U000E006C\U000E0073\U000E007F", channel.Bluesky, 2},
		{"combining on bluesky", "cafe\u0301", channel.Bluesky, 4},
		{"url is literal on bluesky", "https://a.uk/xyz", channel.Bluesky, 16},
		{"url counts 23 on mastodon", longURL, channel.Mastodon, 23},
		{"graphemes on mastodon", family + " ok", channel.Mastodon, 4},
		{"runes on facebook", family, channel.Facebook, 7},
	}
	for _, tt := range tests {
		if got := Length(tt.text, LimitFor(tt.t)); got != tt.want {
			t.Errorf("%s: Length = %d, want %d", tt.name, got, tt.want)
		}
	}
}

var counter = regexp.MustCompile(`^(\d+)/(\d+) `)

// clip keeps failure messages readable.
func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// checkPost asserts what every rendering must hold: each part fits, the
// parts are numbered when there are several, the first carries the link,
// and the words survive: all of them in order (a thread or a single post)
// or a prefix of whole words (a shortened post).
func checkPost(t *testing.T, name string, in Input, o Options, p channel.Post) {
	t.Helper()
	texts := []Text{in.English}
	if in.Welsh != nil {
		texts = append(texts, *in.Welsh)
		if o.WelshFirst {
			texts = []Text{*in.Welsh, in.English}
		}
	}
	var source []string
	for _, x := range texts {
		source = append(source, strings.Fields(x.Headline+" "+x.Body)...)
	}
	var got []string
	shortened := false
	for i, part := range p.Parts {
		if !utf8.ValidString(part) {
			t.Errorf("%s: part %d is not valid UTF-8", name, i)
		}
		if !o.Limit.Fits(part) {
			t.Errorf("%s: part %d is %d long, over %d: %q", name, i, Length(part, o.Limit), o.Limit.Max, clip(part))
		}
		body := part
		if len(p.Parts) > 1 {
			m := counter.FindStringSubmatch(part)
			if m == nil || m[1] != strconv.Itoa(i+1) || m[2] != strconv.Itoa(len(p.Parts)) {
				t.Errorf("%s: part %d is not numbered %d/%d: %q", name, i, i+1, len(p.Parts), clip(part))
				continue
			}
			body = strings.TrimPrefix(part, m[0])
		}
		if i == 0 && in.Link != "" && !strings.Contains(part, in.Link) {
			t.Errorf("%s: first part lacks the link", name)
		}
		if b, _, ok := strings.Cut(body, "…\n\nmore: "); ok {
			body, shortened = b, true
		} else if b, ok := strings.CutSuffix(body, "…"); ok && o.Overflow == More {
			body, shortened = b, true
		} else if i := strings.LastIndex(body, "\n\n"+in.Link); in.Link != "" && i >= 0 {
			body = body[:i]
		}
		got = append(got, strings.Fields(body)...)
	}
	joinedGot, joinedSrc := strings.Join(got, ""), strings.Join(source, "")
	if shortened {
		if !strings.HasPrefix(joinedSrc, joinedGot) {
			t.Errorf("%s: shortened text is not a prefix of the notice: %q", name, clip(joinedGot))
		}
		// Whole words only, unless the first word alone was too long.
		if len(got) > 0 && !(len(got) == 1 && len(got[0]) < len(source[0])) {
			for i, w := range got {
				if w != source[i] {
					t.Errorf("%s: word %d cut: %q vs %q", name, i, clip(w), clip(source[i]))
					break
				}
			}
		}
		return
	}
	if joinedGot != joinedSrc {
		t.Errorf("%s: words changed:\n got %q\nwant %q", name, clip(joinedGot), clip(joinedSrc))
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	link := "https://northdale.gov.uk/notices/42"
	longLink := "https://northdale.gov.uk/notices/42?" + strings.Repeat("utm_source=x&", 30)
	para := "Snow has closed Northdale Primary today. Buses on routes 4 and 17 are not running. Check the council website before you travel, and do not call 999 unless it is an emergency."
	family := "👩\u200d👩\u200d👧\u200d👦"
	tags := map[signpost.Category][]string{signpost.CategorySchools: {"#NorthdaleSnow", "Schools Update"}}
	tests := []struct {
		name      string
		in        Input
		ch        channel.Type
		overflow  Overflow
		wantParts int
		wantIn    []string
	}{
		{"short fits x", Input{English: Text{"School closed", "Northdale Primary is closed today."}, Link: link, Category: signpost.CategorySchools}, channel.X, Thread, 1,
			[]string{"School closed\n\nNorthdale Primary is closed today.\n\n" + link + " #NorthdaleSnow #SchoolsUpdate"}},
		{"long x thread", Input{English: Text{"Snow closures", para + "\n\n" + para}, Link: link}, channel.X, Thread, 2, []string{"1/2 Snow closures", "2/2 "}},
		{"long x more", Input{English: Text{"Snow closures", para + "\n\n" + para}, Link: link}, channel.X, More, 1, []string{"…\n\nmore: " + link}},
		{"long link counts 23 on x", Input{English: Text{"Snow", "Details: " + longLink}, Link: link}, channel.X, Thread, 1, []string{longLink}},
		{"bluesky fits 100 graphemes of emoji", Input{English: Text{"Snow", strings.Repeat(family, 100)}}, channel.Bluesky, Thread, 1, nil},
		{"bluesky 3000-byte cap splits 280 emoji", Input{English: Text{"Snow", strings.Repeat(family, 280)}}, channel.Bluesky, Thread, 3, nil},
		{"bluesky no spaces emoji thread (bytes bind)", Input{English: Text{"Snow", strings.Repeat(family, 700)}, Link: link}, channel.Bluesky, Thread, 6, nil},
		{"bluesky flags no spaces", Input{English: Text{"", strings.Repeat("🇬🇧🇫🇷", 400)}}, channel.Bluesky, Thread, 3, nil},
		{"bluesky combining no spaces", Input{English: Text{"", strings.Repeat("e\u0301\u0323", 500)}}, channel.Bluesky, More, 1, nil},
		{"mastodon text with no spaces", Input{English: Text{"Closed", strings.Repeat("abcdefghij", 120)}, Link: link}, channel.Mastodon, Thread, 3, nil},
		{"mastodon long link fits", Input{English: Text{"Closed", longLink}, Link: link}, channel.Mastodon, Thread, 1, nil},
		{"facebook never splits", Input{English: Text{"Closed", strings.Repeat(para+"\n\n", 40)}, Link: link}, channel.Facebook, Thread, 1, nil},
		{"email unlimited", Input{English: Text{"Closed", strings.Repeat(para+" ", 200)}}, channel.Email, Thread, 1, nil},
		{"welsh first", Input{English: Text{"School closed", "Closed today."}, Welsh: &Text{"Ysgol ar gau", "Ar gau heddiw."}, Link: link}, channel.Mastodon, Thread, 1,
			[]string{"Ysgol ar gau\n\nAr gau heddiw.\n\nSchool closed\n\nClosed today.\n\n" + link}},
	}
	for _, tt := range tests {
		o := Options{Limit: LimitFor(tt.ch), Overflow: tt.overflow, Hashtags: tags, WelshFirst: true}
		p, err := Render(tt.in, o)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(p.Parts) != tt.wantParts {
			t.Errorf("%s: %d parts, want %d: %q", tt.name, len(p.Parts), tt.wantParts, clip(strings.Join(p.Parts, " | ")))
		}
		all := strings.Join(p.Parts, "\x00")
		for _, w := range tt.wantIn {
			if !strings.Contains(all, w) {
				t.Errorf("%s: output lacks %q: %q", tt.name, clip(w), clip(all))
			}
		}
		checkPost(t, tt.name, tt.in, o, p)
	}
}

func TestRenderKeepsClustersWhole(t *testing.T) {
	t.Parallel()
	family := "👩\u200d👩\u200d👧\u200d👦"
	for _, unit := range []string{family, "🇬🇧", "e\u0301\u0323", "🏴\U000E0067\U000E0062\U000E0077\U000E006C\U000E0073\U000E007F"} {
		p, err := Render(Input{English: Text{Body: strings.Repeat(unit, 650)}}, Options{Limit: LimitFor(channel.Bluesky)})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for i, part := range p.Parts {
			body := counter.ReplaceAllString(part, "")
			if strings.ReplaceAll(body, unit, "") != "" {
				t.Errorf("%q: part %d holds a broken cluster", unit, i)
			}
			total += strings.Count(body, unit)
		}
		if total != 650 {
			t.Errorf("%q: %d clusters survived, want 650", unit, total)
		}
	}
}

func TestRenderLanguages(t *testing.T) {
	t.Parallel()
	in := Input{English: Text{"Closed", "x"}, Welsh: &Text{"Ar gau", "y"}}
	p, _ := Render(in, Options{Limit: LimitFor(channel.X)})
	if strings.Join(p.Languages, ",") != "en,cy" || !strings.HasPrefix(p.Parts[0], "Closed") || p.Subject != "Closed / Ar gau" {
		t.Errorf("English first: %v %q %q", p.Languages, p.Parts[0], p.Subject)
	}
	p, _ = Render(in, Options{Limit: LimitFor(channel.X), WelshFirst: true})
	if strings.Join(p.Languages, ",") != "cy,en" || !strings.HasPrefix(p.Parts[0], "Ar gau") {
		t.Errorf("Welsh first: %v %q", p.Languages, p.Parts[0])
	}
	p, _ = Render(Input{English: Text{"Closed", "x"}, Welsh: &Text{}}, Options{WelshFirst: true})
	if strings.Join(p.Languages, ",") != "en" {
		t.Errorf("empty Welsh text still marked Welsh: %v", p.Languages)
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	huge := "https://northdale.gov.uk/" + strings.Repeat("x", 400)
	if _, err := Render(Input{English: Text{"Closed", "see " + huge}}, Options{Limit: LimitFor(channel.Bluesky)}); err == nil {
		t.Error("a link longer than a Bluesky post was cut or accepted")
	}
	if _, err := Render(Input{English: Text{"Closed", strings.Repeat("word ", 200)}, Link: huge}, Options{Limit: LimitFor(channel.Bluesky), Overflow: More}); err == nil {
		t.Error("a more: link longer than a post was accepted")
	}
}

func TestThreadTooLongFallsBackToMore(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("Roads are icy. ", 400)
	p, err := Render(Input{English: Text{"Ice", body}, Link: "https://n.gov.uk/1"}, Options{Limit: LimitFor(channel.X), MaxParts: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Parts) != 1 || !strings.Contains(p.Parts[0], "more: https://n.gov.uk/1") {
		t.Errorf("parts = %q", clip(strings.Join(p.Parts, " | ")))
	}
	p, _ = Render(Input{English: Text{"Ice", body}, Link: "https://n.gov.uk/1"}, Options{Limit: LimitFor(channel.X), MaxParts: 100})
	if len(p.Parts) < 10 || !strings.HasPrefix(p.Parts[9], "10/") || !strings.HasPrefix(p.Parts[0], "1/"+strconv.Itoa(len(p.Parts))+" ") {
		t.Errorf("two-digit thread numbering: %d parts, first %q", len(p.Parts), p.Parts[0][:10])
	}
	for _, part := range p.Parts {
		if Length(part, LimitFor(channel.X)) > 280 {
			t.Errorf("part over 280: %q", clip(part))
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add("Snow closures", "Buses are not running today. 👩\u200d👩\u200d👧\u200d👦 https://a.uk/x", uint8(0), false)
	f.Add("", strings.Repeat("🇬🇧", 200), uint8(1), true)
	f.Add("a\u0301", strings.Repeat("e\u0301 ", 300), uint8(2), false)
	f.Fuzz(func(t *testing.T, headline, body string, ch uint8, more bool) {
		if len(body) > 5000 {
			return
		}
		typ := []channel.Type{channel.X, channel.Bluesky, channel.Mastodon}[int(ch)%3]
		o := Options{Limit: LimitFor(typ)}
		if more {
			o.Overflow = More
		}
		p, err := Render(Input{English: Text{headline, body}, Link: "https://n.gov.uk/n/1"}, o)
		if err != nil {
			return // only links that cannot fit are refused
		}
		for _, part := range p.Parts {
			if !o.Limit.Fits(part) || !utf8.ValidString(part) && utf8.ValidString(headline+body) {
				t.Fatalf("%s: bad part (%d): %q", typ, Length(part, o.Limit), clip(part))
			}
		}
	})
}
