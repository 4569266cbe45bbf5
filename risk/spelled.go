package risk

import "strings"

// E-mail addresses spelled out to dodge filters or scrapers: "jo.bloggs at
// gmail dot com", "priya [at] hotmail [dot] co [dot] uk", "d.hughes77 @
// icloud . com". They are read back into an address and weighed like any
// other; the bare word "at" only counts before a personal mail provider,
// since "email us at northdale dot com" style phrasing is rare but "meet at
// the hall" is everywhere.

// atMarks are the ways an address's "@" is written: the sign itself
// (spaced or not), bracketed, or the bare word.
var atMarks = [...]string{"@", "(at)", "[at]", "{at}", " at "}

// spelledEmails looks only where an "at" is written. One quick read finds
// where each kind of mark first appears, if at all, and only those are
// searched for from there: most posts have no "@" or bracketed "at", and
// many no " at ".
func (s *Screener) spelledEmails(st *scanState) {
	text := st.text
	first := firstAtMarks(text)
	for m, mark := range atMarks {
		for off := first[m]; off >= 0 && off < len(text); {
			k := strings.Index(text[off:], mark)
			if k < 0 {
				break
			}
			i := off + k
			if mark == " at " {
				i++ // the "a"
			}
			off = s.spelledEmailAt(st, i)
		}
	}
}

// firstAtMarks returns the offset of the first of each of atMarks in text,
// or -1 where there is none.
func firstAtMarks(text string) [len(atMarks)]int {
	first := [len(atMarks)]int{strings.IndexByte(text, '@'), -1, -1, -1, -1}
	for i := 1; i+2 < len(text); i++ {
		if text[i] != 'a' || text[i+1] != 't' {
			continue
		}
		m := -1
		switch c, d := text[i-1], text[i+2]; {
		case c == '(' && d == ')':
			m = 1
		case c == '[' && d == ']':
			m = 2
		case c == '{' && d == '}':
			m = 3
		case c == ' ' && d == ' ':
			m = 4
		}
		if m > 0 && first[m] < 0 {
			first[m] = i - 1
		}
	}
	return first
}

// spelledEmailAt reads an address whose "at" starts at text[i] and returns
// where to look next.
func (s *Screener) spelledEmailAt(st *scanState, i int) int {
	text := st.text
	sepEnd, bare, ok := atSeparator(text, i)
	if !ok {
		return i + 1
	}
	// The domain first: most " at " are followed by no domain at all, and
	// reading it allocates nothing until it matches.
	d, ok := spelledDomainAfter(text, sepEnd)
	if !ok {
		return i + 1
	}
	b := d.end
	if text[i] == '@' && !d.spelled && sepEnd == i+1 && i > 0 && text[i-1] != ' ' {
		return b // a plain address: emails() has it
	}
	a, local := spelledLocalBefore(text, i)
	if local == "" {
		return i + 1
	}
	domain := d.String(text)
	switch {
	case s.policy.ownDomain(domain), publicSectorDomain(domain):
	case webmail(domain):
		st.addBytes(PersonalData, normal, a, b, "A personal e-mail address, spelled out.", "Remove it; reply to the person privately.")
	case bare, genericMailbox(local):
	default:
		st.addBytes(PersonalData, normal, a, b, "A spelled-out e-mail address that reads as a private person's.", "Remove it or use the organisation's published address.")
	}
	return b
}

// atSeparator reports whether text[i:] starts the "at" of an address: "@"
// with spaces, "(at)", "[at]", "{at}", or the word "at" between spaces
// (bare). It returns where the separator ends.
func atSeparator(text string, i int) (end int, bare, ok bool) {
	switch {
	case text[i] == '@':
		return skipSpace(text, i+1), false, true
	case text[i] == '(' || text[i] == '[' || text[i] == '{':
		if i+4 <= len(text) && strings.EqualFold(text[i+1:i+3], "at") && (text[i+3] == ')' || text[i+3] == ']' || text[i+3] == '}') {
			return skipSpace(text, i+4), false, true
		}
	case (text[i] == 'a' || text[i] == 'A') && i > 0 && text[i-1] == ' ' && i+3 < len(text) && (text[i+1] == 't' || text[i+1] == 'T') && text[i+2] == ' ':
		return i + 3, true, true
	}
	return 0, false, false
}

func skipSpace(text string, i int) int {
	for i < len(text) && text[i] == ' ' {
		i++
	}
	return i
}

// dotSeparator reports whether text[i:] is a spelled or spaced dot: ".",
// " . ", " dot ", "[dot]", "(dot)", with spaces around, and where it ends.
func dotSeparator(text string, i int) (end int, spelled, ok bool) {
	j := skipSpace(text, i)
	switch {
	case j < len(text) && text[j] == '.':
		return skipSpace(text, j+1), j > i, true
	case j+3 <= len(text) && strings.EqualFold(text[j:j+3], "dot") && j > i:
		if k := j + 3; k < len(text) && text[k] == ' ' {
			return skipSpace(text, k), true, true
		}
	case j+5 <= len(text) && (text[j] == '(' || text[j] == '[' || text[j] == '{') && strings.EqualFold(text[j+1:j+4], "dot") && (text[j+4] == ')' || text[j+4] == ']' || text[j+4] == '}'):
		return skipSpace(text, j+5), true, true
	}
	return 0, false, false
}

// spelledDomain is a domain read from text: its labels' offsets, where it
// ends, and whether any dot was spelled or spaced.
type spelledDomain struct {
	labels  [8][2]int
	n, end  int
	spelled bool
}

// String is the domain in lower case with plain dots.
func (d *spelledDomain) String(text string) string {
	var sb strings.Builder
	for k := 0; k < d.n; k++ {
		if k > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(strings.ToLower(text[d.labels[k][0]:d.labels[k][1]]))
	}
	return sb.String()
}

// spelledDomainAfter reads labels joined by dots from text[i:]; it needs
// two labels at least and a known last label.
func spelledDomainAfter(text string, i int) (spelledDomain, bool) {
	var d spelledDomain
	labels, n, spelled := &d.labels, 0, false
	end := i
	for n < len(labels) {
		j := end
		for j < len(text) && (isAlnum(text[j]) || text[j] == '-') {
			j++
		}
		if j == end {
			break
		}
		labels[n] = [2]int{end, j}
		n++
		end = j
		next, sp, ok := dotSeparator(text, j)
		if !ok || next >= len(text) || !isAlnum(text[next]) {
			break
		}
		spelled = spelled || sp
		end = next
	}
	if n < 2 || !emailTLD(text[labels[n-1][0]:labels[n-1][1]]) {
		return d, false
	}
	d.n, d.end, d.spelled = n, end, spelled
	return d, true
}

// emailTLD: the last labels a spelled address must end in.
func emailTLD(w string) bool {
	for _, t := range [...]string{"com", "uk", "org", "net", "io", "info", "me", "biz", "eu", "scot", "wales", "cymru"} {
		if strings.EqualFold(w, t) {
			return true
		}
	}
	return false
}

// spelledLocalBefore reads the mailbox name ending before text[i]
// (allowing spaces before the separator), with "dot" between its parts.
func spelledLocalBefore(text string, i int) (int, string) {
	b := i
	for b > 0 && text[b-1] == ' ' {
		b--
	}
	var parts []string
	for {
		a := b
		for a > 0 && (isEmailLocal(text[a-1]) && text[a-1] != '.' || text[a-1] == '.' && a-1 > 0 && isAlnum(text[a-2])) {
			a--
		}
		if a == b {
			break
		}
		parts = append([]string{strings.ToLower(text[a:b])}, parts...)
		b = a
		// " dot " before this part joins another part: "sam dot wright".
		if a >= 5 && strings.EqualFold(text[a-4:a-1], "dot") && text[a-1] == ' ' && text[a-5] == ' ' && a-5 > 0 && isAlnum(text[a-6]) {
			b = a - 5
			continue
		}
		break
	}
	if len(parts) == 0 {
		return 0, ""
	}
	return b, strings.Join(parts, ".")
}
