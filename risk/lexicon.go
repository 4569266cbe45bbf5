package risk

import (
	"bufio"
	"embed"
	"fmt"
	"strings"
)

// The word lists, one file per group. Each file starts with a comment saying
// where the list came from and what belongs in it.
//
//go:embed lexicon/*.txt
var lexiconFS embed.FS

// group is one word list; a token or phrase can belong to several. Rules in
// rules.go combine groups (an insult near a person, a violent verb near
// "I'll"), so the lists stay plain data.
type group uint8

const (
	gProfanity            group = iota // swearing, medium
	gProfanityStrong                   // the strongest swear words, high
	gProfanityMild                     // "bloody", "damn": low
	gInsult                            // insults that are abusive on their own
	gInsultWeak                        // words that insult only when aimed at people ("thick", "animals")
	gIntensifier                       // "complete", "absolute", "bunch of"
	gPersonTarget                      // pupils, residents, claimants, they, them…
	gColleague                         // my colleague, my manager…
	gEmployer                          // this council, head office, management…
	gContempt                          // clueless, useless, a joke, run by… (about the employer)
	gDisaffection                      // phrases that show disaffection on their own
	gSlur                              // slurs: discrimination on their own
	gProtected                         // protected groups named neutrally
	gDerogatory                        // derogatory generalisation cues
	gDiscriminationPhrase              // phrases that are discriminatory on their own
	gAbusePhrase                       // mocking phrases that are abusive on their own
	gThreatPhrase                      // threats on their own
	gViolent                           // violent verbs
	gIntent                            // "I'll", "someone needs to", "wish someone would"
	gSafeObject                        // "engine", "weeds": safe objects of violent verbs
	gMarking                           // protective markings
	gConfidentialPhrase                // internal only, embargoed, keep it quiet…
	gCredential                        // password, alarm code, key safe…
	gParty                             // political party names
	gPromo                             // promotional or evaluative words
	gCouncillor                        // Cllr, councillor, candidate, MP
	gControversial                     // controversial proposals (pre-election)
	gPoliticalPhrase                   // electioneering on its own ("vote for", "re-elect")
	gSafeguardPhrase                   // someone at risk on its own (self-harm, domestic abuse)
	gVulnerable                        // gran, elderly neighbour, child, baby…
	gAtRisk                            // hasn't answered, no heating, sleeping rough…
	gReassure                          // "is fine", "is safe": the opposite of at risk
	gHealthContext                     // NHS, patient, hospital number: weighs an NHS number
	gChildCue                          // pupil, little, year 6, patient: a person who must not be named
	gSensitive                         // nits, diagnosis, excluded, self-harm… about a named person
	gOrgContact                        // our switchboard, call us, helpline: the organisation's own contact point
	gPersonContact                     // his, her, mum, home, mobile: a private person's contact
	gDOBCue                            // DOB, date of birth, born
	gAddressCue                        // lives at, address, house
	gStreetType                        // road, street, close…
	gTitle                             // Mr, Mrs, Ms, Dr
	gVehicleCue                        // car, van, registration, parked
	gAllow                             // ordinary words and places with rude substrings: never flagged
	gPersonalPhrase                    // policy extra personal-data terms
	gOfficial                          // policy: public officials' names
	gWorkCue                           // rota, shift, cover, workload: swearing about them is disaffection
	gWeapon                            // petrol, knife, bullet: a threat when marked for someone
	gTargetMark                        // "with his name on it", "waiting for him"
	gPhotoContext                      // photographer, filming: "shoot" means taking pictures
	gHarm                              // hitting, beaten, touches, takes her pension: done to someone
	gHousehold                         // partner, stepdad, mum, carer: who does it or suffers it
	gKeyLocation                       // "key is under the mat": where a door key is hidden
	gGiftOffer                         // offering lifts, giving them vapes: how adults groom children
	gAdultMan                          // a man, a grown man, a stranger
	gPet                               // cat, dog, tortoise: an animal missing is not a person at risk
	gExploit                           // grooming, scams, forced work, fear of home: at risk when a vulnerable person is named
	gElectoral                         // register to vote, polling station: neutral election administration
	gCampaign                          // "the other lot", "keep … moving forward": campaigning without a party name
	gCommercial                        // sealed bids, tender prices, settlements: confidential with an amount
	gVeiledCue                         // "it'd be a shame if", "don't be surprised if": harm hinted, not stated
	gHarmEvent                         // "something happened to", "caught fire", "got hurt": what the hint is about
	gSurveilCue                        // "I know where", "I've seen your": telling someone they are watched
	gRoutine                           // live, park, finish, walk home, kids: what the watcher knows
	gAddressee                         // you, your, he, she, that officer: whom a threat is aimed at
	gGeneraliser                       // always, never, all, typical of, people like them: speaking of a whole group
	gTrait                             // faking, no idea, can't be trusted: negative only when generalised
	gDisciplinary                      // final written warning, under investigation: a named person's HR matter
	gLurk                              // "I'll be waiting outside", "I'll be outside": lying in wait, with a person after it
	gIncite                            // "let's all", "everyone", "rally at": calling others to act together
	gFate                              // "getting hurt", "put through", "go up in flames": harm that befalls someone
	gHush                              // "shh", "can't say much yet", "official announcement not until": news told before its time
	gDecision                          // closing, axed, merger, redundancies: a decision that would be news
	gAppearance                        // visited, opened, met, attended: a councillor's appearance, neutral on its own
	gSarcasm                           // "didn't think so", "says it all", "(not)": praise or calm that means its opposite
	gSpokenZero                        // "oh", "zero", "nought": how a phone number said aloud starts
	numGroups
)

var groupNames = [numGroups]string{
	"profanity", "profanity-strong", "profanity-mild", "insult", "insult-weak", "intensifier",
	"person-target", "colleague", "employer", "contempt", "disaffection", "slur", "protected",
	"derogatory", "discrimination-phrase", "abuse-phrase", "threat-phrase", "violent", "intent",
	"safe-object", "marking", "confidential-phrase", "credential", "party", "promo", "councillor",
	"controversial", "political-phrase", "safeguarding-phrase", "vulnerable", "at-risk", "reassure",
	"health-context", "child-cue", "sensitive", "org-contact", "person-contact", "dob-cue",
	"address-cue", "street-type", "title", "vehicle-cue", "allow", "personal-phrase", "official",
	"work-cue", "weapon", "target-mark", "photo-context", "harm", "household", "key-location", "gift-offer", "adult-man",
	"pet", "exploit", "electoral", "campaign", "commercial",
	"veiled-cue", "harm-event", "surveil-cue", "routine", "addressee", "generaliser", "trait", "disciplinary",
	"lurk", "incite", "fate", "hush", "decision", "appearance", "sarcasm", "spoken-zero",
}

// groupSet holds any of the groups: more of them than one machine word.
type groupSet [2]uint64

func setOf(gs ...group) groupSet {
	var s groupSet
	for _, g := range gs {
		s[g>>6] |= 1 << (g & 63)
	}
	return s
}

func (s groupSet) has(g group) bool          { return s[g>>6]&(1<<(g&63)) != 0 }
func (s groupSet) hasAny(o groupSet) bool    { return s[0]&o[0] != 0 || s[1]&o[1] != 0 }
func (s groupSet) union(o groupSet) groupSet { return groupSet{s[0] | o[0], s[1] | o[1]} }
func (s groupSet) minus(o groupSet) groupSet { return groupSet{s[0] &^ o[0], s[1] &^ o[1]} }
func (s groupSet) empty() bool               { return s[0]|s[1] == 0 }

// A groupSet holds 128 groups: this fails to compile past that.
var _ [128 - int(numGroups)]struct{}

// extraGroup is where a policy's extra terms for a category go: the group
// whose words count for that category on their own.
var extraGroup = map[Category]group{
	Abuse: gInsult, Discrimination: gSlur, Profanity: gProfanity, Threat: gThreatPhrase,
	PersonalData: gPersonalPhrase, Confidential: gConfidentialPhrase, Political: gPoliticalPhrase,
	Disaffection: gDisaffection, Safeguarding: gSafeguardPhrase,
}

// elem is one word of a lexicon entry.
type elem struct {
	word   string
	prefix bool // "fuck*": any word starting with fuck
	any    bool // "?": any one word
	num    bool // "<num>": any number
	caps   bool // "^SECRET": only in capitals, or as a heading ("Secret:")
	apos   bool // "'ill": only as typed with an apostrophe ("I'll", not "ill")
	not    bool // "!and" at the end: the next word must not be this one ("between us !and")
}

type entry struct {
	elems  []elem
	groups groupSet
}

// quickCheck is what match needs to know of an entry before trying it, kept
// small so the common cases need not read the entry: a single word with no
// marks (^, ') is a hit wherever the word is, and most phrases fail on their
// second or third word.
type quickCheck struct {
	single bool   // one word, no marks
	any1   bool   // the second word is ? or <num>
	w1, w2 uint16 // trie nodes of the second and third words when they are plain words, else 0
}

// plain: an element that is one exact word.
func (e elem) plain() bool { return !e.prefix && !e.any && !e.num && !e.not }

const alphabet = 36 // a-z then 0-9

// trieNode holds what ends at a node; the transitions live apart in
// lexicon.next, compact enough (uint16) to stay in cache while walking.
type trieNode struct {
	exact  []int32 // entries whose first word ends here
	prefix []int32 // entries whose first word is a prefix ending here
	allow  bool
}

// Node flags, kept apart from the nodes so the per-word checks touch one
// byte rather than the (larger, colder) node payload.
const (
	nfPrefix     uint8 = 1 << iota // the node has prefix entries
	nfPrefixPath                   // it or a node on the way to it has prefix entries
	nfFiller                       // this node's word is one of fillerWords
	nfNamed                        // the lexicon names this node's word (see lexicon.named)
	nfAllow                        // the word is on the allow list
)

// lexicon is the compiled word lists.
type lexicon struct {
	entries []entry
	nodes   []trieNode
	next    [][alphabet]uint16
	flags   []uint8
	// named maps each word the lexicon names, an entry's first, second or
	// third word or a filler, to its node while compiling. Only these
	// nodes are given to tokens, and words holds those of up to eight
	// bytes, most words met, so find can look them up in one probe rather
	// than walk the trie, whose loads each wait for the one before.
	named map[string]int32
	words wordTable
	// prefixStarts has a bit for the first three characters (prefixStart)
	// of every prefix entry's word: a word not in words whose bit is
	// clear has no prefix entry on its way and need not be walked.
	prefixStarts []uint64
	// firstIDs[firstOff[n]:firstOff[n+1]] are node n's exact entries that
	// are single words or phrases whose second word is a wildcard. Other
	// phrases are in pairs, keyed by their second word too, so a common
	// first word ("the") does not try every phrase it starts.
	firstOff []uint32
	firstIDs []int32
	// pairs holds the phrases filed under their first two words, keyed by
	// pairKey of the two words' nodes: a word is walked through the trie
	// once, and its node then serves for it as a first and a second word.
	pairs    pairTable
	quick    []quickCheck // by entry
	maskable []int32      // single-word entries worth matching against masked words
}

func pairKey(first, second int32) uint32 { return uint32(first)<<16 | uint32(second) }

// pairTable maps a pairKey to the phrases filed under it. It is an open
// addressing table rather than a map because it is asked for about every
// word and most answers are no, which here costs a probe or two.
type pairTable struct {
	keys  []uint32 // 0 marks an empty slot: no phrase starts at the root
	ids   [][]int32
	shift uint32
}

func newPairTable(m map[uint32][]int32) pairTable {
	bits := uint32(4)
	for 1<<bits < 2*len(m) {
		bits++
	}
	t := pairTable{keys: make([]uint32, 1<<bits), ids: make([][]int32, 1<<bits), shift: 32 - bits}
	for k, ids := range m {
		i := t.slot(k)
		for t.keys[i] != 0 {
			i = (i + 1) & uint32(len(t.keys)-1)
		}
		t.keys[i], t.ids[i] = k, ids
	}
	return t
}

func (t *pairTable) slot(k uint32) uint32 { return k * 0x9E3779B1 >> t.shift }

func (t *pairTable) get(k uint32) []int32 {
	for i := t.slot(k); ; i = (i + 1) & uint32(len(t.keys)-1) {
		switch t.keys[i] {
		case k:
			return t.ids[i]
		case 0:
			return nil
		}
	}
}

// wordTable maps words of up to eight bytes, packed into a uint64, to
// their nodes by open addressing.
type wordTable struct {
	keys  []uint64 // 0 marks an empty slot: words are never empty
	nodes []uint16
	shift uint64
}

// packWord packs a word of up to eight letters and digits; ok is false if
// it has another character.
func packWord(w []byte) (k uint64, ok bool) {
	for i, b := range w {
		if b-'a' >= 26 && b-'0' >= 10 {
			return 0, false
		}
		k |= uint64(b) << (8 * i)
	}
	return k, true
}

func newWordTable(named map[string]int32) wordTable {
	short := 0
	for w := range named {
		if len(w) <= 8 {
			short++
		}
	}
	bits := uint64(4)
	for 1<<bits < 2*short {
		bits++
	}
	t := wordTable{keys: make([]uint64, 1<<bits), nodes: make([]uint16, 1<<bits), shift: 64 - bits}
	for w, n := range named {
		if len(w) > 8 {
			continue
		}
		k, _ := packWord([]byte(w))
		i := t.slot(k)
		for t.keys[i] != 0 {
			i = (i + 1) & uint64(len(t.keys)-1)
		}
		t.keys[i], t.nodes[i] = k, uint16(n)
	}
	return t
}

func (t *wordTable) slot(k uint64) uint64 { return k * 0x9E3779B97F4A7C15 >> t.shift }

func (t *wordTable) get(k uint64) int32 {
	for i := t.slot(k); ; i = (i + 1) & uint64(len(t.keys)-1) {
		switch t.keys[i] {
		case k:
			return int32(t.nodes[i])
		case 0:
			return 0
		}
	}
}

// prefixStart numbers the first three characters of a word of letters and
// digits, a shorter word's missing ones counting as a 37th character.
func prefixStart(w []byte) int {
	c := [3]int{alphabet, alphabet, alphabet}
	for i := 0; i < 3 && i < len(w); i++ {
		c[i] = charIndex(w[i])
	}
	return (c[0]*(alphabet+1)+c[1])*(alphabet+1) + c[2]
}

func charIndex(b byte) int {
	switch {
	case b >= 'a' && b <= 'z':
		return int(b - 'a')
	case b >= '0' && b <= '9':
		return 26 + int(b-'0')
	}
	return -1
}

func compileLexicon(p *Policy) (*lexicon, error) {
	lx := &lexicon{nodes: make([]trieNode, 1, 8192), next: make([][alphabet]uint16, 1, 8192), named: map[string]int32{}}
	for g := group(0); g < numGroups; g++ {
		if g == gPersonalPhrase || g == gOfficial {
			continue
		}
		name := "lexicon/" + groupNames[g] + ".txt"
		f, err := lexiconFS.Open(name)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		sc := bufio.NewScanner(f)
		n := 0
		for sc.Scan() {
			n++
			line := sc.Text()
			if i := strings.Index(line, "#"); i >= 0 {
				line = line[:i]
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			if err := lx.add(line, g); err != nil {
				f.Close()
				return nil, fmt.Errorf("%s line %d: %w", name, n, err)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	if p != nil {
		for cat, terms := range p.Terms {
			g, ok := extraGroup[cat]
			if !ok {
				return nil, fmt.Errorf("policy terms: unknown category %q", cat)
			}
			for _, t := range terms {
				if err := lx.add(t, g); err != nil {
					return nil, fmt.Errorf("policy terms %s %q: %w", cat, t, err)
				}
			}
		}
		for _, name := range p.Allow.Officials {
			if err := lx.add(name, gOfficial); err != nil {
				return nil, fmt.Errorf("policy officials %q: %w", name, err)
			}
		}
	}
	// Second and third words and fillers get nodes of their own, so that
	// words met in text are compared by node.
	lx.quick = make([]quickCheck, len(lx.entries))
	for id, e := range lx.entries {
		q := &lx.quick[id]
		es := e.elems
		q.single = len(es) == 1 && !es[0].caps && !es[0].apos
		q.any1 = len(es) > 1 && (es[1].any || es[1].num)
		for k, w := range []*uint16{&q.w1, &q.w2} {
			if k+1 < len(es) && es[k+1].plain() {
				n, err := lx.walk(es[k+1].word)
				if err != nil {
					return nil, err
				}
				*w = uint16(n)
			}
		}
	}
	pairs := map[uint32][]int32{}
	lx.firstOff = make([]uint32, 1, len(lx.nodes)+1)
	for n, end := int32(0), int32(len(lx.nodes)); n < end; n++ {
		for _, id := range lx.nodes[n].exact {
			es := lx.entries[id].elems
			if len(es) == 1 || es[1].any || es[1].num || es[1].prefix || es[1].not {
				lx.firstIDs = append(lx.firstIDs, id)
				continue
			}
			second, err := lx.walk(es[1].word)
			if err != nil {
				return nil, err
			}
			k := pairKey(n, second)
			pairs[k] = append(pairs[k], id)
		}
		lx.firstOff = append(lx.firstOff, uint32(len(lx.firstIDs)))
	}
	lx.pairs = newPairTable(pairs)
	fillers := make([]int32, len(fillerWords))
	for i, w := range fillerWords {
		n, err := lx.walk(w)
		if err != nil {
			return nil, err
		}
		fillers[i] = n
	}
	lx.flags = make([]uint8, len(lx.nodes))
	for n := range lx.nodes {
		if len(lx.nodes[n].prefix) > 0 {
			lx.flags[n] |= nfPrefix | nfPrefixPath
		}
		// A node comes after its parent, whose flag is therefore final.
		for _, c := range lx.next[n] {
			if c != 0 {
				lx.flags[c] |= lx.flags[n] & nfPrefixPath
			}
		}
	}
	for _, n := range fillers {
		lx.flags[n] |= nfFiller
	}
	// Nodes made after the entries' (second and third words, fillers) have
	// no first entries.
	for len(lx.firstOff) <= len(lx.nodes) {
		lx.firstOff = append(lx.firstOff, uint32(len(lx.firstIDs)))
	}
	lx.prefixStarts = make([]uint64, ((alphabet+1)*(alphabet+1)*(alphabet+1)+63)/64)
	for w, n := range lx.named {
		lx.flags[n] |= nfNamed
		if lx.nodes[n].allow {
			lx.flags[n] |= nfAllow
		}
		if lx.flags[n]&nfPrefix == 0 {
			continue
		}
		// A prefix word shorter than three characters starts every
		// word that continues it, with any characters or none after it.
		k, span := prefixStart([]byte(w)), 1
		switch len(w) {
		case 1:
			k, span = k-alphabet*(alphabet+1)-alphabet, (alphabet+1)*(alphabet+1)
		case 2:
			k, span = k-alphabet, alphabet+1
		}
		for ; span > 0; k, span = k+1, span-1 {
			lx.prefixStarts[k/64] |= 1 << (k % 64)
		}
	}
	lx.words = newWordTable(lx.named)
	lx.named = nil
	for i, e := range lx.entries {
		if len(e.elems) == 1 && (e.groups.has(gProfanity) || e.groups.has(gProfanityStrong) || e.groups.has(gProfanityMild) || e.groups.has(gInsult) || e.groups.has(gSlur)) {
			lx.maskable = append(lx.maskable, int32(i))
		}
	}
	return lx, nil
}

// parseEntry splits a lexicon line into words the way the tokenizer splits
// text: lower case, apostrophes dropped, hyphens and spaces separate words.
func parseEntry(line string) ([]elem, error) {
	line = strings.NewReplacer("’", "'", "-", " ", "/", " ").Replace(strings.TrimSpace(line))
	var es []elem
	for _, f := range strings.Fields(line) {
		var e elem
		if strings.HasPrefix(f, "'") {
			e.apos = true
		}
		f = strings.ReplaceAll(f, "'", "")
		switch {
		case f == "?":
			e.any = true
		case f == "<num>":
			e.num = true
		case strings.HasPrefix(f, "!"):
			e.not = true
			e.word = strings.ToLower(f[1:])
			if e.word == "" {
				return nil, fmt.Errorf("empty word after !")
			}
		default:
			if strings.HasPrefix(f, "^") {
				e.caps = true
				f = f[1:]
			}
			if strings.HasSuffix(f, "*") {
				e.prefix = true
				f = f[:len(f)-1]
			}
			f = strings.ToLower(f)
			if f == "" {
				return nil, fmt.Errorf("empty word")
			}
			for i := 0; i < len(f); i++ {
				if charIndex(f[i]) < 0 {
					return nil, fmt.Errorf("word %q: only letters and digits are allowed", f)
				}
			}
			e.word = f
		}
		es = append(es, e)
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("empty entry")
	}
	if es[0].any || es[0].num || es[0].not {
		return nil, fmt.Errorf("an entry cannot start with ?, <num> or !word")
	}
	for i, e := range es {
		if e.not && i != len(es)-1 {
			return nil, fmt.Errorf("!word may only end an entry")
		}
	}
	if len(es) > 12 {
		return nil, fmt.Errorf("entry longer than 12 words")
	}
	return es, nil
}

func (lx *lexicon) add(line string, g group) error {
	es, err := parseEntry(line)
	if err != nil {
		return err
	}
	// The same entry in several lists is one entry in several groups.
	n, err := lx.walk(es[0].word)
	if err != nil {
		return err
	}
	list := &lx.nodes[n].exact
	if es[0].prefix {
		list = &lx.nodes[n].prefix
	}
	for _, id := range *list {
		if sameElems(lx.entries[id].elems, es) {
			lx.entries[id].groups = lx.entries[id].groups.union(setOf(g))
			return nil
		}
	}
	if g == gAllow && len(es) == 1 {
		lx.nodes[n].allow = true
	}
	lx.entries = append(lx.entries, entry{elems: es, groups: setOf(g)})
	*list = append(*list, int32(len(lx.entries)-1))
	return nil
}

func sameElems(a, b []elem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// walk returns the node for word, creating nodes on the way.
func (lx *lexicon) walk(word string) (int32, error) {
	n := int32(0)
	for i := 0; i < len(word); i++ {
		c := charIndex(word[i])
		next := int32(lx.next[n][c])
		if next == 0 {
			if len(lx.nodes) >= 1<<16 {
				return 0, fmt.Errorf("too many terms: the lexicon is limited to 65535 trie nodes")
			}
			lx.nodes = append(lx.nodes, trieNode{})
			lx.next = append(lx.next, [alphabet]uint16{})
			next = int32(len(lx.nodes) - 1)
			lx.next[n][c] = uint16(next)
		}
		n = next
	}
	lx.named[word] = n
	return n, nil
}

// hit is a lexicon entry found at tokens [a, b).
type hit struct {
	a, b   int32
	groups groupSet
}

// find returns word's node if the lexicon names the word, else 0, and
// whether prefix entries lie on its way through the trie, which lookup then
// collects. A word with a character outside the trie's alphabet (a '*')
// has neither.
func (lx *lexicon) find(word []byte) (int32, bool) {
	if len(word) <= 8 {
		if k, ok := packWord(word); ok {
			if n := lx.words.get(k); n != 0 {
				return n, lx.flags[n]&nfPrefixPath != 0
			}
			if k := prefixStart(word); lx.prefixStarts[k/64]&(1<<(k%64)) == 0 {
				return 0, false
			}
		}
	}
	n := int32(0)
	for _, b := range word {
		c := charIndex(b)
		if c < 0 {
			return 0, false
		}
		m := int32(lx.next[n][c])
		if m == 0 {
			return 0, lx.flags[n]&nfPrefixPath != 0
		}
		n = m
	}
	prefixes := lx.flags[n]&nfPrefixPath != 0
	if lx.flags[n]&nfNamed == 0 {
		n = 0
	}
	return n, prefixes
}

// lookup appends to dst every entry that starts with word, whose node and
// prefixes find reported, when the next word's node is next (0 for none):
// prefix entries along the way and exact entries at the end. An
// allow-listed word (Scunthorpe, cocktail) drops the prefix entries, so a
// rude prefix inside an ordinary word is never reported.
func (lx *lexicon) lookup(word []byte, n int32, prefixes bool, next int32, dst []int32) []int32 {
	mark := len(dst)
	if prefixes {
		p := int32(0)
		for i := 0; i < len(word); i++ {
			if p = int32(lx.next[p][charIndex(word[i])]); p == 0 {
				break
			}
			if lx.flags[p]&nfPrefix != 0 {
				dst = append(dst, lx.nodes[p].prefix...)
			}
		}
	}
	if n == 0 {
		return dst
	}
	if lx.flags[n]&nfAllow != 0 {
		dst = dst[:mark]
	}
	dst = append(dst, lx.firstIDs[lx.firstOff[n]:lx.firstOff[n+1]]...)
	return lx.lookupSecond(n, next, dst)
}

// lookupBytes is lookup for a word that is not a token's ("fuuuck"
// squeezed, "she" with its 's back).
func (lx *lexicon) lookupBytes(word []byte, next int32, dst []int32) []int32 {
	n, prefixes := lx.find(word)
	return lx.lookup(word, n, prefixes, next, dst)
}

// lookupSecond appends the phrases that start with the word at node first
// and whose second word is at node second.
func (lx *lexicon) lookupSecond(first, second int32, dst []int32) []int32 {
	if first == 0 || second == 0 {
		return dst
	}
	return append(dst, lx.pairs.get(pairKey(first, second))...)
}

// matchMasked compares a masked word ("f*ck", "s**t", "b*ll*cks") with the
// words worth masking; '*' stands for any one letter.
func (lx *lexicon) matchMasked(word []byte, dst []int32) []int32 {
	letters := 0
	for _, b := range word {
		if b != '*' {
			letters++
		}
	}
	if letters < 1 || (word[0] == '*' && letters < 2) {
		return dst
	}
	for _, id := range lx.maskable {
		e := &lx.entries[id].elems[0]
		w := e.word
		if e.prefix {
			if len(word) < len(w) {
				continue
			}
		} else if len(word) != len(w) {
			continue
		}
		ok := true
		for i := 0; i < len(w); i++ {
			if word[i] != '*' && word[i] != w[i] {
				ok = false
				break
			}
		}
		if ok {
			return append(dst, id)
		}
	}
	return dst
}
