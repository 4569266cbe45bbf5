package risk

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

var updateModel = flag.Bool("update-model", false, "retrain the learned model and rewrite learned/model.bin.gz")

// authorFolds splits the labelled examples by who wrote them: the shared
// development set and the first own cases, and the cases written later by
// other authors. Thresholds are chosen on each fold scored by a model
// trained on the other, so they reflect wording the model has not seen.
var authorFolds = [2][]string{
	{"devset.jsonl", "own-cases.jsonl", "own-cases-2.jsonl"},
	{"own-cases-3.jsonl", "own-cases-4.jsonl"},
}

// Training settings. Fixed, like the seed and the file order, so training is
// reproducible.
const (
	trainEpochs = 20
	trainRate   = 0.2
	trainL2     = 1e-4
	// minPrecision is what a category's signal must reach across authors
	// at its threshold; minProbability is the lowest threshold allowed.
	minPrecision   = 0.95
	minProbability = 0.7
	// maxThreshold disables a category whose signal never reaches
	// minPrecision: no probability passes it.
	maxThreshold = 2
)

type sample struct {
	example
	dir   Direction
	feats []uint32 // buckets, repeated as often as the feature occurs
	truth [nLearned]bool
}

func loadSamples(t testing.TB, files []string) []sample {
	t.Helper()
	st := newScanState()
	var out []sample
	for _, f := range files {
		for _, e := range loadExamples(t, "testdata/"+f) {
			dir, _ := ParseDirection(e.Context)
			s := sample{example: e, dir: dir}
			st.reset(e.Text)
			st.tokenize()
			for _, f := range appendFeatures(nil, st, dir, 1<<featureBits-1) {
				s.feats = append(s.feats, f.bucket)
			}
			for c, lc := range learnedCategories {
				s.truth[c] = slices.Contains(e.Categories, lc.cat)
			}
			out = append(out, s)
		}
	}
	return out
}

// rulesOnly is the screener without the learned signal.
func rulesOnly(t testing.TB) *Screener {
	t.Helper()
	s, err := newScreener(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// trainModel fits each category by stochastic gradient descent on the
// log-loss with L2 regularisation, visiting the samples in one fixed
// pseudo-random order. Products are converted explicitly so that no
// platform fuses them into different-rounding multiply-adds.
func trainModel(samples []sample) *model {
	m := &model{mask: 1<<featureBits - 1}
	w := make([]float64, (1<<featureBits)*nLearned)
	order := rand.New(rand.NewPCG(20261125, 3)).Perm(len(samples))
	for c, lc := range learnedCategories {
		for epoch := range trainEpochs {
			rate := trainRate / float64(1+epoch)
			for _, i := range order {
				s := &samples[i]
				if lc.incomingOnly && s.dir != Incoming {
					continue
				}
				z := m.bias[c]
				for _, b := range s.feats {
					z += w[int(b)*nLearned+c]
				}
				g := sigmoid(z)
				if s.truth[c] {
					g--
				}
				m.bias[c] -= float64(rate * g)
				for _, b := range s.feats {
					k := int(b)*nLearned + c
					w[k] -= float64(rate*g) + float64(rate*trainL2*w[k])
				}
			}
		}
	}
	big := 0.0
	for _, v := range w {
		big = max(big, math.Abs(v))
	}
	m.scale = big / math.MaxInt16
	m.w = make([]int16, len(w))
	for i, v := range w {
		m.w[i] = int16(math.Round(v / m.scale))
	}
	return m
}

// outOfFold scores each fold's samples with a model trained on the other
// fold: p[fold][i][c].
func outOfFold(folds [2][]sample) [2][][nLearned]float64 {
	var p [2][][nLearned]float64
	for k := range folds {
		m := trainModel(folds[1-k])
		st := newScanState()
		for _, s := range folds[k] {
			st.reset(s.Text)
			st.tokenize()
			var z [nLearned]float64
			m.scores(appendFeatures(nil, st, s.dir, m.mask), &z)
			for c := range z {
				z[c] = sigmoid(z[c])
			}
			p[k] = append(p[k], z)
		}
	}
	return p
}

// chooseThresholds picks, per category, the lowest probability at which the
// signal by itself is at least minPrecision right on the given folds'
// out-of-fold scores, but never below minProbability. Whether the rules
// found the category is deliberately ignored: they were written against
// these very examples, so what they miss here says little about what they
// miss in new text.
func chooseThresholds(folds [][]sample, p [][][nLearned]float64) [nLearned]float64 {
	var th [nLearned]float64
	for c, lc := range learnedCategories {
		type cand struct {
			p     float64
			right bool
		}
		var cs []cand
		for k := range folds {
			for i, s := range folds[k] {
				if !lc.incomingOnly || s.dir == Incoming {
					cs = append(cs, cand{p[k][i][c], s.truth[c]})
				}
			}
		}
		slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(b.p, a.p) })
		th[c] = maxThreshold
		right := 0
		for n, x := range cs {
			if x.right {
				right++
			}
			if x.right && x.p >= minProbability && float64(right)/float64(n+1) >= minPrecision {
				th[c] = x.p
			}
		}
	}
	return th
}

// buildModel is the whole training pipeline: thresholds across authors,
// then weights from every example.
func buildModel(t testing.TB) (*model, [2][]sample, [2][][nLearned]float64) {
	var folds [2][]sample
	for k, files := range authorFolds {
		folds[k] = loadSamples(t, files)
	}
	p := outOfFold(folds)
	m := trainModel(append(slices.Clip(folds[0]), folds[1]...))
	m.threshold = chooseThresholds(folds[:], p[:])
	return m, folds, p
}

// TestLearnedModelReproducible retrains the model and checks the embedded
// file is exactly what training produces; with -update-model it rewrites
// the file instead (go generate ./risk).
func TestLearnedModelReproducible(t *testing.T) {
	m, _, _ := buildModel(t)
	enc := m.encode()
	if *updateModel {
		if err := os.WriteFile("learned/model.bin.gz", enc, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote learned/model.bin.gz, %d bytes; thresholds %v", len(enc), m.threshold)
		return
	}
	got, err := loadModel()
	if err != nil {
		t.Fatal(err)
	}
	if got.bias != m.bias || got.threshold != m.threshold || got.scale != m.scale || !slices.Equal(got.w, m.w) {
		t.Fatalf("learned/model.bin.gz is not what the labelled examples train; run go generate ./risk")
	}
	if !bytes.Equal(got.encode(), enc) {
		t.Fatalf("model re-encodes differently")
	}
}

// TestLearnedCrossAuthor measures what the learned signal adds on text by
// authors it was not trained on: each fold is screened with a model trained
// on the other fold, with thresholds chosen on that other fold alone, and
// compared with the rules by themselves.
func TestLearnedCrossAuthor(t *testing.T) {
	_, folds, p := buildModel(t)
	rules, combined := rulesOnly(t), rulesOnly(t)
	var all [3][]Labels // labelled, rules, rules with the model
	for k := range folds {
		m := trainModel(folds[1-k])
		m.threshold = chooseThresholds(folds[1-k:2-k], p[1-k:2-k])
		combined.learned = m
		var fold [3][]Labels
		for _, s := range folds[k] {
			opts := Options{Context: s.dir, PreElection: s.PreElection}
			r, b := rules.Screen(context.Background(), s.Text, opts), combined.Screen(context.Background(), s.Text, opts)
			fold[0] = append(fold[0], Labels{Risky: s.Risky, Categories: s.Categories})
			fold[1] = append(fold[1], Labels{Risky: r.Risky, Categories: r.Categories})
			fold[2] = append(fold[2], Labels{Risky: b.Risky, Categories: b.Categories})
			if b.Risky && !s.Risky {
				t.Logf("false alarm %s: %q %v", s.ID, s.Text, b.Findings)
			}
		}
		logComparison(t, fmt.Sprintf("held out %v", authorFolds[k]), fold)
		for j := range all {
			all[j] = append(all[j], fold[j]...)
		}
	}
	a, b := logComparison(t, "both folds", all)
	if b.Risky.Precision() < 0.93 {
		t.Errorf("risky precision with the model %.3f < 0.93", b.Risky.Precision())
	}
	if b.Risky.Recall() < a.Risky.Recall() {
		t.Errorf("risky recall with the model %.3f < rules alone %.3f", b.Risky.Recall(), a.Risky.Recall())
	}
}

func logComparison(t *testing.T, title string, l [3][]Labels) (rules, both Scores) {
	a, b := Score(l[0], l[1]), Score(l[0], l[2])
	t.Logf("%s:", title)
	t.Logf("  %-15s %-18s %-18s", "", "rules P / R", "with model P / R")
	t.Logf("  %-15s %.3f / %.3f      %.3f / %.3f", "risky", a.Risky.Precision(), a.Risky.Recall(), b.Risky.Precision(), b.Risky.Recall())
	for _, lc := range learnedCategories {
		x, y := a.Category[lc.cat], b.Category[lc.cat]
		t.Logf("  %-15s %.3f / %.3f      %.3f / %.3f", lc.cat, x.Precision(), x.Recall(), y.Precision(), y.Recall())
	}
	return a, b
}
