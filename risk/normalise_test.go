package risk

import (
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want string // normalised words joined by spaces
	}{
		{"Hello, World!", "hello world"},
		{"I'll can't won’t", "ill cant wont"},
		{"the gritter's keys", "the gritter keys"},
		{"sh1t m0r0ns 4ss", "shit morons ass"},
		{"$hit @ss sh!t", "shit ass shit"},
		{"f*ck f**k", "f*ck f**k"},
		{"f u c k off", "fuck off"},
		{"c.r.a.p day", "crap day"},
		{"f. u. c. k.", "fuck"},
		{"ѕhіt", "shit"},           // Cyrillic ѕ and і
		{"ｆｕｃｋ", "fuck"},           // full-width
		{"fück café", "fuck cafe"}, // accents stripped
		{"αβγ", "ab"},              // Greek look-alikes; γ has none
		{"07911 123456", "07911 123456"},
		{"5am A167", "sam aigt"},                    // letters and digits mixed read as leetspeak
		{"a d", "a d"},                              // two single letters are not joined
		{"i'll b w8in 4 u", "ill be waiting 4 you"}, // text-speak spelt out
		{"watch ur back m8", "watch your back mate"},
		{"over 65s in the 1980s", "over 65s in the 1980s"}, // plural numbers are not leetspeak
		{"u r a b", "urab"},                                // spaced letters are joined before text-speak is read
		{"fu\u200bck sh\u00adit", "fuck shit"},             // zero-width space, soft hyphen
		{"ƒuck", "fuck"},
		{"", ""},
	}
	for _, tt := range tests {
		st := newScanState()
		st.reset(tt.in)
		st.tokenize()
		var words []string
		for i := range st.toks {
			words = append(words, string(st.word(i)))
			tk := st.toks[i]
			if tk.start < 0 || int(tk.end) > len(tt.in) || tk.start >= tk.end {
				t.Errorf("%q: token %d has span %d-%d", tt.in, i, tk.start, tk.end)
			}
		}
		if got := strings.Join(words, " "); got != tt.want {
			t.Errorf("tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokenFlags(t *testing.T) {
	st := newScanState()
	st.reset("SECRET: the Secret plan. Internal: 2580")
	st.tokenize()
	want := []struct {
		word  string
		flags uint16
	}{
		{"secret", tfAllCaps | tfCap | tfSentStart | tfColonAfter},
		{"the", 0},
		{"secret", tfCap},
		{"plan", 0},
		{"internal", tfCap | tfSentStart | tfColonAfter},
		{"2580", tfDigit | tfAllDigits},
	}
	if len(st.toks) != len(want) {
		t.Fatalf("%d tokens, want %d", len(st.toks), len(want))
	}
	mask := tfAllCaps | tfCap | tfSentStart | tfColonAfter | tfDigit | tfAllDigits
	for i, w := range want {
		if got := string(st.word(i)); got != w.word || st.toks[i].flags&mask != w.flags {
			t.Errorf("token %d = %q flags %b, want %q flags %b", i, got, st.toks[i].flags&mask, w.word, w.flags)
		}
	}
}

func TestSqueeze(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"fuuuuck", 2, "fuuck"}, {"fuuuuck", 1, "fuck"}, {"shiiiite", 1, "shite"}, {"book", 1, "bok"}, {"", 1, ""},
	}
	for _, tt := range tests {
		if got := string(squeeze(nil, []byte(tt.in), tt.max)); got != tt.want {
			t.Errorf("squeeze(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestSpacedLeet(t *testing.T) {
	st := newScanState()
	st.reset("s h 1 t and 1 2 3 and a 1 b")
	st.tokenize()
	var words []string
	for i := range st.toks {
		words = append(words, string(st.word(i)))
	}
	if got := strings.Join(words, " "); got != "shit and 1 2 3 and aib" {
		t.Errorf("got %q", got)
	}
}
