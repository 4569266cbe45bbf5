// Package render turns a notice into the text each channel posts: plain
// text with the notice's link, within the network's length limit as that
// network counts it (X weights characters and counts every URL as 23,
// Bluesky counts 300 grapheme clusters, Mastodon 500 with URLs as 23), as
// a numbered thread or one post ending "more: <link>" when the notice is
// longer, with the category's hashtags and, where a council publishes in
// Welsh, both languages in the order it chooses.
//
// Text is only ever broken between words; a "word" longer than a whole
// post (a run with no spaces) is broken between grapheme clusters, so an
// emoji, a flag or a letter with its accents is never split. Links are
// never broken: a link that cannot fit is an error.
package render

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/channel"
)

// Counting is how a network measures text length.
type Counting int

// The ways networks count.
const (
	// Runes counts Unicode code points.
	Runes Counting = iota
	// Graphemes counts user-perceived characters (extended grapheme
	// clusters), as Bluesky and Mastodon do.
	Graphemes
	// Weighted counts as X does (twitter-text configuration v3): after NFC
	// normalisation, code points in the Latin and common-punctuation
	// ranges count 1, others 2, and each emoji sequence counts 2.
	Weighted
)

// Limit describes one network's length rule.
type Limit struct {
	Max       int      // 0 means unlimited
	URLLength int      // every URL counts this much; 0 means as its text
	Counting  Counting // how the rest is counted
	// MaxBytes caps the UTF-8 size as well, where a network has both
	// limits (Bluesky: 3000 bytes); 0 means no byte limit.
	MaxBytes int
}

// Fits reports whether s is within the limit.
func (l Limit) Fits(s string) bool {
	return (l.Max == 0 || Length(s, l) <= l.Max) && (l.MaxBytes == 0 || len(s) <= l.MaxBytes)
}

// LimitFor returns the documented limit for a channel type.
func LimitFor(t channel.Type) Limit {
	switch t {
	case channel.X:
		return Limit{Max: 280, URLLength: 23, Counting: Weighted}
	case channel.Bluesky:
		return Limit{Max: 300, Counting: Graphemes, MaxBytes: 3000}
	case channel.Mastodon:
		return Limit{Max: 500, URLLength: 23, Counting: Graphemes}
	case channel.Facebook:
		return Limit{Max: 63206, Counting: Runes}
	}
	return Limit{}
}

// urlPattern finds links as the networks' own link detection does, closely
// enough for counting: a scheme, then everything up to white space.
var urlPattern = regexp.MustCompile(`https?://[^\s]+`)

// trailing punctuation is part of the sentence, not the link.
const trailing = `.,;:!?)]}'"…`

// FindURLs returns the byte ranges of the links in s, as [start, end)
// pairs, without trailing sentence punctuation. Bluesky link facets use
// these ranges.
func FindURLs(s string) [][2]int { return findURLs(s) }

func findURLs(s string) [][2]int {
	var out [][2]int
	for _, m := range urlPattern.FindAllStringIndex(s, -1) {
		end := m[1]
		for end > m[0] {
			r, size := utf8.DecodeLastRuneInString(s[m[0]:end])
			if !strings.ContainsRune(trailing, r) {
				break
			}
			end -= size
		}
		if end-m[0] > len("https://") {
			out = append(out, [2]int{m[0], end})
		}
	}
	return out
}

// Length measures s as the network limited by l does.
func Length(s string, l Limit) int {
	if l.URLLength == 0 {
		return count(s, l.Counting)
	}
	n, prev := 0, 0
	for _, u := range findURLs(s) {
		n += count(s[prev:u[0]], l.Counting) + l.URLLength
		prev = u[1]
	}
	return n + count(s[prev:], l.Counting)
}

func count(s string, c Counting) int {
	switch c {
	case Graphemes:
		return uniseg.GraphemeClusterCount(s)
	case Weighted:
		return weighted(norm.NFC.String(s))
	}
	return utf8.RuneCountInString(s)
}

// weighted follows twitter-text v3: ranges of weight 100 (counted as 1
// here) and a default of 200 (2), with emoji sequences weighing 200 as a
// whole however many code points they hold.
func weighted(s string) int {
	n := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		rs := g.Runes()
		if isEmoji(rs) {
			n += 2
			continue
		}
		for _, r := range rs {
			if light(r) {
				n++
			} else {
				n += 2
			}
		}
	}
	return n
}

func light(r rune) bool {
	return r <= 4351 || (r >= 8192 && r <= 8205) || (r >= 8208 && r <= 8223) || (r >= 8242 && r <= 8247)
}

func isEmoji(rs []rune) bool {
	for _, r := range rs {
		if r >= 0x1F000 || r == 0xFE0F || r == 0x200D || r == 0x20E3 {
			return true
		}
	}
	return false
}

// Overflow says what to do with a notice longer than one post.
type Overflow int

const (
	// Thread posts the notice as numbered replies ("1/3", "2/3", …); the
	// first carries the link and hashtags so it stands alone.
	Thread Overflow = iota
	// More posts one part ending "more: <link>".
	More
)

// Text is a notice's words in one language.
type Text struct {
	Headline string
	Body     string
}

// Input is what is rendered.
type Input struct {
	English  Text
	Welsh    *Text // nil when the council has no Welsh text for this notice
	Link     string
	Category signpost.Category
	// Key identifies the delivery (notice revision and channel) and is
	// passed through to Post.IdempotencyKey.
	Key string
}

// FromNotice takes the English text from a notice.
func FromNotice(n signpost.Notice, link string, welsh *Text) Input {
	return Input{English: Text{Headline: n.Headline, Body: n.Body}, Welsh: welsh, Link: link, Category: n.Category}
}

// Options configure rendering for one channel.
type Options struct {
	Limit    Limit
	Overflow Overflow
	// Hashtags per category, with or without the leading '#'.
	Hashtags map[signpost.Category][]string
	// WelshFirst puts Welsh before English when both are present, as
	// most Welsh councils do.
	WelshFirst bool
	// MaxParts caps a thread; a longer notice is shortened with "more:"
	// instead. Default 10.
	MaxParts int
}

// Render renders in for one channel.
func Render(in Input, o Options) (channel.Post, error) {
	if o.MaxParts <= 0 {
		o.MaxParts = 10
	}
	post := channel.Post{Link: in.Link, IdempotencyKey: in.Key, Languages: []string{"en"}, Subject: oneLine(in.English.Headline)}
	texts := []Text{in.English}
	if in.Welsh != nil && strings.TrimSpace(in.Welsh.Headline+in.Welsh.Body) != "" {
		if o.WelshFirst {
			texts = []Text{*in.Welsh, in.English}
			post.Languages = []string{"cy", "en"}
			post.Subject = oneLine(in.Welsh.Headline) + " / " + oneLine(in.English.Headline)
		} else {
			texts = append(texts, *in.Welsh)
			post.Languages = []string{"en", "cy"}
			post.Subject = oneLine(in.English.Headline) + " / " + oneLine(in.Welsh.Headline)
		}
	}
	tokens := tokenize(texts)
	footer := footer(in.Link, hashtags(o.Hashtags[in.Category]))

	whole := join(tokens) + footer
	if o.Limit.Fits(whole) {
		post.Parts = []string{whole}
		return post, nil
	}
	if o.Overflow == Thread {
		parts, err := thread(tokens, footer, o.Limit)
		if err != nil {
			return channel.Post{}, err
		}
		if len(parts) <= o.MaxParts {
			post.Parts = parts
			return post, nil
		}
	}
	part, err := shorten(tokens, in.Link, hashtags(o.Hashtags[in.Category]), o.Limit)
	if err != nil {
		return channel.Post{}, err
	}
	post.Parts = []string{part}
	return post, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func hashtags(tags []string) string {
	var out []string
	for _, t := range tags {
		t = strings.TrimPrefix(strings.Join(strings.Fields(t), ""), "#")
		if t != "" {
			out = append(out, "#"+t)
		}
	}
	return strings.Join(out, " ")
}

func footer(link, tags string) string {
	var parts []string
	if link != "" {
		parts = append(parts, link)
	}
	if tags != "" {
		parts = append(parts, tags)
	}
	if len(parts) == 0 {
		return ""
	}
	return "\n\n" + strings.Join(parts, " ")
}

// token is a word and the white space that comes before it.
type token struct {
	sep  string // "", " ", "\n" or "\n\n"
	word string
}

// tokenize splits headline and body into words, keeping line and
// paragraph breaks as the separators before words.
func tokenize(texts []Text) []token {
	var out []token
	para := func() {
		if len(out) > 0 {
			out = append(out, token{sep: "\n\n"})
		}
	}
	for _, t := range texts {
		for _, block := range []string{t.Headline, t.Body} {
			block = strings.TrimSpace(strings.ReplaceAll(block, "\r\n", "\n"))
			if block == "" {
				continue
			}
			for _, p := range splitParagraphs(block) {
				para()
				for li, line := range strings.Split(p, "\n") {
					for wi, w := range strings.FieldsFunc(line, unicode.IsSpace) {
						sep := " "
						if wi == 0 {
							sep = "\n"
							if li == 0 {
								sep = ""
							}
						}
						out = append(out, token{sep: sep, word: w})
					}
				}
			}
		}
	}
	return compact(out)
}

// compact folds paragraph markers into the separator of the next word.
func compact(in []token) []token {
	var out []token
	pending := ""
	for _, t := range in {
		if t.word == "" {
			pending = t.sep
			continue
		}
		if pending != "" {
			t.sep, pending = pending, ""
		}
		if len(out) == 0 {
			t.sep = ""
		}
		out = append(out, t)
	}
	return out
}

// paragraphBreak is a blank line, perhaps holding spaces.
var paragraphBreak = regexp.MustCompile(`\n[ \t]*\n\s*`)

func splitParagraphs(s string) []string {
	var out []string
	for _, p := range paragraphBreak.Split(s, -1) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func join(ts []token) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.sep)
		b.WriteString(t.word)
	}
	return b.String()
}

// thread packs words into numbered parts. The counter's width depends on
// how many parts there are, so packing repeats with a wider placeholder
// until the count fits the width assumed.
func thread(tokens []token, footer string, l Limit) ([]string, error) {
	for width := 1; width <= 3; width++ {
		placeholder := strings.Repeat("9", width)
		deco := func(i int, body string) string {
			s := placeholder + "/" + placeholder + " " + body
			if i == 0 {
				s += footer
			}
			return s
		}
		bodies, err := pack(tokens, l, deco)
		if err != nil {
			return nil, err
		}
		if len(strconv.Itoa(len(bodies))) > width {
			continue
		}
		parts := make([]string, len(bodies))
		for i, b := range bodies {
			parts[i] = fmt.Sprintf("%d/%d %s", i+1, len(bodies), b)
			if i == 0 {
				parts[i] += footer
			}
		}
		return parts, nil
	}
	return nil, fmt.Errorf("render: notice needs more than 999 posts")
}

// pack fills parts greedily: each word goes in the current part if the
// decorated part still fits, otherwise it starts the next one.
func pack(tokens []token, l Limit, deco func(i int, body string) string) ([]string, error) {
	var parts []string
	cur := ""
	fits := func(body string) bool { return l.Fits(deco(len(parts), body)) }
	for _, t := range tokens {
		cand := t.word
		if cur != "" {
			cand = cur + t.sep + t.word
		}
		if fits(cand) {
			cur = cand
			continue
		}
		if fits(t.word) || isURL(t.word) {
			// The word fits an empty part (or is a link, which is
			// never broken): start the next part with it.
			if cur != "" {
				parts = append(parts, cur)
			}
			cur = t.word
			if !fits(cur) {
				return nil, fmt.Errorf("render: link of %d characters cannot fit in a %d-character post", len(t.word), l.Max)
			}
			continue
		}
		// A word longer than a whole part cannot avoid being broken, so
		// break it between grapheme clusters, filling this part first.
		rest, sep := t.word, t.sep
		if cur == "" {
			sep = ""
		}
		for rest != "" {
			piece := fill(rest, func(s string) bool { return fits(cur + sep + s) })
			if piece == "" {
				if cur == "" {
					return nil, fmt.Errorf("render: the limit of %d leaves no room for text", l.Max)
				}
				parts = append(parts, cur)
				cur, sep = "", ""
				continue
			}
			cur += sep + piece
			rest = rest[len(piece):]
			if rest != "" {
				parts = append(parts, cur)
				cur, sep = "", ""
			}
		}
	}
	if cur != "" {
		parts = append(parts, cur)
	}
	return parts, nil
}

// fill returns the longest prefix of s, ending on a grapheme boundary, for
// which ok holds.
func fill(s string, ok func(string) bool) string {
	best := ""
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		_, end := g.Positions()
		if !ok(s[:end]) {
			break
		}
		best = s[:end]
	}
	return best
}

func isURL(w string) bool {
	u := findURLs(w)
	return len(u) == 1 && u[0][0] == 0
}

// shorten keeps as many words as fit before "… more: <link>".
func shorten(tokens []token, link, tags string, l Limit) (string, error) {
	tail := "…"
	if link != "" {
		tail += "\n\nmore: " + link
	}
	if tags != "" {
		tail += " " + tags
	}
	if !l.Fits(tail) {
		return "", fmt.Errorf("render: the link alone does not fit in %d characters", l.Max)
	}
	cur := ""
	fits := func(s string) bool { return l.Fits(s + tail) }
	for _, t := range tokens {
		cand := t.word
		if cur != "" {
			cand = cur + t.sep + t.word
		}
		if fits(cand) {
			cur = cand
			continue
		}
		if cur == "" && !isURL(t.word) {
			cur = fill(t.word, fits)
		}
		break
	}
	// "…" after a line break reads oddly; keep it on the last word.
	return strings.TrimRight(cur, " \n") + tail, nil
}
