package risk

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"
)

// Example is one labelled text in the development-set format.
type example struct {
	ID          string     `json:"id"`
	Text        string     `json:"text"`
	Risky       bool       `json:"risky"`
	Categories  []Category `json:"categories"`
	Context     string     `json:"context"`
	PreElection bool       `json:"pre_election"`
}

func loadDevset(t testing.TB) []example { return loadExamples(t, "testdata/devset.jsonl") }

func loadExamples(t testing.TB, path string) []example {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []example
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e example
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("devset: %v", err)
		}
		out = append(out, e)
	}
	return out
}

// TestDevset holds the screener to the targets on the shared
// development set.
func TestDevset(t *testing.T) { checkTargets(t, loadDevset(t)) }

// TestOwnCases holds it to the same targets on our own labelled cases
// (testdata/own-cases*.jsonl), written with different wording, names,
// numbers and obfuscations from the development set, and including safe
// near-misses. A few are judgement calls the rules deliberately leave.
func TestOwnCases(t *testing.T) {
	var ex []example
	for _, f := range []string{"own-cases.jsonl", "own-cases-2.jsonl", "own-cases-3.jsonl", "own-cases-4.jsonl"} {
		ex = append(ex, loadExamples(t, "testdata/"+f)...)
	}
	checkTargets(t, ex)
}

func checkTargets(t *testing.T, ex []example) {
	s := newTestScreener(t)
	var labels, preds []Labels
	for _, e := range ex {
		dir, _ := ParseDirection(e.Context)
		r := s.Screen(context.Background(), e.Text, Options{Context: dir, PreElection: e.PreElection})
		labels = append(labels, Labels{Risky: e.Risky, Categories: e.Categories})
		preds = append(preds, Labels{Risky: r.Risky, Categories: r.Categories})
		if r.Risky != e.Risky || !sameSet(r.Categories, e.Categories) {
			t.Logf("%s want %v %v got %v %v: %q\n  %v", e.ID, e.Risky, e.Categories, r.Risky, r.Categories, e.Text, r.Findings)
		}
	}
	sc := Score(labels, preds)
	t.Logf("risky: precision %.3f recall %.3f F1 %.3f", sc.Risky.Precision(), sc.Risky.Recall(), sc.Risky.F1())
	if p := sc.Risky.Precision(); p < 0.95 {
		t.Errorf("risky precision %.3f < 0.95", p)
	}
	if r := sc.Risky.Recall(); r < 0.95 {
		t.Errorf("risky recall %.3f < 0.95", r)
	}
	for _, c := range Categories() {
		m := sc.Category[c]
		t.Logf("%-15s precision %.3f recall %.3f (tp %d fp %d fn %d)", c, m.Precision(), m.Recall(), m.TP, m.FP, m.FN)
		if m.TP+m.FN > 0 && m.Recall() < 0.9 {
			t.Errorf("%s recall %.3f < 0.9", c, m.Recall())
		}
	}
}

func sameSet(a, b []Category) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[Category]bool{}
	for _, c := range a {
		m[c] = true
	}
	for _, c := range b {
		if !m[c] {
			return false
		}
	}
	return true
}

func newTestScreener(t testing.TB) *Screener {
	t.Helper()
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
