package signpost

import "strings"

// NormalizePostcode returns a UK postcode in its canonical form, upper case
// with one space before the inward code ("nd11bx" → "ND1 1BX"), or an
// EINVALID error when s cannot be a postcode. It checks the shape only;
// whether the council holds the postcode is PlaceStore.LookupPostcode's job.
func NormalizePostcode(s string) (string, error) {
	var b [8]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '-':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'):
		default:
			return "", Errorf(EINVALID, "%q is not a postcode: use letters and numbers only, like ND1 1BX", truncate(s, 20))
		}
		if n == len(b) {
			return "", Errorf(EINVALID, "%q is too long to be a postcode", truncate(s, 20))
		}
		b[n] = c
		n++
	}
	if n < 5 || n > 7 {
		return "", Errorf(EINVALID, "%q is not a full postcode: it should look like ND1 1BX", truncate(s, 20))
	}
	out, in := string(b[:n-3]), string(b[n-3:n])
	if !validInward(in) || !validOutward(out) {
		return "", Errorf(EINVALID, "%q is not a valid UK postcode: it should look like ND1 1BX", truncate(s, 20))
	}
	return out + " " + in, nil
}

// PostcodeSector returns the sector of a normalised postcode ("ND1 1BX" →
// "ND1 1"), which is how bin rounds are assigned.
func PostcodeSector(normalised string) string {
	if i := strings.IndexByte(normalised, ' '); i > 0 && i+1 < len(normalised) {
		return normalised[:i+2]
	}
	return normalised
}

func validInward(s string) bool {
	return isDigit(s[0]) && isAlpha(s[1]) && isAlpha(s[2])
}

// validOutward accepts the six outward shapes (A9, A99, AA9, AA99, A9A,
// AA9A) and the Girobank special case GIR.
func validOutward(s string) bool {
	if s == "GIR" {
		return true
	}
	if len(s) < 2 || len(s) > 4 || !isAlpha(s[0]) {
		return false
	}
	rest := s[1:]
	if isAlpha(rest[0]) {
		rest = rest[1:]
	}
	switch len(rest) {
	case 1:
		return isDigit(rest[0])
	case 2:
		return isDigit(rest[0]) && (isDigit(rest[1]) || isAlpha(rest[1]))
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'A' && c <= 'Z' }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
