package signpost_test

import (
	"testing"
	"unicode/utf8"

	"github.com/signpost-uk/signpost"
)

func TestNormalizePostcode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"nd11bx", "ND1 1BX", true},
		{"ND1 1BX", "ND1 1BX", true},
		{"  nd1   1bx ", "ND1 1BX", true},
		{"sw1a1aa", "SW1A 1AA", true},
		{"M1 1AE", "M1 1AE", true},
		{"B33 8TH", "B33 8TH", true},
		{"CR2 6XH", "CR2 6XH", true},
		{"DN55 1PT", "DN55 1PT", true},
		{"W1A 0AX", "W1A 0AX", true},
		{"EC1A-1BB", "EC1A 1BB", true},
		{"GIR 0AA", "GIR 0AA", true},
		{"", "", false},
		{"ND1", "", false},
		{"ND1 1B", "", false},
		{"123 456", "", false},
		{"ND1 BXX", "", false},
		{"NDD11 1BX", "", false},
		{"ND1 1BX; DROP TABLE", "", false},
		{"ND1 1ΒX", "", false}, // Greek capital beta
		{"1D1 1BX", "", false},
	}
	for _, tt := range tests {
		got, err := signpost.NormalizePostcode(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("NormalizePostcode(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("NormalizePostcode(%q) error code = %q, want invalid", tt.in, signpost.ErrorCode(err))
		}
	}
}

func TestPostcodeSector(t *testing.T) {
	t.Parallel()
	if got := signpost.PostcodeSector("ND1 1BX"); got != "ND1 1" {
		t.Errorf("sector = %q", got)
	}
	if got := signpost.PostcodeSector("SW1A 1AA"); got != "SW1A 1" {
		t.Errorf("sector = %q", got)
	}
}

func FuzzNormalizePostcode(f *testing.F) {
	for _, s := range []string{"nd11bx", "SW1A 1AA", "GIR0AA", "", "ND1 1ΒX", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := signpost.NormalizePostcode(s)
		if err != nil {
			if !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("error message is not UTF-8: %q", err.Error())
			}
			return
		}
		again, err := signpost.NormalizePostcode(got)
		if err != nil || again != got {
			t.Fatalf("normalising %q gave %q, which normalises to %q, %v", s, got, again, err)
		}
		if len(got) < 6 || len(got) > 8 {
			t.Fatalf("normalised %q to %q of length %d", s, got, len(got))
		}
	})
}
