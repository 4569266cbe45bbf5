package risk

// Labels are the risky flag and categories of one text, either as labelled
// or as screened; Score compares the two.
type Labels struct {
	Risky      bool
	Categories []Category
}

// Counts are true positives, false positives and false negatives.
type Counts struct {
	TP, FP, FN, TN int
}

// Precision is TP/(TP+FP), or 1 when nothing was predicted.
func (c Counts) Precision() float64 {
	if c.TP+c.FP == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FP)
}

// Recall is TP/(TP+FN), or 1 when nothing was there to find.
func (c Counts) Recall() float64 {
	if c.TP+c.FN == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FN)
}

// F1 is the harmonic mean of precision and recall.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func (c *Counts) add(want, got bool) {
	switch {
	case want && got:
		c.TP++
	case got:
		c.FP++
	case want:
		c.FN++
	default:
		c.TN++
	}
}

// Scores are the counts for "risky" and for each category.
type Scores struct {
	Risky    Counts
	Category map[Category]Counts
}

// Score compares labelled and predicted labels, pairwise.
func Score(want, got []Labels) Scores {
	s := Scores{Category: map[Category]Counts{}}
	for i := range want {
		if i >= len(got) {
			break
		}
		s.Risky.add(want[i].Risky, got[i].Risky)
		for _, c := range Categories() {
			cnt := s.Category[c]
			cnt.add(contains(want[i].Categories, c), contains(got[i].Categories, c))
			s.Category[c] = cnt
		}
	}
	return s
}

func contains(cs []Category, c Category) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}
