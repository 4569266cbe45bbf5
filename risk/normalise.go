package risk

import (
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// token is one word of the normalised text. Its normalised form lives in
// scanState.norm[ns:ne]; start and end are byte offsets into the original.
type token struct {
	start, end int32
	ns, ne     int32
	sent       int32 // sentence number, so rules do not pair words across sentences
	flags      uint16
	node       uint16 // the lexicon trie node of a word the lexicon names, else 0; set by match
}

const (
	tfDigit      uint16 = 1 << iota // had a digit in the original
	tfAllDigits                     // only digits: a number, not leetspeak
	tfMasked                        // had * or # standing for letters
	tfCap                           // first letter upper case in the original
	tfAllCaps                       // every letter upper case (at least two)
	tfSentStart                     // first word of a sentence
	tfColonAfter                    // followed directly by ':' in the original
	tfJoined                        // built from spaced-out single letters
	tfLeet                          // leetspeak symbols were read as letters
	tfAlpha                         // has at least one letter
	tfOne                           // a '1' was read as 'i' (retry with 'l')
	tfPossessive                    // ended in 's before normalisation
	tfApos                          // an apostrophe was dropped ("I'll" → "ill")
	tfPrefixes                      // prefix entries lie on the word's trie path; set by match
)

// scanState is the per-call scratch space, pooled by the Screener.
type scanState struct {
	text        string
	norm        []byte
	toks        []token
	hits        []hit
	present     groupSet // union of groups over hits
	findings    []rawFinding
	opts        Options
	now         time.Time
	preElection bool
	buf         []byte
	singles     int       // consecutive single-letter words so far
	spaced      bool      // a run of three or more single letters was seen
	letters     bool      // a single letter txtLetters reads was seen ("c u")
	feats       []feature // the learned model's features, kept for explain
}

func newScanState() *scanState {
	return &scanState{
		norm:     make([]byte, 0, 1024),
		toks:     make([]token, 0, 128),
		hits:     make([]hit, 0, 16),
		findings: make([]rawFinding, 0, 8),
		feats:    make([]feature, 0, 128),
	}
}

func (st *scanState) reset(text string) {
	st.text = text
	st.norm = st.norm[:0]
	st.toks = st.toks[:0]
	st.hits = st.hits[:0]
	st.findings = st.findings[:0]
	st.present = groupSet{}
	st.singles = 0
	st.spaced = false
	st.letters = false
}

func (st *scanState) word(i int) []byte {
	t := &st.toks[i]
	return st.norm[t.ns:t.ne]
}

// homoglyphs maps Cyrillic and Greek letters that look like Latin ones, a
// common way to slip a word past a filter. NFKC leaves these alone because
// they are different letters, not compatibility forms.
var homoglyphs = map[rune]byte{
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p',
	'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd',
	'ɡ': 'g', 'һ': 'h', 'ӏ': 'l', 'ս': 'u', 'ո': 'n', 'ԛ': 'q', 'ԝ': 'w', 'ı': 'i',
	'А': 'a', 'В': 'b', 'Е': 'e', 'К': 'k', 'М': 'm', 'Н': 'h', 'О': 'o', 'Р': 'p', 'С': 'c',
	'Т': 't', 'У': 'y', 'Х': 'x', 'І': 'i', 'Ј': 'j', 'Ѕ': 's',
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w', 'ς': 's', 'μ': 'u',
	'Α': 'a', 'Β': 'b', 'Ε': 'e', 'Η': 'h', 'Ι': 'i', 'Κ': 'k', 'Μ': 'm', 'Ν': 'n', 'Ο': 'o',
	'Ρ': 'p', 'Τ': 't', 'Υ': 'y', 'Χ': 'x', 'Ζ': 'z',
	'ƒ': 'f', 'ɑ': 'a', 'ɩ': 'i', 'ʀ': 'r', 'ᴋ': 'k', 'ʏ': 'y', 'ɢ': 'g', 'ᴄ': 'c', 'ᴜ': 'u',
}

// leet maps digits and symbols people use for letters. '1' is read as 'i'
// first and retried as 'l' when that finds nothing.
var leetDigit = [10]byte{'o', 'i', 'z', 'e', 'a', 's', 'g', 't', 'b', 'g'}

// char classes produced by classify.
const (
	cSep = iota
	cLetter
	cDigit
	cMask   // * or # inside a word
	cSymbol // @ $ ! | read as a letter inside a word
	cApos   // apostrophe inside a word: dropped
	cEnd    // sentence-ending punctuation
	cSkip   // invisible inside a word: ignored
)

// tokenize normalises st.text into st.norm and splits it into tokens, in one
// pass over the bytes. Anything that is not a letter, digit or in-word symbol
// separates words.
func (st *scanState) tokenize() {
	text := st.text
	sent := int32(0)
	sentStart := true
	inWord := false
	var cur token
	var mapped [8]byte
	i := 0
	for i < len(text) {
		c := text[i]
		if c|0x20 >= 'a' && c|0x20 <= 'z' {
			// Fast path: a run of ASCII letters, which is most text.
			if !inWord {
				inWord = true
				cur = startToken(i, len(st.norm), sent, sentStart, c <= 'Z')
				sentStart = false
			}
			cur.flags |= tfAlpha
			// The run is copied with its state in locals: updating the
			// token or st.norm in memory at every byte costs more than
			// the rest of the loop.
			j, lower, norm := i, false, st.norm
			for ; j < len(text); j++ {
				b := text[j]
				if b >= 'a' && b <= 'z' {
					lower = true
				} else if b >= 'A' && b <= 'Z' {
					b += 'a' - 'A'
				} else {
					break
				}
				norm = append(norm, b)
			}
			st.norm = norm
			if lower {
				cur.flags &^= tfAllCaps
			}
			cur.end = int32(j)
			i = j
			continue
		}
		if c == ' ' {
			if inWord {
				st.endWord(cur)
				inWord = false
			}
			i++
			continue
		}
		size := 1
		var out []byte
		class := cSep
		var upper bool
		if c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z':
				class = cLetter
				mapped[0] = c
				out = mapped[:1]
			case c >= 'A' && c <= 'Z':
				class = cLetter
				upper = true
				mapped[0] = c + 'a' - 'A'
				out = mapped[:1]
			case c >= '0' && c <= '9':
				class = cDigit
				mapped[0] = c
				out = mapped[:1]
			case c == '\'':
				if inWord && i+1 < len(text) && isWordByte(text[i+1]) {
					class = cApos
				}
			case c == '*' || c == '#':
				if inWord || (i+1 < len(text) && isLetterByte(text[i+1])) {
					class = cMask
					mapped[0] = '*'
					out = mapped[:1]
				}
			case c == '@' || c == '$' || c == '!' || c == '|':
				next := i+1 < len(text) && isLetterByte(text[i+1])
				if c == '!' && !next {
					class = cEnd
				} else if next || (inWord && (c == '@' || c == '$')) {
					class = cSymbol
					switch c {
					case '@':
						mapped[0] = 'a'
					case '$':
						mapped[0] = 's'
					case '!', '|':
						mapped[0] = 'i'
					}
					out = mapped[:1]
				}
			case c == '.' || c == '?' || c == ';' || c == '\n':
				if c == '\n' || i+1 >= len(text) || text[i+1] == ' ' || text[i+1] == '\n' || text[i+1] == '\t' {
					class = cEnd
				}
			}
		} else {
			r, n := utf8.DecodeRuneInString(text[i:])
			size = n
			if r == '’' && inWord && i+n < len(text) && isWordByte(text[i+n]) {
				class = cApos
			} else if inWord && (unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Mn, r)) {
				// Zero-width spaces and joiners, soft hyphens and stray
				// combining marks inside a word are invisible: skip them
				// rather than let them split "fu\u200bck" in two.
				class = cSkip
			} else if b, ok := homoglyphs[r]; ok {
				class = cLetter
				mapped[0] = b
				out = mapped[:1]
				upper = unicode.IsUpper(r)
			} else if unicode.IsLetter(r) || unicode.IsNumber(r) {
				out = foldRune(r, mapped[:0])
				if len(out) > 0 {
					class = cLetter
					if out[0] >= '0' && out[0] <= '9' {
						class = cDigit
					}
					upper = unicode.IsUpper(r)
				}
			}
		}
		switch class {
		case cLetter, cDigit, cMask, cSymbol:
			if !inWord {
				inWord = true
				cur = startToken(i, len(st.norm), sent, sentStart, class == cLetter && upper)
				sentStart = false
			} else if class == cLetter && !upper {
				cur.flags &^= tfAllCaps
			}
			switch class {
			case cLetter:
				cur.flags |= tfAlpha
			case cDigit:
				cur.flags |= tfDigit
			case cMask:
				cur.flags |= tfMasked
			case cSymbol:
				cur.flags |= tfLeet | tfAlpha
			}
			st.norm = append(st.norm, out...)
			cur.end = int32(i + size)
		case cSkip:
			cur.end = int32(i + size)
		case cApos:
			// "can't" → "cant", "I'll" → "ill": one word, as people type it
			// without the apostrophe too. A trailing 's is a possessive.
			if i+2 <= len(text) && (text[i+1] == 's' || text[i+1] == 'S') && (i+2 == len(text) || !isWordByte(text[i+2])) {
				cur.flags |= tfPossessive
				st.endWord(cur)
				inWord = false
				i += 2
				continue
			}
			cur.flags |= tfApos
		default:
			if inWord {
				if c == ':' {
					cur.flags |= tfColonAfter
				}
				st.endWord(cur)
				inWord = false
			}
			if class == cEnd {
				sent++
				sentStart = true
			}
		}
		i += size
	}
	if inWord {
		st.endWord(cur)
	}
	if st.spaced {
		st.joinSpaced()
	}
	if st.letters {
		st.txtLetters()
	}
}

// txtWords are text-speak words of two or more characters and their
// ordinary spelling. Single letters ("u", "r") are left to txtLetters,
// after spaced-out letters have been joined, so "f u c k" is still one word.
var txtWords = [...]struct{ from, to string }{
	{"ur", "your"},
	{"yr", "your"},
	{"yor", "your"},
	{"wil", "will"},
	{"wl", "will"},
	{"gna", "gonna"},
	{"gunna", "gonna"},
	{"gona", "gonna"},
	{"gnna", "gonna"},
	{"imma", "gonna"},
	{"ima", "gonna"},
	{"da", "the"},
	{"teh", "the"},
	{"thru", "through"},
	{"thro", "through"},
	{"agen", "again"},
	{"agin", "again"},
	{"tmrw", "tomorrow"},
	{"tmoz", "tomorrow"},
	{"tomoz", "tomorrow"},
	{"2moro", "tomorrow"},
	{"2moz", "tomorrow"},
	{"2nite", "tonight"},
	{"2nyt", "tonight"},
	{"tonite", "tonight"},
	{"w8", "wait"},
	{"w8n", "wait"},
	{"w8in", "waiting"},
	{"w8ing", "waiting"},
	{"m8", "mate"},
	{"m8s", "mate"},
	{"l8r", "later"},
	{"skl", "school"},
	{"skool", "school"},
	{"skul", "school"},
	{"kno", "know"},
	{"knw", "know"},
	{"comin", "coming"},
	{"walkin", "walking"},
	{"ruinin", "ruining"},
	{"wen", "when"},
	{"wiv", "with"},
	{"wif", "with"},
	{"ull", "youll"},
}

// txtKeys marks the (length, first letter, last letter) shapes of
// txtWords, so almost every word is ruled out with one bit test rather than
// compared with the list.
var txtKeys = func() (keys [7*alphabet*alphabet/64 + 1]uint64) {
	for _, p := range txtWords {
		k := txtKey([]byte(p.from))
		keys[k/64] |= 1 << (k % 64)
	}
	return keys
}()

func txtKey(w []byte) int {
	return (len(w)*alphabet+charIndex(w[0]))*alphabet + charIndex(w[len(w)-1])
}

// txtSpeak returns the ordinary spelling of a text-speak word ("ur",
// "w8in", "gna"), or "" for any other word.
func txtSpeak(w []byte) string {
	if len(w) < 2 || len(w) > 6 || charIndex(w[0]) < 0 || charIndex(w[len(w)-1]) < 0 {
		return ""
	}
	if k := txtKey(w); txtKeys[k/64]&(1<<(k%64)) == 0 {
		return ""
	}
	for _, p := range txtWords {
		if p.from == string(w) {
			return p.to
		}
	}
	return ""
}

// txtLetters reads the single letters of text-speak ("c u there", "u r
// dead", "i'll b waiting") as the words they stand for.
func (st *scanState) txtLetters() {
	for i := range st.toks {
		t := &st.toks[i]
		if t.ne-t.ns != 1 || t.flags&tfJoined != 0 {
			continue
		}
		var r string
		switch st.norm[t.ns] {
		case 'u':
			r = "you"
		case 'r':
			r = "are"
		case 'b':
			r = "be"
		case 'c':
			r = "see"
		default:
			continue
		}
		t.ns = int32(len(st.norm))
		st.norm = append(st.norm, r...)
		t.ne = int32(len(st.norm))
	}
}

// startToken starts a word at byte i of the text and ns of the normalised
// text.
func startToken(i, ns int, sent int32, sentStart, upper bool) token {
	t := token{start: int32(i), ns: int32(ns), sent: sent}
	if sentStart {
		t.flags |= tfSentStart
	}
	if upper {
		t.flags |= tfCap | tfAllCaps
	}
	return t
}

// foldRune returns the ASCII letters or digits a non-ASCII rune stands for:
// NFKC first (full-width and stylised letters), then accents stripped. Runes
// with no Latin reading yield nothing and act as separators.
func foldRune(r rune, dst []byte) []byte {
	var tmp [utf8.UTFMax]byte
	n := utf8.EncodeRune(tmp[:], r)
	for _, x := range norm.NFKD.Bytes(norm.NFKC.Bytes(tmp[:n])) {
		switch {
		case x >= 'a' && x <= 'z', x >= '0' && x <= '9':
			dst = append(dst, x)
		case x >= 'A' && x <= 'Z':
			dst = append(dst, x+'a'-'A')
		case x < utf8.RuneSelf:
			// punctuation from a compatibility form: ignore
		}
		if len(dst) >= 4 {
			break
		}
	}
	return dst
}

func isLetterByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= utf8.RuneSelf
}

func isWordByte(c byte) bool {
	return isLetterByte(c) || (c >= '0' && c <= '9')
}

// endWord finishes a token: mixed letters and digits are read as leetspeak
// ("sh1te", "m0r0ns"), pure numbers stay numbers, and the token is kept.
func (st *scanState) endWord(t token) {
	if t.ne = int32(len(st.norm)); t.ne == t.ns {
		return
	}
	w := st.norm[t.ns:t.ne]
	// Note runs of three single letters, the only case joinSpaced handles.
	if len(w) == 1 {
		switch w[0] {
		case 'u', 'r', 'b', 'c':
			st.letters = true
		}
		if st.singles++; st.singles >= 3 {
			st.spaced = true
		}
	} else {
		st.singles = 0
	}
	if r := txtSpeak(w); r != "" {
		// "ur", "w8in", "gna": text-speak spelt out, so the word lists
		// need only the ordinary spelling ("watch your back").
		st.norm = append(st.norm[:t.ns], r...)
		t.ne = int32(len(st.norm))
		t.flags &^= tfDigit
		st.toks = append(st.toks, t)
		return
	}
	if t.flags&tfDigit != 0 {
		if t.flags&(tfAlpha|tfMasked) == 0 {
			t.flags |= tfAllDigits
		} else if !pluralNumber(w) {
			for k, b := range w {
				if b >= '0' && b <= '9' {
					if b == '1' {
						t.flags |= tfOne
					}
					w[k] = leetDigit[b-'0']
					t.flags |= tfLeet
				}
			}
		}
	}
	st.toks = append(st.toks, t)
}

// pluralNumber: "over 65s", "the 1980s" are numbers, not leetspeak.
func pluralNumber(w []byte) bool {
	n := len(w)
	if n < 2 || w[n-1] != 's' {
		return false
	}
	for _, b := range w[:n-1] {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

// joinSpaced merges runs of three or more single-letter words separated by
// one or two characters ("f u c k", "c.r.a.p") into one token spanning the
// run, so spacing cannot hide a word.
func (st *scanState) joinSpaced() {
	toks := st.toks
	out := toks[:0]
	for i := 0; i < len(toks); {
		j := i
		for j < len(toks) && toks[j].ne-toks[j].ns == 1 &&
			(j == i || (toks[j].start-toks[j-1].end <= 2 && toks[j].sent == toks[j-1].sent) ||
				(toks[j].start-toks[j-1].end <= 2 && st.text[toks[j-1].end] == '.')) {
			j++
		}
		letters := 0
		for k := i; k < j; k++ {
			if toks[k].flags&tfAllDigits == 0 {
				letters++
			}
		}
		// Single digits join in as leetspeak ("s h 1 t") only beside at
		// least two letters, so "1 2 3" stays three numbers.
		if j-i >= 3 && letters >= 2 {
			t := toks[i]
			t.ns = int32(len(st.norm))
			for k := i; k < j; k++ {
				b := st.norm[toks[k].ns]
				if b >= '0' && b <= '9' {
					b = leetDigit[b-'0']
				}
				st.norm = append(st.norm, b)
			}
			t.flags &^= tfAllDigits
			t.ne = int32(len(st.norm))
			t.end = toks[j-1].end
			t.flags |= tfJoined
			t.flags &^= tfCap | tfAllCaps
			out = append(out, t)
			i = j
			continue
		}
		out = append(out, toks[i])
		i++
	}
	st.toks = out
}
