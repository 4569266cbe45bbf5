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
	s.personalData(st)
	s.leaks(st)
	s.campaigning(st)
	if st.opts.Context == Incoming {
		s.safeguardingSignals(st)
	}
}

// match finds every lexicon entry in the token stream.
func (s *Screener) match(st *scanState) {
	lx := s.lex
	var cands [32]int32
	for i := range st.toks {
		t := &st.toks[i]
		if t.flags&tfAllDigits != 0 {
			continue
		}
		w := st.norm[t.ns:t.ne]
		var next []byte
		if i+1 < len(st.toks) {
			next = st.word(i + 1)
		}
		ids := cands[:0]
		if t.flags&tfMasked != 0 {
			ids = lx.matchMasked(w, ids)
		} else {
			ids = lx.lookup(w, next, ids)
			// The tokenizer cut a trailing 's ("she's" → "she", "what's"
			// → "what"); entries are written as people type without the
			// apostrophe ("shes fine", "get whats coming"), so look the
			// word, or the word after it, up again with the s.
			if t.flags&tfPossessive != 0 && len(w) < 32 {
				var pb [32]byte
				ids = lx.lookup(append(append(pb[:0], w...), 's'), next, ids)
			}
			if next != nil && st.toks[i+1].flags&tfPossessive != 0 && len(next) < 32 {
				var pb [32]byte
				ids = lx.lookupSecond(w, append(append(pb[:0], next...), 's'), ids)
			}
			if len(ids) == 0 && hasRun(w, 3) {
				// "fuuuuck", "shiiiite": squeeze long runs to two letters,
				// then to one, and look again.
				st.buf = squeeze(st.buf[:0], w, 2)
				if ids = lx.lookup(st.buf, next, ids); len(ids) == 0 {
					st.buf = squeeze(st.buf[:0], w, 1)
					if ids = lx.lookup(st.buf, next, ids); len(ids) == 0 {
						ids = lx.stretchedSwear(w, st.buf, ids)
					}
				}
			}
		}
		for _, id := range ids {
			s.tryEntry(st, i, id)
		}
	}
}

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
	if len(e.elems) > 1 && i+len(e.elems) > len(st.toks) {
		return
	}
	for k := 1; k < len(e.elems); k++ {
		el := &e.elems[k]
		t := &st.toks[i+k]
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
			if el.caps && !capsOK(st, i+k) && !heading {
				return
			}
			if el.apos && t.flags&tfApos == 0 {
				return
			}
		}
	}
	st.hits = append(st.hits, hit{a: int32(i), b: int32(i + len(e.elems)), groups: e.groups})
	st.present |= e.groups
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

func (st *scanState) has(g group) bool { return st.present&g.bit() != 0 }

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
		if o.groups&g.bit() == 0 || (o.a == h.a && o.b == h.b) {
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

// applyRules turns lexicon hits into findings. Each rule is a group on its
// own or two groups near each other; the reasons are written for the person
// about to post.
func (s *Screener) applyRules(st *scanState) {
	if st.present == 0 {
		return
	}
	incoming := st.opts.Context == Incoming
	// Party politics and staff disaffection are publishing risks: a
	// resident writing in may say what they like about parties or the
	// council.
	outgoingOnly := gWorkCue.bit() | gParty.bit() | gPoliticalPhrase.bit() | gDisaffection.bit() | gEmployer.bit() | gColleague.bit() | gCouncillor.bit() | gOfficial.bit() | gControversial.bit()
	for _, h := range st.hits {
		g := h.groups
		if incoming {
			g &^= outgoingOnly
			h.groups = g
		}
		if g&gProfanityStrong.bit() != 0 {
			st.add(Profanity, strong, h.a, h.b, "Strong swearing, even disguised, is never acceptable from an official account.", "Remove the word.")
		} else if g&gProfanity.bit() != 0 && !(h.b == h.a+1 && st.isName(int(h.a)) && int(h.b) < len(st.toks) && st.isName(int(h.b))) {
			// (A rude word that is part of a name — "Dick Whittington" —
			// is skipped.)
			st.add(Profanity, normal, h.a, h.b, "Swearing, including disguised spellings, reads as unprofessional and offends some readers.", "Remove the word or rephrase.")
		} else if g&gProfanityMild.bit() != 0 && st.swearingIntensifier(h) {
			st.add(Profanity, normal, h.a, h.b, "Swearing (\"bloody\" as an intensifier) reads as unprofessional and offends some readers.", "Remove the word or rephrase.")
		} else if g&gProfanityMild.bit() != 0 {
			st.add(Profanity, weak, h.a, h.b, "Mild swearing: fine in conversation, but check the tone for an official post.", "Consider a plainer word.")
		}
		if g&(gInsult.bit()|gInsultWeak.bit()) != 0 {
			s.insultRule(st, h)
		}
		if g&gAbusePhrase.bit() != 0 {
			st.add(Abuse, normal, h.a, h.b, "Mocks or demeans the people we serve or work with.", "Remove it; describe the situation, not the people.")
		}
		if g&gSlur.bit() != 0 {
			st.add(Discrimination, strong, h.a, h.b, "A slur against a protected group.", "Remove the word.")
		}
		if g&gDiscriminationPhrase.bit() != 0 {
			st.add(Discrimination, normal, h.a, h.b, "A derogatory generalisation about a protected group.", "Remove it; talk about the service, not who uses it.")
		}
		if g&gProtected.bit() != 0 {
			if o, ok := st.near(h, gDerogatory, 12, 0, true); ok {
				st.addSpan(Discrimination, normal, h, o, "Generalises negatively about a protected group (race, religion, disability, sex, sexual orientation, gender identity or age).", "Remove the generalisation; describe individual behaviour or the service only.")
			}
		}
		if g&gThreatPhrase.bit() != 0 && !st.safeThreatObject(h) {
			st.add(Threat, normal, h.a, h.b, "Reads as a threat of violence or harm.", "Remove it; if it came from a resident, follow the threats procedure.")
		}
		if g&gViolent.bit() != 0 {
			_, safe := st.near(h, gSafeObject, 1, 1, true)
			if !safe {
				_, safe = st.near(h, gPhotoContext, 12, 0, true)
			}
			if !safe {
				if o, ok := st.near(h, gIntent, 8, -1, true); ok {
					st.addSpan(Threat, normal, o, h, "States an intention or wish to do violence or damage.", "Remove it; if it came from a resident, follow the threats procedure.")
				}
			}
		}
		if g&gWeapon.bit() != 0 {
			if o, ok := st.near(h, gTargetMark, 12, 0, true); ok {
				st.addSpan(Threat, normal, h, o, "Names a weapon or the means of arson as meant for someone.", "Remove it; if it came from a resident, follow the threats procedure.")
			}
		}
		if g&gMarking.bit() != 0 {
			st.add(Confidential, normal, h.a, h.b, "A protective marking: this material is not for publication.", "Do not post it; check with the information owner.")
		}
		if g&gConfidentialPhrase.bit() != 0 {
			st.add(Confidential, normal, h.a, h.b, "Internal, embargoed or unannounced material.", "Wait until it is formally published, then link to that.")
		}
		if g&gKeyLocation.bit() != 0 && !st.advisedAgainst(h) {
			st.add(Confidential, normal, h.a, h.b, "Says where a door key is hidden: anyone reading it could get in.", "Remove it; share access arrangements privately.")
		}
		if g&gCredential.bit() != 0 {
			s.credentialRule(st, h)
		}
		if g&gPoliticalPhrase.bit() != 0 {
			st.add(Political, normal, h.a, h.b, "Electioneering: an official account must not ask people to vote for anyone.", "Remove it; official accounts stay politically neutral.")
		}
		if g&gParty.bit() != 0 {
			if o, ok := st.near(h, gPromo, 10, 0, true); ok {
				st.addSpan(Political, normal, h, o, "Promotes or attacks a political party; official accounts must be politically neutral.", "Remove the party reference; describe the council's decision instead.")
			} else {
				st.add(Political, weak, h.a, h.b, "Names a political party: make sure the post is neutral.", "Refer to the council's decision rather than a party.")
			}
		}
		if st.preElection {
			s.preElectionRule(st, h)
		}
		if !incoming && g&(gProfanity.bit()|gProfanityStrong.bit()) != 0 {
			// Swearing about the rota, the shift or the workload is
			// contempt for the job, not just bad language.
			if o, ok := st.near(h, gWorkCue, 14, 0, true); ok {
				st.addSpan(Disaffection, normal, h, o, "Swears about the job or the workload in public.", "Keep it off official and public channels; talk to your manager instead.")
			}
		}
		if g&gDisaffection.bit() != 0 {
			st.add(Disaffection, normal, h.a, h.b, "Broadcasts contempt for the job or employer, or lack of motivation.", "Keep it off official and public channels; talk to your manager instead.")
		}
		if g&(gEmployer.bit()|gColleague.bit()) != 0 {
			if o, ok := st.near(h, gContempt, 8, 0, true); ok {
				st.addSpan(Disaffection, normal, h, o, "Shows contempt for the employer or colleagues in public.", "Raise it internally instead of posting it.")
			}
		}
		if incoming {
			s.safeguardingRule(st, h)
		}
		if g&gPersonalPhrase.bit() != 0 {
			st.add(PersonalData, normal, h.a, h.b, "Matches a term the organisation treats as personal data.", "Remove it.")
		}
	}
}

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
	for _, o := range st.hits {
		if o.a == h.b && o.groups&gSafeObject.bit() != 0 && st.toks[o.a].sent == st.toks[h.a].sent {
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
	strongWord := h.groups&gInsult.bit() != 0
	if !strongWord {
		// "dyslexic staff are just lazy": a generalisation about a
		// protected group, which the discrimination rule explains.
		if _, ok := st.near(h, gProtected, 6, -1, true); ok && st.has(gDerogatory) {
			return
		}
		_, intens := st.near(h, gIntensifier, 1, -1, true)
		// aimed at people: "these kids are animals", "lazy residents"
		_, target := st.near(h, gPersonTarget, 6, -1, true)
		if !target {
			_, target = st.near(h, gPersonTarget, 1, 1, true)
		}
		_, coll := st.near(h, gColleague, 8, 0, true)
		if !intens && !target && !coll {
			return
		}
	}
	if o, ok := st.near(h, gColleague, 8, 0, true); ok {
		if o.groups&gEmployer.bit() != 0 {
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

// isQuantity: a number in a rule about the code, not the code itself
// ("every 90 days", "at least 8 characters").
func isQuantity(st *scanState, j int) bool {
	if j+1 < len(st.toks) {
		switch string(st.word(j + 1)) {
		case "days", "day", "characters", "character", "chars", "digits", "digit", "letters", "hours", "minutes",
			"months", "weeks", "times", "attempts", "tries", "numbers", "symbols", "or", "to":
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
		"secret", "safe", "secure", "valid", "correct", "wrong", "incorrect", "shown", "printed", "below", "above", "my", "our", "their", "his", "her", "this", "that", "it", "no", "being", "still", "also", "only":
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
	if g&gCouncillor.bit() != 0 {
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
	if g&gOfficial.bit() != 0 {
		named = true
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
		} else {
			st.add(Political, weak, h.a, h.b, "Pre-election period: take care when naming councillors or candidates.", "Attribute decisions to the council, not to individuals.")
		}
	}
	if g&gControversial.bit() != 0 {
		if o, ok := st.near(h, gPromo, 10, 0, true); ok {
			st.addSpan(Political, normal, h, o, "Pre-election period: promotes or attacks a controversial proposal.", "Stick to factual service information until after the election.")
		}
	}
}

// safeguardingRule: incoming messages that suggest someone is at risk are
// flagged for urgent escalation, never blocked.
func (s *Screener) safeguardingRule(st *scanState, h hit) {
	const sug = sugEscalate
	if st.aboutAnimal(h) {
		return // "our cat hasn't come home"
	}
	if h.groups&gSafeguardPhrase.bit() != 0 {
		st.add(Safeguarding, normal, h.a, h.b, "Suggests someone may be at risk of harm.", sug)
		return
	}
	if h.groups&gHarm.bit() != 0 {
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
	if h.groups&gGiftOffer.bit() != 0 {
		// "a man keeps offering lifts to girls": an adult named before
		// the offer and a child after it.
		if m, ok := st.near(h, gAdultMan, 8, -1, true); ok {
			if c, ok := st.near(h, gVulnerable, 4, 1, true); ok {
				st.addSpan(Safeguarding, normal, m, c, "An adult offering children lifts or gifts: a possible grooming concern.", sug)
				return
			}
		}
	}
	if h.groups&gAtRisk.bit() != 0 {
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
