package risk

// Discrimination is most often a sentence whose subject is a whole
// protected group and whose predicate is a fault ("Christians are all
// hypocrites", "immigrants bring nothing but crime") or a rule about what
// the group may or can do ("gay teachers shouldn't be around children",
// "blind people can't do admin jobs"). The pairing rules in applyRules need
// a listed derogatory cue; groupClaims reads the sentence's shape instead.

const sugGeneralise = "Remove the generalisation; describe individual behaviour or the service only."

// groupClaims adds a discrimination finding for the first protected group
// that is the subject of a fault or a restriction.
func (s *Screener) groupClaims(st *scanState) {
	if !st.has(gProtected) {
		return
	}
	for _, f := range st.findings {
		if f.cat == Discrimination {
			return
		}
	}
	for _, p := range st.hits {
		if !p.groups.has(gProtected) || st.roleNoun(p) || !st.subjectAt(p) || st.mentioned(p) || st.onePerson(p) {
			continue
		}
		if o, ok := st.faultAfter(p); ok && !st.speaksAsService(st.toks[p.a].sent) {
			st.addSpan(Discrimination, normal, p, o, "Says a whole protected group (race, religion, disability, sex, sexual orientation, gender identity or age) has a fault.", sugGeneralise)
			return
		}
		if k, ok := st.restriction(p); ok {
			st.add(Discrimination, normal, p.a, k+1, "Says what a whole protected group can't or shouldn't do.", sugGeneralise)
			return
		}
	}
}

// subjectAt: the group is not the object of a preposition ("hate crime
// against Muslims", "advice for disabled residents").
func (st *scanState) subjectAt(p hit) bool {
	if p.a == 0 || st.toks[p.a-1].sent != st.toks[p.a].sent {
		return true
	}
	switch string(st.word(int(p.a - 1))) {
	case "for", "of", "to", "with", "against", "about", "towards", "from", "at", "by", "on", "support", "supporting", "help", "helping", "welcome", "welcomes", "celebrate", "celebrating":
		return false
	}
	return true
}

// clauseBreak: words after which the group is no longer the subject.
func clauseBreak(w []byte) bool {
	switch string(w) {
	case "who", "which", "we", "i", "you", "our", "us", "if", "when", "because", "so", "but", "whose", "where", "while", "than":
		return true
	}
	return false
}

// clauseBreakAt is clauseBreak, with "that" a relative ("women that
// drive…") unless a preposition makes it a determiner ("at that school").
func (st *scanState) clauseBreakAt(j int32) bool {
	w := st.word(int(j))
	if string(w) != "that" {
		return clauseBreak(w)
	}
	if j == 0 {
		return true
	}
	switch string(st.word(int(j - 1))) {
	case "at", "in", "on", "from", "to", "round", "near", "by", "of":
		return false
	}
	return true
}

var faultGroups = setOf(gTrait, gInsultWeak, gInsult, gDerogatory)

// faultAfter finds a fault said of the group within a few words after it,
// before the clause changes subject. A trait ("don't pay", "no idea") is a
// fault only when something says it is what the group is or always does
// ("are", "all", "always", "bring"): "women don't pay for screening" is a
// fact about a service.
func (st *scanState) faultAfter(p hit) (hit, bool) {
	if !st.present.hasAny(faultGroups) {
		return hit{}, false
	}
	// The clause's end, and where something first says what the group
	// is, in one pass over the words; then the faults in one pass over
	// the hits.
	end, said := min(p.b+6, int32(len(st.toks))), int32(-1)
	for j := p.b; j < end; j++ {
		if st.toks[j].sent != st.toks[p.a].sent || st.clauseBreakAt(j) {
			end = j
			break
		}
		if said < 0 && predicateWord(st.word(int(j))) {
			said = j
		}
	}
	best, found := hit{}, false
	for _, o := range st.hits {
		if o.a < p.b || o.a >= end || o.groups.has(gProtected) || found && o.a >= best.a {
			continue
		}
		if o.groups.hasAny(faultGroups.minus(setOf(gTrait))) || o.groups.has(gTrait) && said >= 0 && said < o.a {
			best, found = o, true
		}
	}
	return best, found
}

// predicateWord: a word that says what a group is or habitually does.
func predicateWord(w []byte) bool {
	switch string(w) {
	case "are", "were", "is", "all", "always", "never", "just", "mostly", "basically", "really", "so", "too",
		"bring", "brings", "have", "has", "got", "make", "makes", "will", "would", "only", "forever", "constantly":
		return true
	}
	return false
}

// restriction returns the last token of "shouldn't …" or "can't <do>"
// said of the group. Notices about access ("wheelchair users can't use the
// lift until Monday, so we…") are the organisation's own, so a sentence
// that speaks as the organisation or offers help is left alone.
func (st *scanState) restriction(p hit) (int32, bool) {
	sent := st.toks[p.a].sent
	end := min(p.b+4, int32(len(st.toks)))
	for j := p.b; j < end && st.toks[j].sent == sent; j++ {
		if st.clauseBreakAt(j) {
			return 0, false
		}
		var next []byte
		if int(j)+1 < len(st.toks) && st.toks[j+1].sent == sent {
			next = st.word(int(j) + 1)
		}
		claim := false
		switch string(st.word(int(j))) {
		case "shouldnt", "mustnt":
			claim = true
		case "should":
			switch string(next) {
			case "never", "not", "stay", "be":
				claim = true
			}
		case "cant", "cannot", "couldnt", "never":
			claim = abilityVerb(next)
		}
		if claim && !st.speaksAsService(sent) {
			return j + 1, true
		}
	}
	return 0, false
}

// abilityVerb: what a group is said to be unable to do ("can't drive",
// "can't keep up", "can't manage money"), as opposed to what a notice says
// they can't yet reach or use.
func abilityVerb(w []byte) bool {
	switch string(w) {
	case "do", "drive", "cope", "keep", "manage", "work", "learn", "handle", "be", "speak", "understand", "think",
		"teach", "lead", "parent", "raise", "hack", "multitask", "control", "integrate", "follow", "behave", "cook",
		"count", "spell", "add", "lift", "run", "fix", "take", "make", "tell", "help", "stop", "hold", "know":
		return true
	}
	return false
}

// speaksAsService: the sentence speaks as the organisation or offers help.
func (st *scanState) speaksAsService(sent int32) bool {
	for k := range st.toks {
		if st.toks[k].sent != sent {
			continue
		}
		switch string(st.word(k)) {
		case "we", "weve", "well", "us", "please", "support", "offer", "available", "free", "apply", "instead", "until", "while", "sorry":
			return true
		}
	}
	return false
}

// mentioned: the word is quoted or reported rather than used — "the word
// 'retard' is banned", "never describe patients as bed blockers", "her
// neighbour called her a scrounger", "a caller said staff were idiots".
func (st *scanState) mentioned(h hit) bool {
	sent := st.toks[h.a].sent
	for k := h.a - 1; k >= 0 && k >= h.a-5 && st.toks[k].sent == sent; k-- {
		switch string(st.word(int(k))) {
		case "word", "term", "phrase":
			// "the word", not "can't understand a word".
			if k > 0 && string(st.word(int(k-1))) == "the" {
				return true
			}
		case "words", "terms", "phrases", "language":
			switch string(st.word(int(k + 1))) {
			case "like", "such":
				return true
			}
		case "describe", "describing", "described", "called", "calling", "labelled", "labelling", "branded":
			return true
		case "said", "says", "shouted", "told", "yelled", "screamed":
			// Reported of someone else; "I said they were animals" is
			// the writer's own view.
			return k == 0 || st.toks[k-1].sent != sent || !isSpeaker(st.word(int(k-1)))
		}
	}
	return false
}

func isSpeaker(w []byte) bool {
	switch string(w) {
	case "i", "we", "ive", "weve", "honestly":
		return true
	}
	return false
}

// onePerson: "some gobby woman", "the deaf man at the desk" speak of one
// person, whom the abuse rule judges, not of the whole group.
func (st *scanState) onePerson(p hit) bool {
	switch string(st.word(int(p.b - 1))) {
	case "woman", "man", "lady", "girl", "boy", "bloke", "lad", "guy", "fella", "gentleman", "cleaner", "driver":
		return true
	}
	return false
}
