package risk

// Threats are found by their shape as well as their wording: who acts (an
// "I'll" typed without its apostrophe, a crowd called together, a bare
// command), what is done (a violent verb, a weapon thrown or brought, harm
// that befalls someone) and whom it is aimed at. applyRules already pairs a
// violent verb with a stated intention; the shapes here catch the threats
// that do not say "I will".

const sugThreat = "Remove it; if it came from a resident, follow the threats procedure."

// threatShapes adds the threats applyRules's word pairs miss.
func (s *Screener) threatShapes(st *scanState) {
	if !st.present.hasAny(setOf(gViolent, gWeapon, gFate, gVeiledCue, gSurveilCue)) {
		return
	}
	for _, h := range st.hits {
		if st.reported(Threat, h) {
			continue
		}
		g := h.groups
		switch {
		case g.has(gViolent) && !st.violentSafe(h):
			if o, ok := st.bareIntent(s.lex, h); ok {
				st.add(Threat, normal, o, h.b, "States an intention to do violence or damage.", sugThreat)
			} else if o, ok := st.incitement(h); ok && (st.aimedAt(h) || !st.toks[o].isSentStart() || st.inGroup(int(o), gIncite)) {
				// A crowd called together may be sent against
				// property too ("anyone fancy smashing up the
				// new speed cameras?"); a bare command needs a
				// person after it.
				st.add(Threat, normal, min(o, h.a), h.b, "Calls on others to attack someone or damage property.", sugThreat)
			}
		case g.has(gWeapon):
			s.weaponRule(st, h)
		case g.has(gFate):
			s.fateRule(st, h)
		case g.has(gVeiledCue):
			s.carefulRule(st, h)
		}
	}
}

// reported: a threat finding already covers part of h.
func (st *scanState) reported(cat Category, h hit) bool {
	start, end := int(st.toks[h.a].start), int(st.toks[h.b-1].end)
	for _, f := range st.findings {
		if f.cat == cat && f.start < end && start < f.end {
			return true
		}
	}
	return false
}

// violentSafe: a violent verb reported as done ("was smashed"), with a
// harmless object straight after it ("kill the engine", "smash our
// target"), or "shoot" in talk of photography ("shoot the parade").
func (st *scanState) violentSafe(h hit) bool {
	if h.a > 0 && st.toks[h.a-1].sent == st.toks[h.a].sent {
		// "the shelter's been smashed again": a report of damage done.
		switch string(st.word(int(h.a) - 1)) {
		case "been", "was", "were", "being", "had", "has", "is", "are":
			return true
		}
	}
	if _, ok := st.near(h, gSafeObject, 1, 1, true); ok {
		return true
	}
	if w := st.word(int(h.a)); len(w) < 4 || string(w[:4]) != "shoo" {
		return false // "smashing up the speed cameras" is not photography
	}
	_, ok := st.near(h, gPhotoContext, 12, 0, true)
	return ok
}

// bareIntent: "ill batter him", "hell get lamped": the future typed without
// its apostrophe, straight before the verb. Alone "ill" is only ever
// "unwell", so the verb must follow at once (one filler allowed, "ill
// proper batter him", and a passive "get": "hell get lamped").
func (st *scanState) bareIntent(lx *lexicon, h hit) (int32, bool) {
	k := h.a - 1
	if k >= 0 && lx.filler(int32(st.toks[k].node)) {
		k--
	}
	if k >= 0 && (string(st.word(int(k))) == "get" || string(st.word(int(k))) == "be") {
		k-- // "hell get lamped"
	}
	if k < 0 || st.toks[k].sent != st.toks[h.a].sent {
		return 0, false
	}
	switch string(st.word(int(k))) {
	case "ill", "il", "hell", "theyll", "youll", "gonna", "wanna":
		return k, true
	}
	return 0, false
}

// incitement returns where a call to act begins: a crowd called together
// earlier in the sentence ("everyone get down the surgery and drag…"), or
// the violent verb itself opening the sentence as a command ("Kick the
// head in of any warden you see").
func (st *scanState) incitement(h hit) (int32, bool) {
	if st.has(gIncite) {
		for _, o := range st.hits {
			if o.groups.has(gIncite) && o.b <= h.a && h.a-o.b <= 14 && st.toks[o.a].sent == st.toks[h.a].sent {
				return o.a, true
			}
		}
	}
	k := h.a
	for k > 0 && st.toks[k-1].sent == st.toks[h.a].sent {
		switch string(st.word(int(k - 1))) {
		case "just", "go", "so", "then", "now", "and", "all":
			k--
			continue
		}
		break
	}
	if st.toks[k].flags&tfSentStart != 0 && st.commandObject(h) {
		return k, true
	}
	return 0, false
}

// commandObject: a verb opening a sentence is a command only if its object
// follows ("Kick the head in…", "throttle him"); "Knife crime week" and
// "Torch-lit walk" open with a noun.
func (st *scanState) commandObject(h hit) bool {
	if h.b-h.a > 1 {
		return true
	}
	if int(h.b) >= len(st.toks) || st.toks[h.b].sent != st.toks[h.a].sent {
		return false
	}
	switch string(st.word(int(h.b))) {
	case "the", "that", "this", "these", "those", "any", "every", "all", "them", "him", "her", "you", "your",
		"their", "his", "em", "some", "anyone", "anybody", "everyone", "whoever":
		return true
	}
	return false
}

// aimedAt: a person, or someone addressed, within a few words after the
// verb or inside it ("drag the receptionists out by their hair").
func (st *scanState) aimedAt(h hit) bool {
	for _, g := range [...]group{gPersonTarget, gAddressee} {
		if o, ok := st.near(h, g, 5, 1, true); ok && o.a >= h.a {
			return true
		}
	}
	return false
}

// weaponRule: a weapon thrown at someone ("throw acid on the lot of them"),
// brought by a crowd ("rally at the depot, bring petrol") or brought by
// someone who says they are coming ("I'm bringing a baseball bat").
// Bringing bats, bottles or knives and forks to a picnic is not a threat,
// so a lone bringer needs a weapon that is nothing else.
func (s *Screener) weaponRule(st *scanState, h hit) {
	v := h.a - 1
	if v > 0 && isArticle(st.word(int(v))) {
		v--
	}
	if v < 0 || st.toks[v].sent != st.toks[h.a].sent || negatedBefore(st, v) {
		return
	}
	switch string(st.word(int(v))) {
	case "throw", "throwing", "chuck", "chucking", "lob", "lobbing", "pour", "pouring", "sling":
		if st.aimedAt(h) || st.throwTarget(h) {
			st.add(Threat, normal, v, h.b, "Says a weapon or missile should be thrown at someone or their property.", sugThreat)
		}
	case "bring", "bringing", "grab", "fetch", "carry", "carrying", "take", "taking":
		if o, ok := st.incitement(hit{a: v, b: v + 1}); ok && !st.toks[v].isSentStart() {
			st.add(Threat, normal, min(o, v), h.b, "Calls on others to bring weapons or the means of arson.", sugThreat)
			return
		}
		if _, ok := st.near(hit{a: v, b: v + 1}, gIntent, 3, -1, true); ok || isFirstPerson(st, v-1) {
			if !dualUseWeapon(st, h) {
				st.add(Threat, normal, v, h.b, "Says they will come armed.", sugThreat)
			}
		}
	}
}

func (t token) isSentStart() bool { return t.flags&tfSentStart != 0 }

func isArticle(w []byte) bool {
	switch string(w) {
	case "a", "an", "the", "some", "my", "his", "our", "their":
		return true
	}
	return false
}

// isFirstPerson: "im", "were", "ill be" before a verb in -ing, the
// speaker's own plan.
func isFirstPerson(st *scanState, k int32) bool {
	if k < 0 {
		return false
	}
	switch string(st.word(int(k))) {
	case "im", "were", "am", "be":
		return true
	}
	return false
}

// negatedBefore: "don't throw stones", "never bring knives".
func negatedBefore(st *scanState, k int32) bool {
	for j := k - 1; j >= 0 && j >= k-2 && st.toks[j].sent == st.toks[k].sent; j-- {
		switch string(st.word(int(j))) {
		case "dont", "never", "not", "no", "stop", "please":
			return true
		}
	}
	return false
}

// throwTarget: thrown "at", "on", "over" or "through" something.
func (st *scanState) throwTarget(h hit) bool {
	if int(h.b) < len(st.toks) && st.toks[h.b].sent == st.toks[h.a].sent {
		switch string(st.word(int(h.b))) {
		case "at", "on", "over", "through", "in":
			return true
		}
	}
	return false
}

// dualUseWeapon: things a weapon list holds that people carry for ordinary
// reasons (a cricket bat, a bottle, matches, a kitchen knife).
func dualUseWeapon(st *scanState, h hit) bool {
	if h.b-h.a != 1 {
		return false
	}
	switch string(st.word(int(h.a))) {
	case "bat", "bats", "bottle", "bottles", "matches", "hammer", "knife", "knives", "blade", "blades",
		"poker", "rocks", "stones", "axe", "acid", "bleach":
		return true
	}
	return false
}

// fateRule: harm foretold ("whoever reported me is gonna get their windows
// put through", "that school will go up in flames if…") or made the price
// of a condition ("if my bins aren't emptied someone is getting hurt").
// Hoping no one gets hurt, or warning before someone does, is not a threat;
// nor is the council explaining what happens if something is damaged.
func (s *Screener) fateRule(st *scanState, h hit) {
	sent := st.toks[h.a].sent
	for k := h.a - 1; k >= 0 && k >= h.a-4 && st.toks[k].sent == sent; k-- {
		switch string(st.word(int(k))) {
		case "no", "nobody", "noone", "not", "before", "until", "avoid", "prevent", "stop", "dont", "never", "in", "case":
			return
		}
	}
	framed := false
	if _, ok := st.near(h, gIntent, 8, -1, true); ok {
		framed = true
	}
	for k := 0; k < len(st.toks) && !framed; k++ {
		if st.toks[k].sent != sent {
			continue
		}
		switch string(st.word(k)) {
		case "if", "unless", "or", "otherwise", "else", "touch", "next":
			framed = true
		}
	}
	if !framed || st.serviceSentence(sent) {
		return
	}
	st.add(Threat, normal, h.a, h.b, "Foretells harm to someone or their property, or makes it the price of not getting their way.", sugThreat)
}

// serviceSentence: the organisation explaining what to do ("if you get
// hurt on a council path, you can claim", "call us if your windows are
// put in") rather than someone threatening.
func (st *scanState) serviceSentence(sent int32) bool {
	for k := range st.toks {
		if st.toks[k].sent != sent {
			continue
		}
		switch string(st.word(k)) {
		case "we", "well", "weve", "claim", "report", "contact", "call", "please", "insurance", "can", "help", "advice":
			return true
		}
	}
	return false
}

// carefulRule: "your receptionist wants to be careful walking to her car
// at night": a warning to a named person about their own routine. Advice
// to everyone ("drivers want to be careful on the hills") names no one
// person, so the one warned must be singular.
func (s *Screener) carefulRule(st *scanState, h hit) {
	who := false
	for k := h.a - 1; k >= 0 && k >= h.a-3 && st.toks[k].sent == st.toks[h.a].sent; k-- {
		w := st.word(int(k))
		if !st.inGroup(int(k), gAddressee) {
			continue
		}
		switch string(w) {
		case "you", "your", "ya", "yous", "youse", "yourselves", "staff", "drivers", "workers", "officers", "wardens":
			continue
		}
		who = true
	}
	if !who {
		return
	}
	if o, ok := st.near(h, gRoutine, 10, 1, true); ok {
		st.addSpan(Threat, normal, h, o, "A veiled threat: warns a named person about their own routine.", sugThreat)
	}
}
