package risk

type strength uint8

const (
	weak   strength = iota // reported as low: worth a look, not risky
	normal                 // reported at the category's policy severity
	strong                 // one step above the policy severity
)

// rawFinding is a finding before the policy sets its severity.
type rawFinding struct {
	cat        Category
	strength   strength
	start, end int
	reason     string
	suggestion string
}

// scan tokenizes, looks every word up, then applies the rules.
func (s *Screener) scan(st *scanState) {
	st.tokenize()
	s.match(st)
	s.refineHits(st)
	s.applyRules(st)
	s.threatShapes(st)
	s.groupClaims(st)
	s.hateThreats(st)
	s.personalData(st)
	s.leaks(st)
	s.campaigning(st)
	if st.opts.Context == Incoming {
		s.safeguardingSignals(st)
	}
	if s.learned != nil {
		s.learnedSignals(st)
	}
}

// match finds every lexicon entry in the token stream.
func (s *Screener) match(st *scanState) {
	lx := s.lex
	// Every word is walked through the trie once; phrases are then found
	// by the nodes of their first two words.
	for i := range st.toks {
		t := &st.toks[i]
		n, prefixes := lx.find(st.norm[t.ns:t.ne])
		t.node = uint16(n)
		if prefixes {
			t.flags |= tfPrefixes
		}
	}
	var cands [32]int32
	for i := range st.toks {
		t := &st.toks[i]
		if t.flags&tfAllDigits != 0 {
			continue
		}
		w := st.norm[t.ns:t.ne]
		var next *token
		nextNode := int32(0)
		if i+1 < len(st.toks) {
			next = &st.toks[i+1]
			nextNode = int32(next.node)
		}
		ids := cands[:0]
		if t.flags&tfMasked != 0 {
			ids = lx.matchMasked(w, ids)
		} else {
			ids = lx.lookup(w, int32(t.node), t.flags&tfPrefixes != 0, nextNode, ids)
			// The tokenizer cut a trailing 's ("she's" → "she", "what's"
			// → "what"); entries are written as people type without the
			// apostrophe ("shes fine", "get whats coming"), so look the
			// word, or the word after it, up again with the s.
			if t.flags&tfPossessive != 0 && len(w) < 32 {
				var pb [32]byte
				ids = lx.lookupBytes(append(append(pb[:0], w...), 's'), nextNode, ids)
			}
			if next != nil && i+2 < len(st.toks) && lx.filler(nextNode) {
				// "haven't REALLY got the foggiest": phrases are filed
				// under their second word, so look past the filler.
				ids = lx.lookupSecond(int32(t.node), int32(st.toks[i+2].node), ids)
			}
			if next != nil && next.flags&tfPossessive != 0 && next.ne-next.ns < 32 {
				var pb [32]byte
				ns, _ := lx.find(append(append(pb[:0], st.norm[next.ns:next.ne]...), 's'))
				ids = lx.lookupSecond(int32(t.node), ns, ids)
			}
			if len(ids) == 0 && hasRun(w, 3) {
				// "fuuuuck", "shiiiite": squeeze long runs to two letters,
				// then to one, and look again.
				st.buf = squeeze(st.buf[:0], w, 2)
				if ids = lx.lookupBytes(st.buf, nextNode, ids); len(ids) == 0 {
					st.buf = squeeze(st.buf[:0], w, 1)
					if ids = lx.lookupBytes(st.buf, nextNode, ids); len(ids) == 0 {
						ids = lx.stretchedSwear(w, st.buf, ids)
					}
				}
			}
		}
		for _, id := range ids {
			switch q := lx.quick[id]; {
			case q.single:
				g := lx.entries[id].groups
				st.hits = append(st.hits, hit{a: int32(i), b: int32(i + 1), groups: g})
				st.present = st.present.union(g)
			case lx.couldMatch(st, i, q):
				s.tryEntry(st, i, id)
			}
		}
	}
}

// couldMatch is false when an entry surely fails at token i because its
// second or third word, a plain word, is not the word there. It leaves to
// tryEntry everything else, including fillers and possessives, which can
// move or change the word compared.
func (lx *lexicon) couldMatch(st *scanState, i int, q quickCheck) bool {
	p := i + 1
	switch {
	case q.w1 != 0:
		if p >= len(st.toks) {
			return false
		}
		if t := &st.toks[p]; t.node != q.w1 {
			return t.flags&tfPossessive != 0 || lx.filler(int32(t.node))
		}
	case !q.any1:
		return true
	}
	p++
	if q.w2 == 0 {
		return true
	}
	if p >= len(st.toks) {
		return false
	}
	t := &st.toks[p]
	return t.node == q.w2 || t.flags&tfPossessive != 0 || lx.filler(int32(t.node))
}

// fillerWords: words people drop into a set phrase without changing it
// ("haven't got the foggiest", "you'll really regret it", "this place is
// such a joke"). Each has a lexicon node, so filler tests a token's node.
var fillerWords = [...]string{
	"got", "even", "really", "just", "so", "actually", "honestly", "ever", "still", "literally",
	"completely", "totally", "absolutely", "truly", "seriously", "proper", "such", "bloody", "flipping",
	"frigging", "effing", "right", "all", "very", "quite", "pretty", "definitely", "certainly", "genuinely",
}

// filler reports whether the word at node n is one of fillerWords.
func (lx *lexicon) filler(n int32) bool { return n != 0 && lx.flags[n]&nfFiller != 0 }

func hasRun(w []byte, n int) bool {
	run := 1
	for i := 1; i < len(w); i++ {
		if w[i] == w[i-1] {
			if run++; run >= n {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

// squeeze copies w into dst with runs longer than max cut to max.
func squeeze(dst, w []byte, max int) []byte {
	run := 0
	for i, b := range w {
		if i > 0 && b == w[i-1] {
			run++
		} else {
			run = 1
		}
		if run <= max {
			dst = append(dst, b)
		}
	}
	return dst
}

// tryEntry checks the rest of a phrase after its first word matched token i.
func (s *Screener) tryEntry(st *scanState, i int, id int32) {
	e := &s.lex.entries[id]
	heading := len(e.elems) > 1 && headingAt(st, i, i+len(e.elems))
	if e.elems[0].caps && !capsOK(st, i) && !heading {
		return
	}
	if e.elems[0].apos && st.toks[i].flags&tfApos == 0 {
		return
	}
	n := len(e.elems)
	if e.elems[n-1].not {
		// The excluded word may be missing (end of text); the hit stops
		// before it either way.
		n--
		if i+n < len(st.toks) && string(st.word(i+n)) == e.elems[n].word {
			return
		}
	}
	if n > 1 && i+n > len(st.toks) {
		return
	}
	skip := 0 // filler words passed over: "haven't GOT the foggiest"
	for k := 1; k < n; k++ {
		el := &e.elems[k]
		if i+k+skip >= len(st.toks) {
			return
		}
		t := &st.toks[i+k+skip]
		if skip == 0 && !el.any && !el.num && i+k+1 < len(st.toks) && s.lex.filler(int32(t.node)) &&
			string(st.norm[t.ns:t.ne]) != el.word && t.sent == st.toks[i].sent {
			// One filler inside a phrase does not change what it says.
			skip = 1
			t = &st.toks[i+k+skip]
		}
		switch {
		case el.any:
		case el.num:
			if t.flags&tfAllDigits == 0 {
				return
			}
		default:
			w := st.norm[t.ns:t.ne]
			if el.prefix {
				if len(w) < len(el.word) || string(w[:len(el.word)]) != el.word {
					return
				}
			} else if string(w) != el.word && !possessiveOf(t, w, el.word) {
				return
			}
			if el.caps && !capsOK(st, i+k+skip) && !heading {
				return
			}
			if el.apos && t.flags&tfApos == 0 {
				return
			}
		}
	}
	st.hits = append(st.hits, hit{a: int32(i), b: int32(i + n + skip), groups: e.groups})
	st.present = st.present.union(e.groups)
}

// capsOK: a marking word counts in capitals ("SECRET") or as a heading
// ("Secret: …"), not as an ordinary word ("the secret to good gritting").
func capsOK(st *scanState, i int) bool {
	f := st.toks[i].flags
	return f&tfAllCaps != 0 || (f&tfSentStart != 0 && f&tfColonAfter != 0)
}

// headingAt: tokens [a, b) open a sentence and end with a colon, as a
// marking written as a heading does ("Staff only: …").
func headingAt(st *scanState, a, b int) bool {
	return b <= len(st.toks) && st.toks[a].flags&tfSentStart != 0 && st.toks[b-1].flags&tfColonAfter != 0 && st.toks[b-1].sent == st.toks[a].sent
}

func (st *scanState) has(g group) bool { return st.present.has(g) }

func (st *scanState) add(cat Category, str strength, a, b int32, reason, suggestion string) {
	st.findings = append(st.findings, rawFinding{
		cat: cat, strength: str,
		start: int(st.toks[a].start), end: int(st.toks[b-1].end),
		reason: reason, suggestion: suggestion,
	})
}

// addSpan reports the span from the earlier to the later of two hits.
func (st *scanState) addSpan(cat Category, str strength, h1, h2 hit, reason, suggestion string) {
	a, b := min(h1.a, h2.a), max(h1.b, h2.b)
	st.add(cat, str, a, b, reason, suggestion)
}

// near returns a hit in group g within window words of h and in the same
// sentence, before or after it as dir says (-1 before, 1 after, 0 either).
func (st *scanState) near(h hit, g group, window int32, dir int, sameSentence bool) (hit, bool) {
	if !st.has(g) {
		return hit{}, false
	}
	for _, o := range st.hits {
		if !o.groups.has(g) || (o.a == h.a && o.b == h.b) {
			continue
		}
		if sameSentence && st.toks[o.a].sent != st.toks[h.a].sent && st.toks[o.b-1].sent != st.toks[h.b-1].sent {
			continue
		}
		var gap int32
		switch {
		case o.b <= h.a:
			if dir > 0 {
				continue
			}
			gap = h.a - o.b
		case o.a >= h.b:
			if dir < 0 {
				continue
			}
			gap = o.a - h.b
		default:
			gap = 0 // overlapping
		}
		if gap <= window {
			return o, true
		}
	}
	return hit{}, false
}

var (
	// Party politics and staff disaffection are publishing risks: a
	// resident writing in may say what they like about parties or the
	// council.
	outgoingOnly = setOf(gWorkCue, gParty, gPoliticalPhrase, gDisaffection, gEmployer, gColleague, gCouncillor, gOfficial, gControversial, gSarcasm)
	// Most hits are partners ("you", "always", "kids"): only the rules'
	// own trigger groups need the checks in applyRules.
	partners = setOf(gAddressee, gRoutine, gGeneraliser, gTrait, gHarmEvent, gIntensifier, gPersonTarget,
		gVulnerable, gHousehold, gContempt, gDerogatory, gIntent, gSafeObject, gTargetMark, gReassure,
		gPhotoContext, gStreetType, gTitle, gHush, gDecision, gAppearance, gSpokenZero)
)

// applyRules turns lexicon hits into findings. Each rule is a group on its
// own or two groups near each other; the reasons are written for the person
// about to post.
func (s *Screener) applyRules(st *scanState) {
	if st.present.empty() {
		return
	}
	incoming := st.opts.Context == Incoming
	for _, h := range st.hits {
		g := h.groups
		if incoming {
			g = g.minus(outgoingOnly)
			h.groups = g
		}
		if g.minus(partners).empty() {
			continue
		}
		if g.has(gProfanityStrong) {
			st.add(Profanity, strong, h.a, h.b, "Strong swearing, even disguised, is never acceptable from an official account.", "Remove the word.")
		} else if g.has(gProfanity) && !(h.b == h.a+1 && st.isName(int(h.a)) && int(h.b) < len(st.toks) && st.isName(int(h.b))) {
			// (A rude word that is part of a name — "Dick Whittington" —
			// is skipped.)
			st.add(Profanity, normal, h.a, h.b, "Swearing, including disguised spellings, reads as unprofessional and offends some readers.", "Remove the word or rephrase.")
		} else if g.has(gProfanityMild) && st.swearingIntensifier(h) {
			st.add(Profanity, normal, h.a, h.b, "Swearing (\"bloody\" as an intensifier) reads as unprofessional and offends some readers.", "Remove the word or rephrase.")
		} else if g.has(gProfanityMild) {
			st.add(Profanity, weak, h.a, h.b, "Mild swearing: fine in conversation, but check the tone for an official post.", "Consider a plainer word.")
		}
		if g.has(gInsult) || g.has(gInsultWeak) {
			s.insultRule(st, h)
		}
		if g.has(gAbusePhrase) {
			st.add(Abuse, normal, h.a, h.b, "Mocks or demeans the people we serve or work with.", "Remove it; describe the situation, not the people.")
		}
		if g.has(gSlur) {
			if st.mentioned(h) {
				// "the word 'retard' is banned": named, not used.
				st.add(Discrimination, weak, h.a, h.b, "Names a slur: make sure it is quoted only to condemn it.", "Consider describing the word instead of printing it.")
			} else {
				st.add(Discrimination, strong, h.a, h.b, "A slur against a protected group.", "Remove the word.")
			}
		}
		if g.has(gDiscriminationPhrase) {
			st.add(Discrimination, normal, h.a, h.b, "A derogatory generalisation about a protected group.", "Remove it; talk about the service, not who uses it.")
		}
		if g.has(gProtected) && !st.mentioned(h) {
			if o, ok := st.near(h, gDerogatory, 12, 0, true); ok && !st.roleNoun(h) && !st.mentioned(o) {
				st.addSpan(Discrimination, normal, h, o, "Generalises negatively about a protected group (race, religion, disability, sex, sexual orientation, gender identity or age).", "Remove the generalisation; describe individual behaviour or the service only.")
			} else if o, ok := st.stereotype(h); ok {
				st.addSpan(Discrimination, normal, h, o, "A stereotype: says a whole protected group (race, religion, disability, sex, sexual orientation, gender identity or age) behaves badly.", "Remove the generalisation; describe individual behaviour or the service only.")
			}
		}
		if g.has(gVeiledCue) {
			// "it'd be a shame if something happened to your van": harm
			// hinted at as a possibility is still a threat.
			if o, ok := st.near(h, gHarmEvent, 10, 1, true); ok {
				st.addSpan(Threat, normal, h, o, "A veiled threat: hints that harm could come to someone or their property.", "Remove it; if it came from a resident, follow the threats procedure.")
			}
		}
		if g.has(gSurveilCue) {
			s.surveilRule(st, h)
		}
		if g.has(gLurk) {
			s.lurkRule(st, h)
		}
		if g.has(gDisciplinary) && !incoming {
			s.disciplinaryRule(st, h)
		}
		if g.has(gThreatPhrase) && !st.safeThreatObject(h) {
			st.add(Threat, normal, h.a, h.b, "Reads as a threat of violence or harm.", "Remove it; if it came from a resident, follow the threats procedure.")
		}
		if g.has(gViolent) {
			if !st.violentSafe(h) {
				if o, ok := st.near(h, gIntent, 8, -1, true); ok {
					st.addSpan(Threat, normal, o, h, "States an intention or wish to do violence or damage.", "Remove it; if it came from a resident, follow the threats procedure.")
				}
			}
		}
		if g.has(gWeapon) {
			if o, ok := st.near(h, gTargetMark, 12, 0, true); ok {
				st.addSpan(Threat, normal, h, o, "Names a weapon or the means of arson as meant for someone.", "Remove it; if it came from a resident, follow the threats procedure.")
			}
		}
		if g.has(gMarking) && !st.confidentialityPromise(h) {
			st.add(Confidential, normal, h.a, h.b, "A protective marking: this material is not for publication.", "Do not post it; check with the information owner.")
		}
		if g.has(gConfidentialPhrase) {
			st.add(Confidential, normal, h.a, h.b, "Internal, embargoed or unannounced material.", "Wait until it is formally published, then link to that.")
		}
		if g.has(gKeyLocation) && !st.advisedAgainst(h) {
			st.add(Confidential, normal, h.a, h.b, "Says where a door key is hidden: anyone reading it could get in.", "Remove it; share access arrangements privately.")
		}
		if g.has(gCredential) {
			s.credentialRule(st, h)
		}
		if g.has(gPoliticalPhrase) {
			st.add(Political, normal, h.a, h.b, "Electioneering: an official account must not ask people to vote for anyone.", "Remove it; official accounts stay politically neutral.")
		}
		if g.has(gParty) {
			if o, ok := st.near(h, gPromo, 10, 0, true); ok {
				st.addSpan(Political, normal, h, o, "Promotes or attacks a political party; official accounts must be politically neutral.", "Remove the party reference; describe the council's decision instead.")
			} else {
				st.add(Political, weak, h.a, h.b, "Names a political party: make sure the post is neutral.", "Refer to the council's decision rather than a party.")
			}
		}
		if st.preElection {
			s.preElectionRule(st, h)
		}
		if !incoming && (g.has(gProfanity) || g.has(gProfanityStrong)) {
			// Swearing about the rota, the shift or the workload is
			// contempt for the job, not just bad language.
			if o, ok := st.near(h, gWorkCue, 14, 0, true); ok {
				st.addSpan(Disaffection, normal, h, o, "Swears about the job or the workload in public.", "Keep it off official and public channels; talk to your manager instead.")
			}
		}
		if g.has(gDisaffection) {
			st.add(Disaffection, normal, h.a, h.b, "Broadcasts contempt for the job or employer, or lack of motivation.", "Keep it off official and public channels; talk to your manager instead.")
		}
		if g.has(gWorkCue) && !g.has(gEmployer) && !g.has(gColleague) {
			// "another restructure, same useless people", "a meeting
			// nobody reads the notes of": contempt for the work itself.
			if o, ok := st.near(h, gContempt, 10, 0, true); ok && !o.groups.has(gWorkCue) {
				st.addSpan(Disaffection, normal, h, o, "Shows contempt for the job or the organisation in public.", "Raise it internally instead of posting it.")
			}
		}
		if g.has(gSarcasm) && st.present.hasAny(workContext) {
			// "Another email from the top telling us how valued we are.
			// Didn't think so.": the sarcasm may close the post, a
			// sentence away from the employer it is aimed at.
			st.add(Disaffection, normal, h.a, h.b, "Sarcasm about the employer or the job in public.", "Raise it internally instead of posting it.")
		}
		if g.has(gEmployer) || g.has(gColleague) {
			if o, ok := st.near(h, gContempt, 8, 0, true); ok {
				st.addSpan(Disaffection, normal, h, o, "Shows contempt for the employer or colleagues in public.", "Raise it internally instead of posting it.")
			}
		}
		if incoming {
			s.safeguardingRule(st, h)
		}
		if g.has(gPersonalPhrase) {
			st.add(PersonalData, normal, h.a, h.b, "Matches a term the organisation treats as personal data.", "Remove it.")
		}
	}
}

// workContext: words that put a post in the workplace — the employer,
// colleagues, the job itself.
var workContext = setOf(gEmployer, gColleague, gWorkCue)

// safeThreatObject: a threat phrase followed at once by a harmless object
// ("set fire to the leaves") is not a threat; "it" is too vague to clear
// "you're going to regret it".
func (st *scanState) safeThreatObject(h hit) bool {
	if _, photo := st.near(h, gPhotoContext, 12, 0, true); photo {
		return true // "the photographer will shoot the new pool"
	}
	// A report of what happens, not a threat: "no wonder the bins get
	// torched".
	for k := h.a - 1; k >= 0 && k >= h.a-4 && st.toks[k].sent == st.toks[h.a].sent; k-- {
		if string(st.word(int(k))) == "wonder" && k > 0 && string(st.word(int(k-1))) == "no" {
			return true
		}
	}
	// Negated just before: "she doesn't know where she lives".
	if h.a > 0 {
		switch string(st.word(int(h.a) - 1)) {
		case "doesnt", "dont", "didnt", "cant", "never":
			return true
		}
	}
	// A word inside the phrase that negates it: "hope no one gets hurt".
	for k := h.a; k < h.b; k++ {
		switch string(st.word(int(k))) {
		case "no", "nobody", "noone", "none", "not":
			return true
		}
	}
	// Only an object after the phrase clears it: "home" inside "going
	// home in a box" is part of the threat.
	// "…what happens to your application": the object may follow "to".
	at := h.b
	if int(at) < len(st.toks) && string(st.word(int(at))) == "to" {
		at++
	}
	for _, o := range st.hits {
		if (o.a == h.b || o.a == at) && o.groups.has(gSafeObject) && st.toks[o.a].sent == st.toks[h.a].sent {
			return !(o.b == o.a+1 && string(st.word(int(o.a))) == "it")
		}
	}
	return false
}

func (s *Screener) insultRule(st *scanState, h hit) {
	// "a bastard of a shift", "a bitch of a job": about the thing, not a person.
	if int(h.b)+1 < len(st.toks) && string(st.word(int(h.b))) == "of" {
		if w := string(st.word(int(h.b) + 1)); w == "a" || w == "an" {
			// …unless a person follows: "a muppet of a resident".
			if _, person := st.near(hit{a: h.b + 2, b: h.b + 2}, gPersonTarget, 0, 1, true); !person {
				return
			}
		}
	}
	if st.mentioned(h) {
		return // "her neighbour called her a scrounger": reported, not said
	}
	strongWord := h.groups.has(gInsult)
	if !strongWord {
		// "dyslexic staff are just lazy": a generalisation about a
		// protected group, which the discrimination rule explains.
		if p, ok := st.near(h, gProtected, 6, -1, true); ok && st.has(gDerogatory) && !st.roleNoun(p) {
			return
		}
		_, intens := st.near(h, gIntensifier, 1, -1, true)
		// aimed at people: "these kids are animals", "lazy residents"
		t, target := st.near(h, gPersonTarget, 8, -1, true)
		if !target {
			t, target = st.near(h, gAddressee, 8, -1, true)
		}
		// "your website is useless": a possessive names whose thing it
		// is, so a person must follow it ("your binmen are useless").
		target = target && !st.possessesThing(t)
		// Said OF them ("they are vermin", "residents of Fell Road are
		// parasites"), not something beside them ("they attract vermin").
		target = target && st.predicates(t, h)
		if !target {
			_, target = st.near(h, gPersonTarget, 1, 1, true)
		}
		_, coll := st.near(h, gColleague, 8, 0, true)
		if !intens && !target && !coll {
			return
		}
	}
	if o, ok := st.near(h, gColleague, 8, 0, true); ok {
		if o.groups.has(gEmployer) {
			// "management are clueless": the employer as a body, not
			// a person, so contempt rather than a personal insult.
			st.add(Disaffection, normal, h.a, h.b, "Insults the employer in public.", "Raise it internally instead of posting it.")
			return
		}
		st.add(Abuse, normal, h.a, h.b, "Insults a colleague in public.", "Remove it; raise problems with colleagues privately.")
		st.add(Disaffection, normal, h.a, h.b, "Shows contempt for colleagues in public.", "Raise it internally instead of posting it.")
		return
	}
	// "useless lot at head office", "muppets upstairs": the employer
	// named before or after the insult.
	if _, ok := st.near(h, gEmployer, 6, 0, true); ok {
		if _, person := st.near(h, gPersonTarget, 6, 0, true); !person {
			st.add(Disaffection, normal, h.a, h.b, "Insults the employer in public.", "Raise it internally instead of posting it.")
			return
		}
	}
	st.add(Abuse, normal, h.a, h.b, "Insulting or demeaning language about people.", "Remove it; describe the situation, not the people.")
}

// credentialRule: a password or access code word is only risky with a value
// beside it — a word with digits, or whatever follows "is" or ":".
func (s *Screener) credentialRule(st *scanState, h hit) {
	for j := h.b; j < int32(len(st.toks)) && j < h.b+8; j++ {
		t := st.toks[j]
		if t.sent != st.toks[h.b-1].sent && st.toks[j-1].flags&tfColonAfter == 0 {
			break
		}
		if st.phoneNumberAt(int(j)) {
			break // "key safe fitting is free, call 0300 123 4000"
		}
		if t.flags&tfDigit != 0 && !isQuantity(st, int(j)) {
			st.add(Confidential, strong, h.a, j+1, "A password, login or access code: anyone reading it could get in.", "Remove the code and change it now that it has been shared.")
			return
		}
	}
	// "password is admin", "login: admin"
	j := h.b
	if j < int32(len(st.toks)) && (string(st.word(int(j))) == "is" || string(st.word(int(j))) == "are") {
		j++
	} else if st.toks[h.b-1].flags&tfColonAfter == 0 {
		return
	}
	if j < int32(len(st.toks)) && st.toks[j].sent == st.toks[h.a].sent && !isFunctionWord(st.word(int(j))) {
		st.add(Confidential, strong, h.a, j+1, "A password, login or access code: anyone reading it could get in.", "Remove the code and change it now that it has been shared.")
	}
}

// phoneNumberAt: the digits from token j on make a telephone number ("call
// 0300 123 4000" after "key safe installation"), not a code.
func (st *scanState) phoneNumberAt(j int) bool {
	if t := st.toks[j]; t.flags&tfAllDigits == 0 || (st.text[t.start] != '0' && (t.start == 0 || st.text[t.start-1] != '+')) {
		return false
	}
	n := 0
	for k := j; k < len(st.toks) && st.toks[k].flags&tfAllDigits != 0; k++ {
		n += int(st.toks[k].ne - st.toks[k].ns)
	}
	return n >= 10
}

// confidentialityPromise: "treated in confidence", "kept strictly
// confidential" promise privacy to the reader; they mark nothing.
func (st *scanState) confidentialityPromise(h hit) bool {
	for k := h.a - 1; k >= 0 && k >= h.a-3 && st.toks[k].sent == st.toks[h.a].sent; k-- {
		switch string(st.word(int(k))) {
		case "treated", "treat", "kept", "keep", "held", "handled", "dealt", "remain", "remains", "stay", "stays":
			return true
		}
	}
	return false
}

// isQuantity: a number in a rule about the code, not the code itself
// ("every 90 days", "at least 8 characters").
func isQuantity(st *scanState, j int) bool {
	// A time of day: "went off at 3am", "at 10 pm".
	if w := st.word(j); len(w) > 2 && (string(w[len(w)-2:]) == "am" || string(w[len(w)-2:]) == "pm") {
		return true
	}
	if j+1 < len(st.toks) {
		switch string(st.word(j + 1)) {
		case "days", "day", "characters", "character", "chars", "digits", "digit", "letters", "hours", "minutes",
			"months", "weeks", "times", "attempts", "tries", "numbers", "symbols", "or", "to", "am", "pm", "oclock":
			return true
		}
	}
	if j > 0 {
		switch string(st.word(j - 1)) {
		case "every", "least", "than", "after", "within", "first", "last", "minimum", "maximum", "max", "min":
			return true
		}
	}
	return false
}

// isFunctionWord: words that follow "password is" in harmless sentences
// ("your password is not needed", "the code is on the letter").
func isFunctionWord(w []byte) bool {
	switch string(w) {
	case "a", "an", "the", "your", "not", "on", "in", "at", "required", "needed", "sent", "now",
		"available", "case", "sensitive", "changed", "reset", "expired", "different", "private",
		"secret", "safe", "secure", "valid", "correct", "wrong", "incorrect", "shown", "printed", "below", "above",
		"free", "open", "down", "off", "back", "working", "broken", "slow", "out", "up", "fixed", "unlimited", "easy", "quick", "my", "our", "their", "his", "her", "this", "that", "it", "no", "being", "still", "also", "only":
		return true
	}
	return false
}

// preElectionRule: in the pre-election period, naming and praising a
// councillor or candidate, or promoting a controversial proposal, is
// publicity the rules forbid.
func (s *Screener) preElectionRule(st *scanState, h hit) {
	g := h.groups
	named := false
	if g.has(gCouncillor) {
		// "Cllr Amy Fox", "Candidate for Westgate, Tim Hale": a name
		// within a few words after the title.
		for k := int(h.b); k < len(st.toks) && k < int(h.b)+4 && st.toks[k].sent == st.toks[h.a].sent; k++ {
			if st.toks[k].flags&tfCap != 0 && st.toks[k].flags&tfAllCaps == 0 && !isCommonCapital(st.word(k)) {
				named = true
				h.b = int32(k + 1)
				if k+1 < len(st.toks) && st.isName(k+1) {
					h.b++
				}
				break
			}
		}
	}
	if g.has(gOfficial) {
		named = true
	}
	if named && st.resultsNotice() {
		// Nominations and results must name candidates.
		st.add(Political, weak, h.a, h.b, "Pre-election period: a named candidate in an election notice; keep it factual.", "Stick to the official wording of the notice.")
		return
	}
	if named {
		if o, ok := st.near(h, gPromo, 12, 0, true); ok {
			st.addSpan(Political, normal, h, o, "Pre-election period: publicity that features or praises a named councillor or candidate.", "Remove the name or hold the post until after the election.")
		} else if o, ok := st.near(h, gPoliticalPhrase, 12, 0, true); ok {
			st.addSpan(Political, normal, h, o, "Pre-election period: publicity that features a named councillor or candidate.", "Remove the name or hold the post until after the election.")
		} else if m := st.meetBefore(h, 6); m >= 0 {
			// "pop along to meet candidate Leon Walsh": an invitation
			// to meet a candidate is campaigning.
			st.add(Political, normal, m, h.b, "Pre-election period: invites people to meet a named candidate or councillor.", "Remove the invitation or hold the post until after the election.")
		} else if st.publicityFor() {
			st.add(Political, normal, h.a, h.b, "Pre-election period: publicity that features a named councillor or candidate.", "Remove the name or hold the post until after the election.")
		} else if o, ok := st.near(h, gAppearance, 8, 1, true); ok && st.campaignFigure() {
			// A councillor visiting or opening something is a fact worth
			// reporting; the council's leader or cabinet, or a candidate,
			// shown opening things before the poll is credit for one side.
			st.addSpan(Political, normal, h, o, "Pre-election period: publicity for the council's political leadership or a candidate at an event.", "Attribute the work to the council, or hold the post until after the election.")
		} else {
			st.add(Political, weak, h.a, h.b, "Pre-election period: take care when naming councillors or candidates.", "Attribute decisions to the council, not to individuals.")
		}
	}
	if g.has(gControversial) {
		if o, ok := st.near(h, gPromo, 10, 0, true); ok {
			st.addSpan(Political, normal, h, o, "Pre-election period: promotes or attacks a controversial proposal.", "Stick to factual service information until after the election.")
		}
	}
}

// campaignFigure: the post names a candidate or a member of the political
// executive (the leader, a cabinet member, a portfolio holder), whose
// appearances before an election credit the governing group.
func (st *scanState) campaignFigure() bool {
	for _, o := range st.hits {
		if !o.groups.has(gCouncillor) {
			continue
		}
		for k := o.a; k < o.b; k++ {
			switch string(st.word(int(k))) {
			case "candidate", "candidates", "leader", "cabinet", "portfolio", "executive", "lead":
				return true
			}
		}
	}
	return false
}

// safeguardingRule: incoming messages that suggest someone is at risk are
// flagged for urgent escalation, never blocked.
func (s *Screener) safeguardingRule(st *scanState, h hit) {
	const sug = sugEscalate
	if st.aboutAnimal(h) {
		return // "our cat hasn't come home"
	}
	if h.groups.has(gSafeguardPhrase) {
		st.add(Safeguarding, normal, h.a, h.b, "Suggests someone may be at risk of harm.", sug)
		return
	}
	if h.groups.has(gHarm) {
		// "my step-dad keeps hitting my mum": harm with a family member,
		// partner or vulnerable person in the same sentence.
		o, ok := st.near(h, gHousehold, 12, 0, true)
		if !ok {
			o, ok = st.near(h, gVulnerable, 12, 0, true)
		}
		if ok {
			st.addSpan(Safeguarding, normal, o, h, "Reports someone being hurt or abused by a person close to them.", sug)
			return
		}
	}
	if h.groups.has(gGiftOffer) {
		// "a man keeps offering lifts to girls", "a teacher at my
		// daughter's school keeps giving her lifts": an adult named before
		// the offer and a child beside it.
		if m, ok := st.near(h, gAdultMan, 8, -1, true); ok {
			if c, ok := st.near(h, gVulnerable, 6, 0, true); ok {
				st.addSpan(Safeguarding, normal, m, c, "An adult offering children lifts or gifts: a possible grooming concern.", sug)
				return
			}
		}
	}
	if h.groups.has(gAtRisk) {
		if _, ok := st.near(h, gReassure, 6, 0, true); ok {
			return
		}
		if o, ok := st.near(h, gVulnerable, 16, 0, false); ok {
			st.addSpan(Safeguarding, normal, o, h, "A vulnerable person may be at risk (no contact, no care, no heat or shelter).", sug)
		}
	}
}

// possessiveOf: the tokenizer drops a possessive 's ("day's" → "day"), so
// "day's work" matches an entry written "days work".
func possessiveOf(t *token, w []byte, word string) bool {
	return t.flags&tfPossessive != 0 && len(word) == len(w)+1 && word[len(w)] == 's' && word[:len(w)] == string(w)
}

// advisedAgainst: advice not to do the thing ("never leave a key under the
// mat", "don't hide your key under…") in the few words before it.
func (st *scanState) advisedAgainst(h hit) bool {
	for k := h.a - 1; k >= 0 && k >= h.a-4 && st.toks[k].sent == st.toks[h.a].sent; k-- {
		switch string(st.word(int(k))) {
		case "never", "dont", "not", "avoid", "no", "stop":
			return true
		}
	}
	return false
}

// meetBefore returns the token index of "meet" within w words before h in
// the same sentence, or -1.
func (st *scanState) meetBefore(h hit, w int32) int32 {
	for k := h.a - 1; k >= 0 && k >= h.a-w && st.toks[k].sent == st.toks[h.a].sent; k-- {
		if string(st.word(int(k))) == "meet" {
			return k
		}
	}
	return -1
}

// stereotype: a protected group, a word that speaks of all of them
// ("always", "typical of", "they're all the same") and a negative trait
// ("faking it", "no idea", "can't be trusted") in one sentence. Each alone
// is ordinary; together they say the whole group behaves badly.
func (st *scanState) stereotype(h hit) (hit, bool) {
	if !st.has(gGeneraliser) || !(st.has(gTrait) || st.has(gInsultWeak)) || st.roleNoun(h) {
		return hit{}, false
	}
	// The generalising word may be part of the group ("anyone over 60",
	// "people like them"), but the trait must be a phrase of its own:
	// "don't speak English" names a group rather than saying it lacks
	// something, and "never pay" needs another word that makes it about
	// all of them.
	for _, gen := range st.hits {
		if !gen.groups.has(gGeneraliser) || st.toks[gen.a].sent != st.toks[h.a].sent {
			continue
		}
		if gap := max(gen.a-h.b, h.a-gen.b); gap > 10 {
			continue
		}
		for _, g := range [...]group{gTrait, gInsultWeak} {
			// An insult said of the whole group is a trait too.
			if o, ok := st.apart(h, g, 12, gen); ok {
				return o, true
			}
		}
	}
	return hit{}, false
}

// apart returns a hit in group g in h's sentence, within window words of
// it, that overlaps neither h nor other.
func (st *scanState) apart(h hit, g group, window int32, other hit) (hit, bool) {
	for _, o := range st.hits {
		if !o.groups.has(g) || o.a < h.b && h.a < o.b || o.a < other.b && other.a < o.b {
			continue
		}
		if st.toks[o.a].sent != st.toks[h.a].sent {
			continue
		}
		if gap := max(o.a-h.b, h.a-o.b); gap <= window {
			return o, true
		}
	}
	return hit{}, false
}

// surveilRule: "I know where you live", "I've seen your kids at the
// primary": telling someone, or someone's staff, that their routine is known
// is intimidation. The watcher's cue must be followed by the person (you,
// your, he, that officer) and by what is known about them (where they live,
// park, finish, their children), so "I know where the fly-tippers park" is
// a report, not a threat.
func (s *Screener) surveilRule(st *scanState, h hit) {
	if _, ok := st.near(h, gAddressee, 4, 1, true); !ok {
		// "your home address isn't hard to find": what is known,
		// and whose it is, named first.
		if o, ok := st.near(h, gRoutine, 3, -1, true); ok && o.a > 0 && st.inGroup(int(o.a)-1, gAddressee) {
			st.addSpan(Threat, normal, o, h, "Intimidation: tells someone their home, routine or family can be found.", sugThreat)
		}
		return
	}
	if o, ok := st.near(h, gRoutine, 8, 1, true); ok {
		st.addSpan(Threat, normal, h, o, "Intimidation: tells someone their home, routine or family is being watched.", "Remove it; if it came from a resident, follow the threats procedure.")
	}
}

// disciplinaryRule: a member of staff named (or pointed at) beside their
// disciplinary, investigation or sickness matter is a confidential HR
// detail, whether or not anything is marked. A policy about such matters
// ("our disciplinary procedure") names no one.
func (s *Screener) disciplinaryRule(st *scanState, h hit) {
	named := false
	for i := max(0, int(h.a)-10); i < len(st.toks) && i < int(h.b)+10 && !named; i++ {
		// "Dave from highways got a final warning": a name may open the
		// sentence here, because the matter itself is the evidence.
		named = (i < int(h.a) || i >= int(h.b)) && st.toks[i].sent == st.toks[h.a].sent &&
			st.isNameLoose(i) && !st.inGroup(i, gTitle)
	}
	if !named {
		_, named = st.near(h, gColleague, 10, 0, true)
	}
	if !named {
		_, named = st.near(h, gAddressee, 10, 0, true)
	}
	if !named {
		return
	}
	for k := h.b; k < int32(len(st.toks)) && k < h.b+3; k++ {
		switch string(st.word(int(k))) {
		case "policy", "procedure", "procedures", "process", "guidance", "rules", "training":
			return
		}
	}
	st.add(Confidential, normal, h.a, h.b, "A member of staff's disciplinary, investigation or absence matter: confidential HR information.", "Remove it; HR matters are never shared in public.")
}

// lurkRule: "I'll be waiting outside your office", "I'll be outside the
// school for that head teacher": lying in wait for a person. Waiting for a
// reply, a bus or a collection is not.
func (s *Screener) lurkRule(st *scanState, h hit) {
	o, ok := st.near(h, gAddressee, 8, 1, true)
	if !ok {
		return
	}
	if int(o.b) < len(st.toks) {
		switch string(st.word(int(o.b))) {
		case "reply", "replies", "response", "answer", "call", "email", "letter", "decision", "update", "refund", "payment", "text", "message", "delivery", "parcel":
			return
		}
	}
	st.addSpan(Threat, normal, h, o, "Says they will lie in wait for someone.", "Remove it; if it came from a resident, follow the threats procedure.")
}

// predicates reports whether the words between a person (t) and a word
// after it (h) say what the person is: nothing between them ("lazy
// residents" read backwards, "residents: parasites"), or a copula or
// "like" among them ("these kids are animals", "acting like animals").
func (st *scanState) predicates(t, h hit) bool {
	if h.a <= t.b {
		return true
	}
	for k := t.b; k < h.a; k++ {
		switch string(st.word(int(k))) {
		case "is", "are", "was", "were", "be", "being", "been", "hes", "shes", "theyre", "youre", "im", "its",
			"like", "such", "what", "proper", "acting", "act", "behave", "behaving", "look", "looks", "looked", "sound", "sounds",
			"complete", "absolute", "total", "utter", "right", "real", "bunch", "lot", "load", "pack", "nothing", "but":
			return true
		}
	}
	return st.toks[t.b-1].flags&tfColonAfter != 0
}

// hateThreats: a threat aimed at a protected group or its place of worship
// ("burn that mosque down") is discrimination as well as a threat.
func (s *Screener) hateThreats(st *scanState) {
	if !st.has(gProtected) {
		return
	}
	for _, f := range st.findings {
		if f.cat == Discrimination {
			return
		}
	}
	for _, f := range st.findings {
		if f.cat != Threat {
			continue
		}
		h := st.spanHit(f.start, f.end)
		if o, ok := st.near(h, gProtected, 6, 0, true); ok && !st.roleNoun(o) {
			st.addSpan(Discrimination, normal, h, o, "A threat aimed at a protected group or its place of worship: a possible hate crime.", "Remove it; report threats against a community to the police.")
			return
		}
	}
}

// roleNoun: a protected word inside a longer word for a role or a group of
// people ("bin men", "my lads") names who they are, not their sex or age.
func (st *scanState) roleNoun(h hit) bool {
	for _, o := range st.hits {
		if (o.groups.has(gAddressee) || o.groups.has(gPersonTarget)) && !o.groups.has(gProtected) &&
			o.a <= h.a && o.b >= h.b && o.b-o.a > h.b-h.a {
			return true
		}
	}
	return false
}

// possessesThing: t is "your", "his", "her" or "their" followed by a word
// that names no person.
func (st *scanState) possessesThing(t hit) bool {
	if t.b != t.a+1 || int(t.b) >= len(st.toks) {
		return false
	}
	switch string(st.word(int(t.a))) {
	case "your", "his", "her", "their":
	default:
		return false
	}
	return !st.inGroup(int(t.b), gPersonTarget) && !st.inGroup(int(t.b), gAddressee)
}
