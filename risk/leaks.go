package risk

import "strings"

// Leaks without a protective marking: a login written as "user / secret",
// and commercially sensitive figures (sealed bids, settlements) or unannounced
// staffing changes.

const sugCredential = "Remove the code and change it now that it has been shared."

func (s *Screener) leaks(st *scanState) {
	if strings.IndexByte(st.text, '/') >= 0 {
		s.credentialPairs(st)
	}
	if st.has(gCommercial) {
		s.commercialFigures(st)
	}
	if st.has(gCredential) {
		s.credentialValues(st)
	}
	if st.has(gHush) && st.has(gDecision) && st.opts.Context != Incoming {
		s.newsBeforeItsTime(st)
	}
}

// newsBeforeItsTime: a decision that would be news (a closure, a merger,
// job cuts) told with a hush or a date for the real announcement — "shh,
// the depot is closing", "the pool is going to close, official
// announcement not until January". Either alone is ordinary: councils
// announce closures, and "shh" is a library joke.
func (s *Screener) newsBeforeItsTime(st *scanState) {
	for _, h := range st.hits {
		if !h.groups.has(gHush) {
			continue
		}
		if o, ok := st.near(h, gDecision, 16, 0, false); ok {
			st.addSpan(Confidential, normal, h, o, "Tells an unannounced decision before it is made public.", "Wait until it is formally announced, then link to that.")
			return
		}
	}
}

// credentialPairs: "comms@example.org / Summer61!" or "login: jbloggs /
// Tr0ub4dor" — an account name, a slash and something shaped like a
// password. The account side is an e-mail address, or any name when a
// login word is in the text; the secret mixes letters with digits or
// symbols, so "Mon / Tue" and "0300 / 0800" pass.
func (s *Screener) credentialPairs(st *scanState) {
	text := st.text
	for i := 0; i < len(text); i++ {
		if text[i] != '/' {
			continue
		}
		la, lb := fieldBefore(text, i)
		ra, rb := fieldAfter(text, i+1)
		if la == lb || ra == rb {
			continue
		}
		user, secret := text[la:lb], text[ra:rb]
		email := strings.IndexByte(user, '@') > 0
		if !email && !(st.has(gCredential) && len(user) >= 3 && isIdentifier(user)) {
			continue
		}
		if !passwordShaped(secret) {
			continue
		}
		st.addBytes(Confidential, strong, la, rb, "A login and what looks like its password: anyone reading it could get in.", sugCredential)
		i = rb
	}
}

// credentialValues: "the password for the duty phone is Harbour!88" — a
// login word, then "is" or a colon within a few words, then something
// shaped like a password in the original text (which may hold symbols the
// tokenizer reads as punctuation).
func (s *Screener) credentialValues(st *scanState) {
	for _, h := range st.hits {
		if !h.groups.has(gCredential) {
			continue
		}
		for j := h.b - 1; j < int32(len(st.toks)) && j < h.b+6 && st.toks[j].sent == st.toks[h.a].sent; j++ {
			w := st.word(int(j))
			start := -1
			switch {
			case j >= h.b && (string(w) == "is" || string(w) == "are") && j+1 < int32(len(st.toks)):
				start = int(st.toks[j+1].start)
			case st.toks[j].flags&tfColonAfter != 0 && j+1 < int32(len(st.toks)):
				start = int(st.toks[j+1].start)
			default:
				continue
			}
			a, b := fieldAfter(st.text, start)
			if a < b && passwordShaped(st.text[a:b]) {
				st.addBytes(Confidential, strong, int(st.toks[h.a].start), b, "A password, login or access code: anyone reading it could get in.", sugCredential)
				return
			}
			break
		}
	}
}

// fieldBefore returns the run of non-space bytes ending just before text[i],
// allowing one space between them and the slash.
func fieldBefore(text string, i int) (int, int) {
	b := i
	if b > 0 && text[b-1] == ' ' {
		b--
	}
	a := b
	for a > 0 && text[a-1] != ' ' && text[a-1] != '\n' && text[a-1] != '\t' && text[a-1] != '/' {
		a--
	}
	return a, b
}

// fieldAfter returns the run of non-space bytes starting at or one space
// after text[i], without trailing sentence punctuation.
func fieldAfter(text string, i int) (int, int) {
	a := i
	if a < len(text) && text[a] == ' ' {
		a++
	}
	b := a
	for b < len(text) && text[b] != ' ' && text[b] != '\n' && text[b] != '\t' && text[b] != '/' {
		b++
	}
	for b > a && (text[b-1] == '.' || text[b-1] == ',' || text[b-1] == ')' || text[b-1] == ';') {
		b--
	}
	return a, b
}

func isIdentifier(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// passwordShaped: 6 to 64 characters with a letter and a digit or symbol,
// and not a web address, a date, a phone number or a price.
func passwordShaped(w string) bool {
	if len(w) < 6 || len(w) > 64 {
		return false
	}
	lw := strings.ToLower(w)
	if strings.HasPrefix(lw, "www") || strings.HasPrefix(lw, "http") || strings.Contains(lw, ".co") || strings.Contains(lw, ".gov") || strings.Contains(lw, ".org") || strings.Contains(lw, ".uk") {
		return false
	}
	var letter, digit, symbol bool
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case isUpper(c) || (c >= 'a' && c <= 'z'):
			letter = true
		case isDigit(c):
			digit = true
		case c == '!' || c == '@' || c == '#' || c == '$' || c == '%' || c == '&' || c == '*' || c == '?' || c == '^' || c == '~':
			symbol = true
		case c >= 0x80:
			return false
		}
	}
	return letter && (digit || symbol) && !strings.HasPrefix(w, "£")
}

// commercialFigures: a sealed bid, tender price or settlement next to an
// amount of money, or a restructure with a count of posts or jobs, before
// anything says it has been published or agreed.
func (s *Screener) commercialFigures(st *scanState) {
	if st.publishedCue() {
		return
	}
	for _, h := range st.hits {
		if !h.groups.has(gCommercial) {
			continue
		}
		if st.staffingHit(h) {
			if st.countNear(h, 4) {
				st.add(Confidential, normal, h.a, h.b, "Unannounced staffing changes: internal until they are formally published.", "Wait for the formal announcement; do not share internal plans.")
				return
			}
			continue
		}
		if a, b, ok := st.moneyAmount(); ok {
			st.add(Confidential, normal, h.a, h.b, "A commercially sensitive figure (a bid, tender price or settlement) before any decision is published.", "Do not share bid or settlement figures; wait for the published decision.")
			st.addBytes(Confidential, normal, a, b, "A commercially sensitive figure (a bid, tender price or settlement) before any decision is published.", "Do not share bid or settlement figures; wait for the published decision.")
			return
		}
	}
}

// staffingHit: the commercial entries about posts and restructures, which
// are sensitive with a count rather than a sum of money.
func (st *scanState) staffingHit(h hit) bool {
	for k := h.a; k < h.b; k++ {
		switch string(st.word(int(k))) {
		case "posts", "jobs", "redundancies", "losses", "chart", "restructure", "restructuring", "staffing":
			return true
		}
	}
	return false
}

// countNear: a number, in digits or words, inside or near h.
func (st *scanState) countNear(h hit, w int32) bool {
	for k := max(0, h.a-w); k < int32(len(st.toks)) && k < h.b+w; k++ {
		if st.toks[k].flags&tfAllDigits != 0 {
			return true
		}
		switch string(st.word(int(k))) {
		case "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty",
			"thirty", "forty", "fifty", "hundred", "dozen", "dozens", "hundreds", "half", "third", "quarter", "all":
			return true
		}
	}
	return false
}

// moneyAmount finds "£95k", "£2.9 million", "40,000 pounds" that is not a
// threshold ("up to £5,000", "over £25k").
func (st *scanState) moneyAmount() (int, int, bool) {
	text := st.text
	for i := 0; i < len(text); i++ {
		var a int
		switch {
		case strings.HasPrefix(text[i:], "£") && i+2 < len(text) && isDigit(text[i+2]):
			a = i
			i += 2
		default:
			continue
		}
		b := i
		for b < len(text) && (isDigit(text[b]) || text[b] == ',' || (text[b] == '.' && b+1 < len(text) && isDigit(text[b+1]))) {
			b++
		}
		if b < len(text) && (text[b] == 'k' || text[b] == 'm') {
			b++
		}
		if threshold(text[:a]) {
			continue
		}
		return a, b, true
	}
	return 0, 0, false
}

// threshold: the words before an amount make it a limit, not a figure.
func threshold(before string) bool {
	before = strings.ToLower(strings.TrimRight(before, " "))
	for _, w := range []string{"up to", "over", "under", "from", "at least", "maximum", "max", "minimum", "min", "above", "below", "than", "worth up to"} {
		if strings.HasSuffix(before, w) {
			return true
		}
	}
	return false
}

// publishedCue: the text says the matter is already public.
func (st *scanState) publishedCue() bool {
	for i := range st.toks {
		switch string(st.word(i)) {
		case "announced", "announce", "announces", "published", "publishes", "approved", "agreed", "consultation", "consult", "awarded":
			return true
		}
	}
	return false
}
