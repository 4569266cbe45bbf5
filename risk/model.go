package risk

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
)

// The learned signal catches risky wording the rules have never seen. Rules
// are exact about the phrases and shapes they know but miss a new author's
// way of saying the same thing; a linear classifier over the words and word
// pairs of labelled examples generalises a little further. It only adds a
// category the rules did not find, and only above a threshold chosen by
// cross-validation across authors to keep precision high.
//
// The weights are trained from testdata/*.jsonl by
//
//	go generate ./risk
//
// which retrains deterministically and rewrites learned/model.bin.gz;
// TestLearnedModelReproducible fails when the committed file is not what
// the current data trains.
//
//go:generate go test -run ^TestLearnedModelReproducible$ -update-model .

//go:embed learned/model.bin.gz
var modelFile []byte

// loadModel decodes the embedded model once; it is read-only afterwards.
var loadModel = sync.OnceValues(func() (*model, error) { return decodeModel(modelFile) })

// learnedCategory describes how one category's score is reported.
type learnedCategory struct {
	cat Category
	// incomingOnly is set for safeguarding, which only applies to messages
	// from residents; it is also trained only on incoming examples.
	incomingOnly bool
	// often completes "wording like 'x' is often …".
	often      string
	suggestion string
}

// learnedCategories are the categories the model scores, in model order.
// Profanity, personal data and politics are left to rules: their evidence is
// a word list, a number's shape or a party's name, which rules already know.
var learnedCategories = [...]learnedCategory{
	{cat: Abuse, often: "abusive", suggestion: "Check the wording: describe the situation, not the people."},
	{cat: Threat, often: "threatening", suggestion: "Check whether this threatens anyone; if it came from a resident, follow the threats procedure."},
	{cat: Discrimination, often: "discriminatory", suggestion: "Check the wording says nothing about a protected group as a whole."},
	{cat: Disaffection, often: "staff disaffection", suggestion: "Check the wording does not show contempt for the council, colleagues or the job."},
	{cat: Confidential, often: "confidential", suggestion: "Check the material has been formally published before sharing it."},
	{cat: Safeguarding, incomingOnly: true, often: "a sign someone is at risk", suggestion: sugEscalate},
}

const (
	modelMagic = "signpost-risk-model-2\n"
	// featureBits sets 2^featureBits hash buckets: enough that the words and
	// word pairs of a few thousand examples rarely collide, small enough to
	// keep the embedded file well under a megabyte.
	featureBits = 15
)

// model is a one-vs-rest logistic regression over hashed features.
type model struct {
	mask      uint32
	bias      [len(learnedCategories)]float64
	threshold [len(learnedCategories)]float64 // probabilities
	// w holds each bucket's weights for every category together, so one
	// feature reads one cache line; they are w×scale, quantised to 16 bits
	// so the whole table stays in a core's cache.
	w     []int16
	scale float64
}

const nLearned = len(learnedCategories)

// Feature salts keep unigrams, stems and bigrams of the same words apart.
const (
	saltStem   = 0x9e3779b97f4a7c15
	saltBigram = 0xc2b2ae3d27d4eb4f
	saltDir    = 0x165667b19e3779f9
)

// feature is one hashed feature of a tokenized text: its bucket, the token
// it belongs to (-1 for the whole text) and whether it is a word pair
// ending at that token.
type feature struct {
	bucket uint32
	tok    int32
	pair   bool
}

// appendFeatures appends every feature of the tokenized text to dst: each
// word, its stem when that differs, the pair it makes with the word before
// it in the same sentence, and who wrote the text. Words are the screener's
// own normalised tokens, so its handling of leetspeak, look-alike letters
// and spacing carries over. The features are gathered before any weight is
// read so the weight reads, which miss the cache, overlap one another
// instead of waiting on the hashing between them.
func appendFeatures(dst []feature, st *scanState, dir Direction, mask uint32) []feature {
	d := uint64(saltDir)
	if dir == Incoming {
		d++
	}
	dst = append(dst, feature{bucket: mix(d, mask), tok: -1})
	var prev uint64
	prevSent := int32(-1)
	number := [1]byte{'#'} // every number is one word
	for i := range st.toks {
		t := &st.toks[i]
		w := st.norm[t.ns:t.ne]
		if t.flags&tfAllDigits != 0 {
			w = number[:]
		}
		// FNV reads bytes in order, so the stem's hash is the word's hash
		// part way through: no second pass.
		n := stemLen(w)
		h, hs := wordHash(w, n)
		dst = append(dst, feature{bucket: mix(h, mask), tok: int32(i)})
		if n < len(w) {
			dst = append(dst, feature{bucket: mix(hs^saltStem, mask), tok: int32(i)})
		}
		if t.sent == prevSent {
			dst = append(dst, feature{bucket: mix((prev<<7|prev>>57)^h^saltBigram, mask), tok: int32(i), pair: true})
		}
		prev, prevSent = h, t.sent
	}
	return dst
}

// wordHash is 64-bit FNV-1a of w, and of its first n bytes.
func wordHash(w []byte, n int) (h, prefix uint64) {
	h = 14695981039346656037
	for i, c := range w {
		if i == n {
			prefix = h
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	if n >= len(w) {
		prefix = h
	}
	return h, prefix
}

// mix spreads a hash's bits (the murmur3 finaliser) before taking a bucket.
func mix(h uint64, mask uint32) uint32 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return uint32(h) & mask
}

// stemLen is the length of w without a plural or verb ending, so
// "threatening", "threatened" and "threatens" share evidence with
// "threaten".
func stemLen(w []byte) int {
	n := len(w)
	switch {
	case n > 5 && w[n-3] == 'i' && w[n-2] == 'n' && w[n-1] == 'g':
		return n - 3
	case n > 4 && w[n-2] == 'e' && w[n-1] == 'd':
		return n - 2
	case n > 3 && w[n-1] == 's' && w[n-2] != 's':
		return n - 1
	}
	return n
}

// scores sets z to each category's log-odds for a text's features.
func (m *model) scores(feats []feature, z *[nLearned]float64) {
	var acc [nLearned]int32
	for _, f := range feats {
		w := (*[nLearned]int16)(m.w[int(f.bucket)*nLearned:])
		for c := range acc {
			acc[c] += int32(w[c])
		}
	}
	for c := range z {
		z[c] = m.bias[c] + float64(acc[c])*m.scale
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// learnedSignals adds a finding for each category whose score passes its
// threshold and which the rules have not already found.
func (s *Screener) learnedSignals(st *scanState) {
	m := s.learned
	var z [nLearned]float64
	st.feats = appendFeatures(st.feats[:0], st, st.opts.Context, m.mask)
	m.scores(st.feats, &z)
	for c := range learnedCategories {
		lc := &learnedCategories[c]
		if lc.incomingOnly && st.opts.Context != Incoming {
			continue
		}
		// Thresholds are probabilities of at least a half, which a
		// negative score cannot reach: most texts skip the exponential.
		if z[c] < -1e-3 && m.threshold[c] >= 0.5 {
			continue
		}
		p := sigmoid(z[c])
		if p < m.threshold[c] || st.ruleFound(lc.cat) {
			continue
		}
		m.explain(st, c, p)
	}
}

// ruleFound reports whether a rule has already reported cat as risky.
func (st *scanState) ruleFound(cat Category) bool {
	for _, f := range st.findings {
		if f.cat == cat && f.strength >= normal {
			return true
		}
	}
	return false
}

// explain reports category c at the (up to two) words that contributed most
// to its score, so staff see which wording the signal reacted to. It runs
// only when the signal fires, so it may allocate.
func (m *model) explain(st *scanState, c int, p float64) {
	contrib := make([]float64, len(st.toks))
	// Words are ranked by their own weight: word pairs would credit
	// "and" or "of" with the weight of the word beside them.
	for _, f := range st.feats {
		if f.tok >= 0 && !f.pair && st.toks[f.tok].flags&tfAlpha != 0 {
			contrib[f.tok] += float64(m.w[int(f.bucket)*nLearned+c]) * m.scale
		}
	}
	top := make([]int, 0, len(st.toks))
	for i, v := range contrib {
		if v > 0 {
			top = append(top, i)
		}
	}
	sort.SliceStable(top, func(a, b int) bool { return contrib[top[a]] > contrib[top[b]] })
	if len(top) > 2 {
		top = top[:2]
	}
	if len(top) == 0 {
		return
	}
	sort.Ints(top)
	lc := &learnedCategories[c]
	quote := func(i int) string { t := &st.toks[i]; return "'" + st.text[t.start:t.end] + "'" }
	words := quote(top[0])
	if len(top) == 2 {
		words += " and " + quote(top[1])
	}
	reason := fmt.Sprintf("A learned signal, not a rule: wording like %s is often %s in labelled examples (score %.2f).", words, lc.often, p)
	for _, i := range top {
		st.add(lc.cat, normal, int32(i), int32(i+1), reason, lc.suggestion)
	}
}

// encode writes the model: a magic line, the bucket bits, then per category
// its name, bias and threshold, then the weights' scale and the weights, all little-endian, gzipped.
func (m *model) encode() []byte {
	var raw bytes.Buffer
	raw.WriteString(modelMagic)
	raw.WriteByte(byte(bitsOf(m.mask)))
	raw.WriteByte(byte(nLearned))
	for c, lc := range learnedCategories {
		raw.WriteByte(byte(len(lc.cat)))
		raw.WriteString(string(lc.cat))
		binary.Write(&raw, binary.LittleEndian, m.bias[c])
		binary.Write(&raw, binary.LittleEndian, m.threshold[c])
	}
	binary.Write(&raw, binary.LittleEndian, m.scale)
	binary.Write(&raw, binary.LittleEndian, m.w)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(raw.Bytes())
	zw.Close()
	return gz.Bytes()
}

func bitsOf(mask uint32) int {
	n := 0
	for ; mask != 0; mask >>= 1 {
		n++
	}
	return n
}

func decodeModel(b []byte) (*model, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("learned model: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("learned model: %w", err)
	}
	r := bytes.NewReader(raw)
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != modelMagic {
		return nil, fmt.Errorf("learned model: not a model file")
	}
	bits, _ := r.ReadByte()
	n, _ := r.ReadByte()
	if bits == 0 || bits > 24 || int(n) != nLearned {
		return nil, fmt.Errorf("learned model: %d bits, %d categories (want %d)", bits, n, nLearned)
	}
	m := &model{mask: 1<<bits - 1}
	for c, lc := range learnedCategories {
		l, _ := r.ReadByte()
		name := make([]byte, l)
		io.ReadFull(r, name)
		if Category(name) != lc.cat {
			return nil, fmt.Errorf("learned model: category %d is %q, want %q", c, name, lc.cat)
		}
		if err := binary.Read(r, binary.LittleEndian, &m.bias[c]); err != nil {
			return nil, fmt.Errorf("learned model: %w", err)
		}
		if err := binary.Read(r, binary.LittleEndian, &m.threshold[c]); err != nil {
			return nil, fmt.Errorf("learned model: %w", err)
		}
	}
	if err := binary.Read(r, binary.LittleEndian, &m.scale); err != nil {
		return nil, fmt.Errorf("learned model: %w", err)
	}
	m.w = make([]int16, (1<<bits)*nLearned)
	if err := binary.Read(r, binary.LittleEndian, m.w); err != nil {
		return nil, fmt.Errorf("learned model: weights: %w", err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("learned model: %d bytes left over", r.Len())
	}
	return m, nil
}
