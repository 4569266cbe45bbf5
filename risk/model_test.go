package risk

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"
)

// learnedFindings returns the findings the learned signal made.
func learnedFindings(r Report) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if strings.HasPrefix(f.Reason, "A learned signal") {
			out = append(out, f)
		}
	}
	return out
}

func TestLearnedSignal(t *testing.T) {
	s := newTestScreener(t)
	tests := []struct {
		name string
		text string
		dir  Direction
		want Category // "" for no learned finding
		cats []Category
	}{
		{"veiled threat the rules miss", "Someone should lock the complainers in the basement and lose the key", Outgoing, Threat, []Category{Threat}},
		{"leetspeak reaches the same words", "S0meone sh0uld lock the c0mplainers in the basement and l0se the key", Outgoing, Threat, []Category{Threat}},
		{"rules found it first", "I'll smash the depot windows myself if Mill Lane isn't gritted by tonight", Incoming, "", []Category{Threat}},
		{"routine notice", "Bins in Eastfield will be collected on Saturday instead of Friday.", Outgoing, "", []Category{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Screen(context.Background(), tt.text, Options{Context: tt.dir})
			got := learnedFindings(r)
			if !sameSet(r.Categories, tt.cats) {
				t.Fatalf("categories %v, want %v", r.Categories, tt.cats)
			}
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("learned findings %v", got)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("no learned %s finding: %v", tt.want, r)
			}
			for _, f := range got {
				if f.Category != tt.want || f.Severity < Medium {
					t.Errorf("finding %v, want %s at medium or above", f, tt.want)
				}
				// The span is a word of the original text, quoted in the reason.
				if tt.text[f.Start:f.End] != f.Text || !strings.Contains(f.Reason, "'"+f.Text+"'") || strings.ContainsAny(f.Text, " ,.") {
					t.Errorf("span %d-%d %q does not match reason %q", f.Start, f.End, f.Text, f.Reason)
				}
			}
		})
	}
}

// TestLearnedSafeguardingIncomingOnly uses a model that scores every text
// as at risk: only messages from residents may be escalated.
func TestLearnedSafeguardingIncomingOnly(t *testing.T) {
	m := &model{mask: 1<<4 - 1, w: make([]int16, 16*nLearned), scale: 1}
	for c, lc := range learnedCategories {
		m.threshold[c] = maxThreshold
		if lc.cat == Safeguarding {
			m.threshold[c] = 0.5
			for b := range 16 {
				m.w[b*nLearned+c] = 1
			}
		}
	}
	s, err := newScreener(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		dir  Direction
		want bool
	}{{Outgoing, false}, {Incoming, true}} {
		r := s.Screen(context.Background(), "Thanks for fixing the streetlight on Mill Lane", Options{Context: tt.dir})
		if got := len(learnedFindings(r)) > 0; got != tt.want || r.Escalate != tt.want {
			t.Errorf("%s: learned finding %v escalate %v, want %v: %v", tt.dir, got, r.Escalate, tt.want, r)
		}
	}
}

func TestDecodeModelRejects(t *testing.T) {
	good := (&model{mask: 1, w: make([]int16, 2*nLearned), scale: 1}).encode()
	if _, err := decodeModel(good); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	raw := func(b []byte) []byte {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		out.ReadFrom(zr)
		return out.Bytes()
	}(good)
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	for name, b := range map[string][]byte{
		"not gzip":      []byte("weights"),
		"wrong magic":   gz(append([]byte("x"), raw[1:]...)),
		"truncated":     gz(raw[:len(raw)-1]),
		"bytes left":    gz(append(raw, 0)),
		"no categories": gz([]byte(modelMagic + "\x01\x00")),
	} {
		if _, err := decodeModel(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
