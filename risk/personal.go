package risk

import (
	"strings"
	"time"
)

// Personal data is found by validators over the original text (numbers,
// e-mail addresses, postcodes, registrations) weighed against nearby words,
// plus the rule that a named child, pupil or patient must not appear with a
// sensitive detail. Validators only run when a cheap test says they could
// match: a digit in the text, an '@'.

const (
	sugNumber = "Remove the number; if someone needs calling back, do it privately."
	sugRemove = "Remove the personal details; refer to the case privately."
)

func (s *Screener) personalData(st *scanState) {
	anyDigit := false
	for i := range st.toks {
		if st.toks[i].flags&tfDigit != 0 {
			anyDigit = true
			break
		}
	}
	if st.has(gSpokenZero) {
		s.spokenNumbers(st)
	}
	if anyDigit {
		s.numbers(st)
		s.letterCodes(st)
		if st.has(gDOBCue) || st.has(gTitle) {
			s.wordDates(st)
		}
	}
	if strings.IndexByte(st.text, '@') >= 0 {
		s.emails(st)
	}
	s.spelledEmails(st)
	if st.has(gChildCue) || st.has(gTitle) || st.has(gSensitive) {
		s.namedPerson(st)
	}
	if st.has(gAddressCue) {
		s.addressCue(st)
	}
}

// tokenAt returns the index of the first token ending after byte offset off.
func (st *scanState) tokenAt(off int) int32 {
	lo, hi := 0, len(st.toks)
	for lo < hi {
		m := (lo + hi) / 2
		if int(st.toks[m].end) <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return int32(lo)
}

// spanHit makes a pseudo-hit covering the tokens of text[start:end], so the
// proximity helpers work for validator matches too.
func (st *scanState) spanHit(start, end int) hit {
	a := st.tokenAt(start)
	b := st.tokenAt(end - 1)
	if int(b) >= len(st.toks) {
		b = int32(len(st.toks)) - 1
	}
	if a > b {
		a = b
	}
	return hit{a: a, b: b + 1}
}

func (st *scanState) addBytes(cat Category, str strength, start, end int, reason, suggestion string) {
	st.findings = append(st.findings, rawFinding{cat: cat, strength: str, start: start, end: end, reason: reason, suggestion: suggestion})
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || isUpper(c)
}

// numbers finds phone numbers, NHS numbers and dates in runs of digits.
func (s *Screener) numbers(st *scanState) {
	text := st.text
	var digits [16]byte
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) || (i > 0 && (isAlnum(text[i-1]) || text[i-1] == '/' || text[i-1] == '.' && i > 1 && isDigit(text[i-2]))) {
			continue
		}
		if end, ok := s.date(st, i); ok {
			i = end - 1
			continue
		}
		// Collect digits with single separators between groups.
		n := 0
		j := i
		last := i
		for j < len(text) && n < len(digits) {
			c := text[j]
			if isDigit(c) {
				digits[n] = c
				n++
				j++
				last = j
				continue
			}
			if (c == ' ' || c == '-' || c == '.' || c == ')') && j+1 < len(text) && isDigit(text[j+1]) {
				j++
				continue
			}
			if c == ' ' && j+3 < len(text) && text[j+1] == '-' && text[j+2] == ' ' && isDigit(text[j+3]) {
				j += 3 // "0 7 7 0 0 - 9 0 0 - 7 8 8"
				continue
			}
			if c == ')' && j+2 < len(text) && text[j+1] == ' ' && isDigit(text[j+2]) {
				j += 2
				continue
			}
			if c == ' ' && j+2 < len(text) && text[j+1] == '(' && isDigit(text[j+2]) {
				j += 2 // "+44 (0)7911…"
				continue
			}
			break
		}
		if last < len(text) && isAlnum(text[last]) {
			i = last
			continue
		}
		start := i
		if i > 0 && text[i-1] == '(' {
			start = i - 1
		}
		d := digits[:n]
		plus := i > 0 && text[i-1] == '+'
		intl := plus && n >= 12 && d[0] == '4' && d[1] == '4'
		if !intl && !plus && n >= 14 && string(d[:4]) == "0044" {
			// 0044 7911 123456: the international prefix typed in full.
			d, intl = d[2:], true
		}
		if intl {
			// +44 7911 123456 and +44 (0)7911 123456 → 07911123456
			if d[2] == '0' {
				d = d[2:]
			} else {
				d = d[1:]
				d[0] = '0'
			}
			if plus {
				start = i - 1
			}
		}
		s.classifyNumber(st, d, start, last)
		i = last
	}
}

// spokenNumbers: a phone number written as it is said, "oh seven seven
// double oh nine…", read back into digits and weighed like any other.
func (s *Screener) spokenNumbers(st *scanState) {
	var digits [16]byte
	n, first := 0, -1
	flush := func(last int) {
		if n >= 10 && n <= 11 && digits[0] == '0' {
			s.classifyNumber(st, digits[:n], int(st.toks[first].start), int(st.toks[last].end))
		}
		n, first = 0, -1
	}
	repeat := 1
	for i := range st.toks {
		w := st.word(i)
		d := spokenDigit(w)
		switch {
		case string(w) == "double" || string(w) == "triple":
			if i+1 < len(st.toks) && spokenDigit(st.word(i+1)) != 0 {
				repeat = 2
				if string(w) == "triple" {
					repeat = 3
				}
				if first < 0 {
					first = i
				}
				continue
			}
		case d != 0:
			if first < 0 {
				first = i
			}
			for ; repeat > 0 && n < len(digits); repeat-- {
				digits[n] = d
				n++
			}
			repeat = 1
			continue
		}
		if first >= 0 {
			flush(i - 1)
		}
		repeat = 1
	}
	if first >= 0 {
		flush(len(st.toks) - 1)
	}
}

// spokenDigit returns the digit a word says ("oh", "seven", "7"), or 0.
func spokenDigit(w []byte) byte {
	if len(w) == 1 && isDigit(w[0]) {
		return w[0]
	}
	switch string(w) {
	case "oh", "zero", "nought":
		return '0'
	case "one":
		return '1'
	case "two":
		return '2'
	case "three":
		return '3'
	case "four":
		return '4'
	case "five":
		return '5'
	case "six":
		return '6'
	case "seven":
		return '7'
	case "eight":
		return '8'
	case "nine":
		return '9'
	}
	return 0
}

func (s *Screener) classifyNumber(st *scanState, d []byte, start, end int) {
	n := len(d)
	h := st.spanHit(start, end)
	switch {
	case d[0] == '0' && (n == 10 || n == 11) && len(d) > 1:
		if s.policy.allowsPhone(d) {
			return
		}
		switch d[1] {
		case '7':
			// A mobile is personal unless it reads as our own contact point
			// and nothing ties it to a person.
			if _, p := st.near(h, gPersonContact, 8, 0, true); p || st.nearName(h, 8) {
				st.addBytes(PersonalData, normal, start, end, "A mobile number next to a person: a private person's number.", sugNumber)
				return
			}
			if _, org := st.near(h, gOrgContact, 6, 0, true); org {
				return
			}
			st.addBytes(PersonalData, normal, start, end, "A mobile number: usually a private person's.", sugNumber)
		case '1', '2':
			// A landline is the organisation's unless a person is named
			// beside it.
			_, org := st.near(h, gOrgContact, 6, 0, true)
			if st.nearName(h, 8) || st.hasNear(h, gTitle, 8) {
				st.addBytes(PersonalData, normal, start, end, "A phone number next to a person's name: a private person's number.", sugNumber)
				return
			}
			if org {
				return
			}
			if _, p := st.near(h, gPersonContact, 8, 0, true); p {
				st.addBytes(PersonalData, normal, start, end, "A phone number that reads as a private person's.", sugNumber)
				return
			}
			st.addBytes(PersonalData, weak, start, end, "A phone number: fine if it is a published organisational number.", "Use the published contact number.")
		default:
			// 03, 05, 08, 09: non-geographic service numbers.
		}
	case n == 10 && !validNHS(d) && st.labelledNHS(h):
		st.addBytes(PersonalData, normal, start, end, "Labelled as an NHS number (though its check digit does not match).", "Remove the NHS number; never publish patient identifiers.")
	case n == 10 && validNHS(d):
		if _, ok := st.near(h, gHealthContext, 10, 0, false); ok || st.has(gDOBCue) {
			st.addBytes(PersonalData, strong, start, end, "An NHS number (the check digit is valid) about a patient.", "Remove the NHS number; never publish patient identifiers.")
		} else {
			st.addBytes(PersonalData, weak, start, end, "A ten-digit number that passes the NHS number check.", "If this is an NHS number, remove it.")
		}
	}
}

// labelledNHS: "NHS no." or "NHS number" just before the number.
func (st *scanState) labelledNHS(h hit) bool {
	for k := h.a - 1; k >= 0 && k >= h.a-3; k-- {
		if string(st.word(int(k))) == "nhs" {
			return true
		}
	}
	return false
}

// clock returns Options.Now, reading the real clock the first time it is
// needed when the caller left it zero.
func (st *scanState) clock() time.Time {
	if st.now.IsZero() {
		st.now = time.Now()
	}
	return st.now
}

// validNHS checks the modulus-11 check digit of a ten-digit NHS number.
func validNHS(d []byte) bool {
	if len(d) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	if check == 10 {
		return false
	}
	// A run of one digit passes but is a placeholder, not a number.
	same := true
	for i := 1; i < 10; i++ {
		if d[i] != d[0] {
			same = false
		}
	}
	return !same && check == int(d[9]-'0')
}

var monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// date reads a date at text[i:] — 12/05/1979, 12-5-79, 12.05.1979 or
// 12 May 1979 — and reports it when it looks like a date of birth.
func (s *Screener) date(st *scanState, i int) (int, bool) {
	text := st.text
	dd, j := readNum(text, i, 2)
	if j == i || dd < 1 || dd > 31 {
		return 0, false
	}
	year := -1
	var end int
	if j < len(text) && (text[j] == '/' || text[j] == '-' || text[j] == '.') {
		sep := text[j]
		mm, k := readNum(text, j+1, 2)
		if k == j+1 || mm < 1 || mm > 12 || k >= len(text) || text[k] != sep {
			return 0, false
		}
		y, m := readNum(text, k+1, 4)
		if m-(k+1) != 4 && m-(k+1) != 2 {
			return 0, false
		}
		year, end = y, m
		if m-(k+1) == 2 {
			year += 1900
			if year+100 <= st.clock().Year()-1 {
				year += 100
			}
		}
	} else {
		// 12 May 1979, 3rd June 1950
		k := j
		for k < len(text) && (text[k] >= 'a' && text[k] <= 'z') && k-j < 2 {
			k++
		}
		if k >= len(text) || text[k] != ' ' {
			return 0, false
		}
		k++
		w := k
		for w < len(text) && ((text[w] >= 'a' && text[w] <= 'z') || (text[w] >= 'A' && text[w] <= 'Z')) {
			w++
		}
		if w-k < 3 || !isMonth(text[k:w]) || w+1 >= len(text) || text[w] != ' ' {
			return 0, false
		}
		y, m := readNum(text, w+1, 4)
		if m-(w+1) != 4 {
			return 0, false
		}
		year, end = y, m
	}
	if end < len(text) && isAlnum(text[end]) {
		return 0, false
	}
	age := st.clock().Year() - year
	if year < 1900 || age < 1 {
		return end, true // a date, not a birth date: skip it either way
	}
	h := st.spanHit(i, end)
	if st.dateRange(h) {
		// "born between 01/09/2021 and 31/08/2022": an eligibility
		// range for a group, not one person's date of birth.
		return end, true
	}
	if _, ok := st.near(h, gDOBCue, 12, 0, false); ok {
		st.addBytes(PersonalData, normal, i, end, "A date of birth.", "Remove the date of birth.")
	} else if age >= 10 && (st.nearName(h, 6) || st.hasNear(h, gTitle, 6)) {
		st.addBytes(PersonalData, normal, i, end, "A date next to a person's name: it reads as a date of birth.", "Remove the date of birth.")
	} else if age >= 10 {
		st.addBytes(PersonalData, weak, i, end, "An old date: if it is someone's date of birth, remove it.", "Remove any date of birth.")
	}
	return end, true
}

// houseNumber: a token that reads as a house or flat number: up to four
// digits, perhaps with one letter ("14", "14a", "4B").
func (st *scanState) houseNumber(k int) bool {
	t := st.toks[k]
	if t.flags&tfAllDigits != 0 {
		return t.ne-t.ns <= 4
	}
	w := st.text[t.start:t.end]
	n := len(w)
	if n < 2 || n > 5 || !isDigit(w[0]) {
		return false
	}
	c := w[n-1] | 0x20
	if c < 'a' || c > 'h' {
		return false // "14th", "5pm" are not house numbers
	}
	for j := 0; j < n-1; j++ {
		if !isDigit(w[j]) {
			return false
		}
	}
	return true
}

func (st *scanState) hasNear(h hit, g group, w int32) bool {
	_, ok := st.near(h, g, w, 0, true)
	return ok
}

func isMonth(w string) bool {
	w = strings.ToLower(w)
	for _, m := range monthNames {
		if strings.HasPrefix(w, m) {
			return true
		}
	}
	return false
}

func readNum(text string, i, max int) (int, int) {
	v := 0
	j := i
	for j < len(text) && j-i < max && isDigit(text[j]) {
		v = v*10 + int(text[j]-'0')
		j++
	}
	return v, j
}

// nearName reports whether a capitalised word that reads as a name (not the
// first word of a sentence, not a common word) is within w words of h.
func (st *scanState) nearName(h hit, w int32) bool {
	lo := max(0, h.a-w)
	hi := min(int32(len(st.toks)), h.b+w)
	for i := lo; i < hi; i++ {
		if i >= h.a && i < h.b {
			continue
		}
		if st.isName(int(i)) && st.toks[i].sent == st.toks[h.a].sent {
			return true
		}
	}
	return false
}

// isName: a capitalised word mid-sentence that is not all capitals, not a
// common capitalised word, and not on the allow list of places.
func (st *scanState) isName(i int) bool {
	t := st.toks[i]
	if t.flags&tfCap == 0 || t.flags&(tfAllCaps|tfDigit|tfLeet|tfMasked) != 0 || t.ne-t.ns < 2 {
		return false
	}
	if t.flags&tfSentStart != 0 {
		// A sentence can start with a name only if another capitalised
		// word follows it ("Sophie Turner has …").
		if i+1 >= len(st.toks) || st.toks[i+1].flags&tfCap == 0 || st.toks[i+1].flags&tfAllCaps != 0 {
			return false
		}
	}
	return !isCommonCapital(st.word(i)) && !brandCase(st.text[t.start:t.end])
}

// brandCase: a capital inside the word that is not a Mc/Mac/O' prefix
// ("YouTube", "WhatsApp", "PayPal") marks a brand, not a person's name.
func brandCase(w string) bool {
	for k := 1; k < len(w); k++ {
		if !isUpper(w[k]) || isUpper(w[k-1]) {
			continue
		}
		p := w[:k]
		if p == "Mc" || p == "Mac" || p == "O" || p == "D" || p == "Fitz" || p == "De" || p == "Le" || p == "La" || p == "Di" || p == "Du" || p == "Van" || p == "Von" || w[k-1] == '-' || w[k-1] == '\'' {
			continue
		}
		return true
	}
	return false
}

// isNameLoose also accepts a capitalised word at the start of a sentence
// ("Kyle from 9F…"); callers need other evidence, such as a cue word.
func (st *scanState) isNameLoose(i int) bool {
	t := st.toks[i]
	if t.flags&tfCap == 0 || t.flags&(tfAllCaps|tfDigit|tfLeet|tfMasked) != 0 || t.ne-t.ns < 2 {
		return false
	}
	// A sentence that opens with a word and then "my", "the", "your" is
	// an order ("Refuse my son's EHCP…"), not a name.
	if t.flags&tfSentStart != 0 && i+1 < len(st.toks) && (isDeterminer(st.word(i+1)) || pluralVerb(st.word(i+1))) {
		return false
	}
	return !isCommonCapital(st.word(i)) && !brandCase(st.text[t.start:t.end])
}

// pluralVerb: "Carers have…", "Parents are…": a plural noun opens the
// sentence, where a person's name would take "has" or "is".
func pluralVerb(w []byte) bool {
	switch string(w) {
	case "have", "are", "were", "do", "dont", "say", "keep", "need":
		return true
	}
	return false
}

func isDeterminer(w []byte) bool {
	switch string(w) {
	case "my", "your", "our", "the", "a", "an", "his", "her", "their", "this", "that", "these", "those", "me", "us", "him", "them", "it":
		return true
	}
	return false
}

// formCodeNear reports a school form or class code ("9F", "10B", "6R")
// within w words of token i.
func (st *scanState) formCodeNear(i, w int) bool {
	for k := max(0, i-w); k < len(st.toks) && k <= i+w; k++ {
		t := st.toks[k]
		code := st.text[t.start:t.end]
		if n := len(code); n >= 2 && n <= 3 && isUpper(code[n-1]) && isDigit(code[0]) && (n == 2 || isDigit(code[1])) {
			return true
		}
	}
	return false
}

// ageAfter: "Sophie Green, 7, from …": a child's age set off after the
// name, which a school or ward name alone would not give away.
func (st *scanState) ageAfter(i int) bool {
	for k := i + 1; k < len(st.toks) && k <= i+2; k++ {
		t := st.toks[k]
		if t.flags&tfAllDigits == 0 {
			if st.isName(k) {
				continue // the surname
			}
			return false
		}
		n, _ := readNum(st.text, int(t.start), 3)
		return t.end-t.start <= 2 && n >= 1 && n <= 17 && st.toks[k-1].end < t.start && st.text[st.toks[k-1].end] == ','
	}
	return false
}

func isCommonCapital(w []byte) bool {
	switch string(w) {
	case "the", "this", "that", "these", "those", "our", "we", "you", "your", "all", "a", "an", "and", "but",
		"in", "on", "at", "for", "to", "of", "from", "by", "with", "it", "its", "is", "are", "was", "please",
		"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
		"march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
		"road", "street", "lane", "close", "avenue", "primary", "school", "academy", "council", "nhs", "year",
		"reception", "ward", "hospital", "team", "staff", "patient", "pupil", "mr", "mrs", "ms", "miss", "dr",
		"cllr", "councillor", "little", "no", "yes", "if", "when", "who", "what", "why", "how", "where",
		"dob", "ref", "re", "hi", "hello", "dear", "thanks", "thank", "today", "tomorrow", "call", "email",
		"contact", "send", "reply", "not", "do", "don", "can", "will", "has", "have", "had", "he", "she", "they",
		"his", "her", "their", "my", "me", "i", "im", "ive", "ill", "id", "just", "new", "free", "north", "south",
		"east", "west", "centre", "park", "hall", "library", "depot", "clinic", "town", "city", "county",
		"christmas", "easter", "bank", "holiday", "covid", "england", "uk", "britain", "british", "english",
		"mayor", "mayoress", "consort", "deputy", "lord", "lady", "leader", "chair", "chairman", "chairwoman",
		"cabinet", "member", "members", "candidate", "candidates", "sheriff", "alderman",
		"there", "theres", "here", "heres", "thats", "whats", "lets", "someone", "somebody", "anyone",
		"everyone", "nobody", "some", "any", "one", "two", "three", "after", "before", "because", "so", "as",
		"also", "still", "again", "then", "now", "last", "next", "every", "each", "most", "many", "much", "more",
		"very", "only", "even", "got", "get", "been", "well", "ok", "okay", "sorry", "apparently", "honestly",
		"seriously", "literally", "another", "other", "big", "great", "good", "bad", "poor", "drunk", "youre",
		"hes", "shes", "theyre", "were", "isnt", "wasnt", "cant", "wont", "dont", "didnt", "doesnt",
		"old", "young", "local", "happy", "congratulations", "huge", "massive", "sad":
		return true
	}
	return false
}

// letterCodes finds National Insurance numbers, postcodes and vehicle
// registrations, which start with letters and contain digits.
func (s *Screener) letterCodes(st *scanState) {
	text := st.text
	for i := range st.toks {
		t := st.toks[i]
		start := int(t.start)
		if !isUpper(text[start]) && !(text[start] >= 'a' && text[start] <= 'z') {
			continue
		}
		hasDigitNext := t.flags&tfDigit != 0 || (i+1 < len(st.toks) && st.toks[i+1].flags&tfAllDigits != 0)
		if !hasDigitNext {
			continue
		}
		if end, ok := readNI(text, start); ok {
			h := st.spanHit(start, end)
			str := strong
			if end-start < 9 {
				str = normal
			}
			_ = h
			st.addBytes(PersonalData, str, start, end, "A National Insurance number.", "Remove the National Insurance number; never publish it.")
			continue
		}
		if end, ok := readPostcode(text, start); ok {
			s.postcodeRule(st, start, end)
			continue
		}
		if end, ok := readReg(text, start); ok {
			h := st.spanHit(start, end)
			if _, ok := st.near(h, gPersonContact, 8, 0, true); ok || st.nearName(h, 8) || st.hasNear(h, gTitle, 8) {
				st.addBytes(PersonalData, normal, start, end, "A vehicle registration tied to a person.", "Remove the registration.")
			} else {
				st.addBytes(PersonalData, weak, start, end, "A vehicle registration.", "Check it does not identify someone.")
			}
		}
	}
}

// readNI reads a National Insurance number: two prefix letters under the
// official rules, six digits (spaces allowed between pairs) and a suffix
// A–D. The suffix is optional, as people often leave it off.
func readNI(text string, i int) (int, bool) {
	if i+8 > len(text) {
		return 0, false
	}
	a, b := upper(text[i]), upper(text[i+1])
	if !isUpper(a) || !isUpper(b) || strings.IndexByte("DFIQUV", a) >= 0 || strings.IndexByte("DFIOQUV", b) >= 0 {
		return 0, false
	}
	switch string([]byte{a, b}) {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return 0, false
	}
	j := i + 2
	for pair := 0; pair < 3; pair++ {
		if j < len(text) && text[j] == ' ' {
			j++
		}
		if j+2 > len(text) || !isDigit(text[j]) || !isDigit(text[j+1]) {
			return 0, false
		}
		j += 2
	}
	k := j
	if k < len(text) && text[k] == ' ' {
		k++
	}
	if k < len(text) && strings.IndexByte("ABCDabcd", text[k]) >= 0 && (k+1 == len(text) || !isAlnum(text[k+1])) {
		return k + 1, true
	}
	if j < len(text) && isAlnum(text[j]) {
		return 0, false
	}
	if i > 0 && isAlnum(text[i-1]) {
		return 0, false
	}
	return j, true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// readPostcode reads a UK postcode in capitals: outward code (A9, A99, AA9,
// AA99, A9A, AA9A), an optional space, inward code (9AA).
func readPostcode(text string, i int) (int, bool) {
	if i > 0 && isAlnum(text[i-1]) {
		return 0, false
	}
	j := i
	for j < len(text) && j-i < 2 && isUpper(text[j]) {
		j++
	}
	if j == i || j >= len(text) || !isDigit(text[j]) {
		return 0, false
	}
	j++
	if j < len(text) && (isDigit(text[j]) || isUpper(text[j])) && !(j+2 < len(text) && isUpper(text[j+1]) && isUpper(text[j+2]) && isDigit(text[j])) {
		j++
	}
	if j < len(text) && text[j] == ' ' {
		j++
	}
	if j+3 > len(text) || !isDigit(text[j]) || !isUpper(text[j+1]) || !isUpper(text[j+2]) {
		return 0, false
	}
	if j+3 < len(text) && isAlnum(text[j+3]) {
		return 0, false
	}
	return j + 3, true
}

// readReg reads a current-style registration: AB12 CDE.
func readReg(text string, i int) (int, bool) {
	if i+7 > len(text) || (i > 0 && isAlnum(text[i-1])) {
		return 0, false
	}
	if !isUpper(text[i]) || !isUpper(text[i+1]) || !isDigit(text[i+2]) || !isDigit(text[i+3]) {
		return 0, false
	}
	j := i + 4
	if text[j] == ' ' {
		j++
	}
	if j+3 > len(text) || !isUpper(text[j]) || !isUpper(text[j+1]) || !isUpper(text[j+2]) {
		return 0, false
	}
	if j+3 < len(text) && isAlnum(text[j+3]) {
		return 0, false
	}
	return j + 3, true
}

// postcodeRule: a postcode alone is a place; a house number and street
// before it make it someone's address — unless it is the organisation's
// own building.
func (s *Screener) postcodeRule(st *scanState, start, end int) {
	h := st.spanHit(start, end)
	if _, org := st.near(h, gOrgContact, 8, -1, true); org {
		return
	}
	for k := h.a - 1; k >= 0 && k >= h.a-6; k-- {
		t := st.toks[k]
		if st.houseNumber(int(k)) {
			if st.publicPlaceBefore(int(k)) {
				break // "the car park at 12 Market Street, NE1 4XF"
			}
			st.addBytes(PersonalData, normal, int(t.start), end, "A house number with a postcode: someone's home address.", sugRemove)
			return
		}
	}
	st.addBytes(PersonalData, weak, start, end, "A postcode: fine for a public place, not for a home.", "Check it is not someone's home.")
}

// publicPlaceBefore: a public building or facility named just before the
// house number ("the library at 3 High Street") makes the address a place
// people visit, not a home.
func (st *scanState) publicPlaceBefore(k int) bool {
	for j := k - 1; j >= 0 && j >= k-4 && st.toks[j].sent == st.toks[k].sent; j-- {
		switch string(st.word(j)) {
		case "park", "library", "centre", "center", "hall", "office", "offices", "depot", "museum", "school", "academy",
			"surgery", "clinic", "hospital", "station", "church", "pool", "site", "hub", "shop", "store", "cafe", "venue",
			"building", "market", "theatre", "gym", "pharmacy", "tip", "stadium", "gallery":
			return true
		}
	}
	return false
}

// addressCue: "lives at 14 Elm Grove" without a postcode.
func (s *Screener) addressCue(st *scanState) {
	for _, h := range st.hits {
		if !h.groups.has(gAddressCue) {
			continue
		}
		for k := h.b; k < int32(len(st.toks)) && k < h.b+4; k++ {
			if st.houseNumber(int(k)) {
				if o, ok := st.near(hit{a: k, b: k + 1}, gStreetType, 4, 1, true); ok {
					st.add(PersonalData, normal, h.a, o.b, "A private person's home address.", sugRemove)
					return
				}
			}
		}
	}
}

// emails finds addresses; the organisation's own domains and public-sector
// domains are organisational, generic mailboxes (info@, bookings@) are safe,
// anything else reads as a person's address.
func (s *Screener) emails(st *scanState) {
	text := st.text
	for i := 0; i < len(text); i++ {
		if text[i] != '@' {
			continue
		}
		a := i
		for a > 0 && isEmailLocal(text[a-1]) {
			a--
		}
		b := i + 1
		for b < len(text) && (isAlnum(text[b]) || text[b] == '-' || (text[b] == '.' && b+1 < len(text) && isAlnum(text[b+1]))) {
			b++
		}
		if a == i || b == i+1 || !strings.Contains(text[i+1:b], ".") {
			continue
		}
		for a < i && text[a] == '.' {
			a++
		}
		local := strings.ToLower(text[a:i])
		domain := strings.ToLower(text[i+1 : b])
		switch {
		case s.policy.ownDomain(domain), publicSectorDomain(domain):
		case webmail(domain):
			st.addBytes(PersonalData, normal, a, b, "A personal e-mail address.", "Remove it; reply to the person privately.")
		case genericMailbox(local):
		default:
			st.addBytes(PersonalData, normal, a, b, "An e-mail address that reads as a private person's.", "Remove it or use the organisation's published address.")
		}
		i = b
	}
}

func isEmailLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '-' || c == '+'
}

func publicSectorDomain(d string) bool {
	for _, suf := range []string{"gov.uk", "nhs.uk", "nhs.net", "sch.uk", "police.uk", "ac.uk", "parliament.uk", "mod.uk", "gov.scot", "gov.wales", "llyw.cymru"} {
		if d == suf || strings.HasSuffix(d, "."+suf) {
			return true
		}
	}
	return false
}

func webmail(d string) bool {
	name := d
	if k := strings.IndexByte(d, '.'); k > 0 {
		name = d[:k]
	}
	switch name {
	case "gmail", "googlemail", "hotmail", "outlook", "live", "msn", "yahoo", "ymail", "aol", "icloud", "me", "mac",
		"btinternet", "btopenworld", "sky", "virginmedia", "talktalk", "tiscali", "ntlworld", "blueyonder", "protonmail", "proton", "gmx", "mail", "zoho", "yandex":
		return true
	}
	return false
}

// genericMailbox: a role address ("info@", "press.office@",
// "parks-team@"), every part of which is a generic word.
func genericMailbox(local string) bool {
	parts := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '-' || r == '_' })
	if len(parts) > 1 {
		for _, p := range parts {
			if !genericMailboxWord(p) {
				return false
			}
		}
		return true
	}
	return genericMailboxWord(local)
}

func genericMailboxWord(local string) bool {
	switch local {
	case "info", "enquiries", "enquiry", "hello", "contact", "admin", "office", "bookings", "booking", "help",
		"support", "sales", "press", "media", "news", "team", "reception", "customerservices", "feedback",
		"complaints", "noreply", "no-reply", "events", "general", "mail", "post", "accounts", "membership",
		"no", "reply", "comms", "communications", "marketing", "digital", "web", "social", "socialmedia",
		"customer", "customers", "services", "service", "parks", "planning", "licensing", "housing", "waste",
		"recycling", "library", "libraries", "council", "hr", "it", "finance", "payroll", "desk", "centre", "hub":
		return true
	}
	return false
}

// namedPerson: a child, pupil or patient named beside a sensitive detail
// (health, behaviour, care, exclusion) identifies them.
func (s *Screener) namedPerson(st *scanState) {
	if !st.has(gSensitive) {
		return
	}
	for _, h := range st.hits {
		if !h.groups.has(gSensitive) {
			continue
		}
		sent := st.toks[h.a].sent
		weakName := -1
		for i := range st.toks {
			t := st.toks[i]
			if t.sent != sent || !st.isNameLoose(i) || (int32(i) >= h.a && int32(i) < h.b) {
				continue
			}
			// The cue words themselves ("Tenant", "Patient") are not names.
			// Nor is a protected group opening a sentence ("Gay couples
			// shouldn't…"): that is a generalisation, not a person.
			if s.isOfficial(st, i) || st.inGroup(i, gChildCue) || st.inGroup(i, gTitle) || st.inGroup(i, gSensitive) || st.inGroup(i, gProtected) {
				continue
			}
			nh := hit{a: int32(i), b: int32(i + 1)}
			_, cue := st.near(nh, gChildCue, 8, 0, true)
			cue = cue || st.formCodeNear(i, 3) || st.ageAfter(i)
			_, title := st.near(nh, gTitle, 1, -1, true)
			if !cue && !title && !st.isName(i) {
				continue
			}
			if cue || title {
				st.addSpan(PersonalData, normal, nh, h, "Names a child, pupil, patient or resident beside a sensitive detail about them.", "Remove the name and anything else that identifies them.")
				return
			}
			// Two capitalised words may be a person or a place ("Safer
			// Streets"): worth a look, not enough to call it risky.
			if weakName < 0 && i+1 < len(st.toks) && st.isName(i+1) && st.toks[i+1].sent == sent {
				weakName = i
			}
		}
		if weakName >= 0 {
			st.addSpan(PersonalData, weak, hit{a: int32(weakName), b: int32(weakName + 1)}, h, "A name, perhaps, beside a sensitive detail: check it does not identify someone.", "Remove the name if it is a private person.")
			return
		}
	}
}

// inGroup reports whether token i is inside a hit of group g.
func (st *scanState) inGroup(i int, g group) bool {
	if !st.has(g) {
		return false
	}
	for _, h := range st.hits {
		if h.groups.has(g) && int32(i) >= h.a && int32(i) < h.b {
			return true
		}
	}
	return false
}

func (s *Screener) isOfficial(st *scanState, i int) bool {
	if !st.has(gOfficial) {
		return false
	}
	for _, h := range st.hits {
		if h.groups.has(gOfficial) && int32(i) >= h.a && int32(i) < h.b {
			return true
		}
	}
	return false
}

// dateRange reports whether the date at h is one end of a range: "between"
// or "from" before it, or "and"/"to"/"until" joining it to another number.
func (st *scanState) dateRange(h hit) bool {
	if h.a > 0 {
		switch string(st.word(int(h.a) - 1)) {
		case "between", "from", "after", "before", "until", "till", "since":
			return true
		case "and", "to":
			// the second date of a range: a date-shaped token two back
			return h.a >= 2 && st.toks[h.a-2].flags&tfDigit != 0
		}
	}
	if int(h.b)+1 < len(st.toks) {
		switch string(st.word(int(h.b))) {
		case "and", "to", "until", "till":
			return st.toks[h.b+1].flags&tfDigit != 0
		}
	}
	return false
}

var ordinalDays = map[string]int{
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
	"ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
	"fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
	"twentieth": 20, "thirtieth": 30,
}

var fullMonths = map[string]bool{
	"january": true, "february": true, "march": true, "april": true, "may": true, "june": true, "july": true,
	"august": true, "september": true, "october": true, "november": true, "december": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true, "sep": true,
	"sept": true, "oct": true, "nov": true, "dec": true,
}

// wordDates: "born fourteenth of March 1956", "DOB the 2nd of November
// 1947": a date with the day in words or joined by "of", which the digit
// reader does not see. Only reported beside a date-of-birth cue or a named
// person, since a meeting date reads the same way.
func (s *Screener) wordDates(st *scanState) {
	for i := 1; i+1 < len(st.toks); i++ {
		// The year first: four digits are rarer than a month's name.
		y := st.toks[i+1]
		if y.flags&tfAllDigits == 0 || y.end-y.start != 4 {
			continue
		}
		w := string(st.word(i))
		if !fullMonths[w] || (st.toks[i].flags&tfCap == 0 && (w == "may" || w == "march")) {
			continue
		}
		year, _ := readNum(st.text, int(y.start), 4)
		age := st.clock().Year() - year
		if year < 1900 || age < 10 {
			continue
		}
		k := i - 1
		of := string(st.word(k)) == "of"
		if of {
			k--
		}
		if k < 0 {
			continue
		}
		d := string(st.word(k))
		day := ordinalDays[d]
		if k > 0 && day > 0 && day < 10 {
			switch string(st.word(k - 1)) {
			case "twenty", "thirty":
				k-- // "twenty first"
				day += 20
			}
		}
		if day == 0 && of && st.toks[k].flags&tfDigit != 0 {
			day, _ = readNum(st.text, int(st.toks[k].start), 2)
		}
		if day < 1 || day > 31 {
			continue
		}
		h := hit{a: int32(k), b: int32(i + 2)}
		if _, ok := st.near(h, gDOBCue, 12, 0, false); ok || st.nearName(h, 6) || st.hasNear(h, gTitle, 6) {
			st.add(PersonalData, normal, h.a, h.b, "A date of birth.", "Remove the date of birth.")
		}
	}
}
