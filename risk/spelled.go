package risk

import "strings"

// E-mail addresses spelled out to dodge filters or scrapers: "jo.bloggs at
// gmail dot com", "priya [at] hotmail [dot] co [dot] uk", "d.hughes77 @
// icloud . com". They are read back into an address and weighed like any
// other; the bare word "at" only counts before a personal mail provider,
// since "email us at northdale dot com" style phrasing is rare but "meet at
// the hall" is everywhere.

// maySpellEmail is the cheap test: an "at" in brackets, a spaced "@",
// "dot" in any case, or " at " with a dot somewhere after it. It is asked
// of most texts, so it reads the text once for the first three rather than
// searching it for each in turn.
func maySpellEmail(text string) bool {
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '@':
			if i > 0 && text[i-1] == ' ' && i+1 < len(text) && text[i+1] == ' ' {
				return true
			}
		case '(', '[', '{':
			if i+3 < len(text) && text[i+1:i+3] == "at" && text[i+3] == closingBracket(c) {
				return true
			}
		case 'd', 'D':
			if i+2 < len(text) && text[i+1]|0x20 == 'o' && text[i+2]|0x20 == 't' {
				return true
			}
		}
	}
	i := strings.Index(text, " at ")
	return i >= 0 && strings.IndexByte(text[i:], '.') >= 0
}

func closingBracket(c byte) byte {
	switch c {
	case '(':
		return ')'
	case '[':
		return ']'
	}
	return '}'
}

func (s *Screener) spelledEmails(st *scanState) {
	text := st.text
	for i := 0; i < len(text); i++ {
		sepEnd, bare, ok := atSeparator(text, i)
		if !ok {
			continue
		}
		// The domain first: most " at " are followed by no domain at all,
		// and reading it allocates nothing until it matches.
		b, domain, spelledDomain := spelledDomainAfter(text, sepEnd)
		if domain == "" {
			continue
		}
		a, local, spelledLocal := spelledLocalBefore(text, i)
		if local == "" {
			continue
		}
		if text[i] == '@' && !spelledLocal && !spelledDomain && sepEnd == i+1 {
			continue // a plain address: emails() has it
		}
		i = b - 1
		switch {
		case s.policy.ownDomain(domain), publicSectorDomain(domain):
		case webmail(domain):
			st.addBytes(PersonalData, normal, a, b, "A personal e-mail address, spelled out.", "Remove it; reply to the person privately.")
		case bare, genericMailbox(local):
		default:
			st.addBytes(PersonalData, normal, a, b, "A spelled-out e-mail address that reads as a private person's.", "Remove it or use the organisation's published address.")
		}
	}
}

// atSeparator reports whether text[i:] starts the "at" of an address: "@"
// with spaces, "(at)", "[at]", "{at}", or the word "at" between spaces
// (bare). It returns where the separator ends.
func atSeparator(text string, i int) (end int, bare, ok bool) {
	switch {
	case text[i] == '@':
		return skipSpace(text, i+1), false, i > 0 && text[i-1] == ' '
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

// spelledDomainAfter reads labels joined by dots from text[i:] and returns
// where the address ends and the domain in lower case with plain dots; it
// needs two labels at least and a known last label.
func spelledDomainAfter(text string, i int) (int, string, bool) {
	var labels [8][2]int // start and end of each label in text
	n := 0
	spelled := false
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
		return 0, "", false
	}
	var sb strings.Builder
	for k := 0; k < n; k++ {
		if k > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(strings.ToLower(text[labels[k][0]:labels[k][1]]))
	}
	return end, sb.String(), spelled
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
func spelledLocalBefore(text string, i int) (int, string, bool) {
	b := i
	for b > 0 && text[b-1] == ' ' {
		b--
	}
	var parts []string
	spelled := false
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
			spelled = true
			continue
		}
		break
	}
	if len(parts) == 0 {
		return 0, "", false
	}
	return b, strings.Join(parts, "."), spelled
}
