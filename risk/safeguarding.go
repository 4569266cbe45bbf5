package risk

// Safeguarding signals that need structure rather than a phrase: someone
// not seen or heard for days, and exploitation (grooming, scams, forced
// work, a child afraid of home) once a vulnerable person is in the message.
// Like the rest of safeguarding they apply to incoming messages only.

const sugEscalate = "Escalate now to the safeguarding or duty team; reply with urgent help contacts. Do not ignore or block."

func (s *Screener) safeguardingSignals(st *scanState) {
	if st.has(gExploit) {
		for _, h := range st.hits {
			if !h.groups.has(gExploit) || st.aboutAnimal(h) {
				continue
			}
			for _, g := range [...]group{gVulnerable, gHousehold, gChildCue, gAdultMan} {
				if o, ok := st.near(h, g, 16, 0, false); ok {
					st.addSpan(Safeguarding, normal, o, h, "A child or vulnerable adult may be being groomed, exploited, scammed or kept from leaving.", sugEscalate)
					break
				}
			}
		}
	}
	s.notSeen(st)
	if st.has(gAtRisk) {
		s.worriedAbout(st)
	}
}

// worriedAbout: "I'm worried about Doris at number 5 … she's not
// answering": a worry about a named person plus a sign of risk anywhere in
// the message, where the at-risk rule would need a word like "elderly".
func (s *Screener) worriedAbout(st *scanState) {
	for i := range st.toks {
		switch string(st.word(i)) {
		case "worried", "concerned", "worrying", "anxious":
		default:
			continue
		}
		if i+2 >= len(st.toks) {
			return
		}
		if w := st.word(i + 1); string(w) != "about" && string(w) != "for" {
			continue
		}
		person := st.isNameLoose(i+2) || st.inGroup(i+2, gTitle) || st.inGroup(i+2, gVulnerable) || st.inGroup(i+2, gHousehold)
		if !person {
			continue
		}
		for _, h := range st.hits {
			if h.groups.has(gAtRisk) && !st.aboutAnimal(h) {
				st.addSpan(Safeguarding, normal, hit{a: int32(i), b: int32(i + 3)}, h, "Someone is worried about a named person who shows a sign of being at risk.", sugEscalate)
				return
			}
		}
	}
}

// notSeen: "nobody's seen him since Tuesday", "haven't heard her moving
// about for three days". A negated seen/heard is a concern when a
// vulnerable person is named nearby or the silence has lasted days — but
// not when it is a pet that has gone quiet.
func (s *Screener) notSeen(st *scanState) {
	for i := range st.toks {
		response := false
		switch string(st.word(i)) {
		case "seen", "heard", "spotted", "sighted":
		case "answered", "opened", "responded", "replied", "eaten":
			response = true
		default:
			continue
		}
		neg := -1
		for k := i - 1; k >= 0 && k >= i-5 && st.toks[k].sent == st.toks[i].sent; k-- {
			switch string(st.word(k)) {
			case "not", "nobody", "noone", "no", "havent", "hasnt", "hadnt", "never", "nobodys", "noones", "aint":
				neg = k
			}
			if neg >= 0 {
				break
			}
		}
		if neg < 0 {
			continue
		}
		h := hit{a: int32(neg), b: int32(i + 1)}
		if st.aboutAnimal(h) || st.petAfter(i, 3) {
			continue
		}
		if response {
			// "my auntie hasn't answered her phone since yesterday": the
			// person is the subject, and only days of silence count.
			if !st.personBefore(h) || st.durationAfter(i, 10) < 0 {
				continue
			}
		} else if !st.personAfter(i, 4) && !st.passivePerson(i) {
			continue
		}
		o, ok := st.near(h, gVulnerable, 16, 0, false)
		if !ok {
			if d := st.durationAfter(i, 10); d > 0 {
				o, ok = hit{a: int32(d), b: int32(d + 1)}, true
			}
		}
		if !ok {
			continue
		}
		if _, fine := st.near(h, gReassure, 8, 0, false); fine {
			continue
		}
		st.addSpan(Safeguarding, normal, o, h, "Someone has not been seen or heard for a while: they may need a welfare check.", sugEscalate)
		return
	}
}

// durationAfter returns the token index of a span of days or weeks ("for
// three days", "since Monday", "in a week") within w words after i, or -1.
func (st *scanState) durationAfter(i, w int) int {
	for k := i + 1; k < len(st.toks) && k <= i+w && st.toks[k].sent == st.toks[i].sent; k++ {
		switch string(st.word(k)) {
		case "days", "weeks", "week", "fortnight", "since", "ages", "yesterday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday":
			return k
		}
	}
	return -1
}

// aboutAnimal: a pet named just before the signal, with no person between
// ("our cat hasn't come home"), makes it a lost animal.
func (st *scanState) aboutAnimal(h hit) bool {
	if !st.has(gPet) {
		return false
	}
	p, ok := st.near(h, gPet, 4, -1, true)
	if !ok {
		return false
	}
	for _, o := range st.hits {
		if o.a >= p.b && o.b <= h.a && (o.groups.has(gVulnerable) || o.groups.has(gHousehold)) {
			return false
		}
	}
	return true
}

// petAfter: "haven't seen our dog since…": the animal is the object.
func (st *scanState) petAfter(i, w int) bool {
	if !st.has(gPet) {
		return false
	}
	_, ok := st.near(hit{a: int32(i), b: int32(i + 1)}, gPet, int32(w), 1, true)
	return ok
}

// personAfter: the one not seen is a person — a pronoun or a vulnerable
// person or relative within w words after i ("seen him", "heard the old
// lady"), not a gritter or the bin lorry.
func (st *scanState) personAfter(i, w int) bool {
	for k := i + 1; k < len(st.toks) && k <= i+w && st.toks[k].sent == st.toks[i].sent; k++ {
		switch string(st.word(k)) {
		case "him", "her", "them", "anyone", "anybody", "soul", "hide":
			return true
		}
	}
	_, ok := st.near(hit{a: int32(i), b: int32(i + 1)}, gVulnerable, int32(w), 1, true)
	if !ok {
		_, ok = st.near(hit{a: int32(i), b: int32(i + 1)}, gHousehold, int32(w), 1, true)
	}
	return ok
}

// personBefore: a vulnerable person, relative, title or name before h in
// the sentence.
func (st *scanState) personBefore(h hit) bool {
	for _, g := range [...]group{gVulnerable, gHousehold, gTitle} {
		if _, ok := st.near(h, g, 12, -1, true); ok {
			return true
		}
	}
	return st.nearName(h, 8)
}

// passivePerson: "Mrs Patel hasn't been seen": in the passive the person is
// the subject, named or a vulnerable person or relative before the verb.
func (st *scanState) passivePerson(i int) bool {
	if i == 0 || string(st.word(i-1)) != "been" {
		return false
	}
	h := hit{a: int32(i - 1), b: int32(i + 1)}
	if _, ok := st.near(h, gVulnerable, 8, -1, true); ok {
		return true
	}
	if _, ok := st.near(h, gHousehold, 8, -1, true); ok {
		return true
	}
	if _, ok := st.near(h, gTitle, 8, -1, true); ok {
		return true
	}
	return st.nearName(h, 8)
}
