package risk

// Hit refinement runs between the lexicon match and the rules: it takes
// rude readings away from words inside names (places, birds), adds party
// readings that depend on capitals ("Keep Reform out"), and clears
// vote-shaped wording that is plainly election administration.

// rudeGroups are the readings an allow-listed phrase or a place name clears.
var rudeGroups = setOf(gProfanity, gProfanityStrong, gProfanityMild, gInsult, gInsultWeak, gSlur)

func (s *Screener) refineHits(st *scanState) {
	if st.has(gAllow) {
		clearInsideAllowed(st)
	}
	if st.present.hasAny(rudeGroups.minus(setOf(gProfanityStrong))) {
		clearPlaceNames(st)
	}
	oathHits(st)
	if st.opts.Context != Incoming {
		s.capitalParties(st)
	}
	if st.has(gParty) {
		clearOrdinaryPartyWords(st)
	}
	if st.has(gElectoral) && st.has(gPoliticalPhrase) && !st.has(gParty) {
		clearElectionAdmin(st)
	}
	if st.has(gAppearance) && st.has(gPromo) {
		clearInsideAppearance(st)
	}
}

// clearInsideAppearance: "cut" attacks a party's record, but inside "cut
// the ribbon" it is a councillor opening something, which is factual.
func clearInsideAppearance(st *scanState) {
	cleared := false
	for _, a := range st.hits {
		if !a.groups.has(gAppearance) || a.b-a.a < 2 {
			continue
		}
		for k := range st.hits {
			o := &st.hits[k]
			if o.groups.has(gPromo) && o.a >= a.a && o.b <= a.b && o.b-o.a < a.b-a.a {
				o.groups = o.groups.minus(setOf(gPromo))
				cleared = true
			}
		}
	}
	if !cleared {
		return
	}
	st.present = groupSet{}
	for _, h := range st.hits {
		st.present = st.present.union(h.groups)
	}
}

// clearInsideAllowed: a phrase on the allow list ("blue tits",
// "cock-a-doodle-doo", "Great Cockup") clears the rude words inside it.
func clearInsideAllowed(st *scanState) {
	for _, a := range st.hits {
		if !a.groups.has(gAllow) || a.b-a.a < 2 {
			continue
		}
		for k := range st.hits {
			o := &st.hits[k]
			if o.a >= a.a && o.b <= a.b && !(o.a == a.a && o.b == a.b) {
				o.groups = o.groups.minus(rudeGroups)
			}
		}
	}
}

// clearPlaceNames: English place names are built from a capitalised
// qualifier and a name ("Great Cockup", "Nether Wallop") or a name and a
// capitalised feature ("Cock Lane", "Fanny Hill"). A rude word in that
// shape, written with capitals, is a place, not swearing. The strongest
// words are never cleared this way.
func clearPlaceNames(st *scanState) {
	for k := range st.hits {
		o := &st.hits[k]
		if !o.groups.hasAny(rudeGroups) || o.groups.has(gProfanityStrong) || o.b != o.a+1 {
			continue
		}
		i := int(o.a)
		t := st.toks[i]
		if t.flags&tfCap == 0 || t.flags&(tfAllCaps|tfLeet|tfMasked|tfJoined) != 0 {
			continue
		}
		before := i > 0 && st.toks[i-1].sent == t.sent && st.toks[i-1].flags&tfCap != 0 && placeQualifier(st.word(i-1))
		after := i+1 < len(st.toks) && st.toks[i+1].sent == t.sent && st.toks[i+1].flags&tfCap != 0 && placeFeature(st.word(i+1))
		// Pub and inn names: "the Cock and Bull", "Cock & Hen".
		pub := i+2 < len(st.toks) && st.toks[i+2].sent == t.sent && string(st.word(i+1)) == "and" && st.toks[i+2].flags&tfCap != 0
		if before || after || pub {
			o.groups = o.groups.minus(rudeGroups)
		}
	}
}

// placeQualifier: the words that open English place names (Great Ayton,
// Little Snoring, Nether Stowey, Long Itchington, Much Wenlock).
func placeQualifier(w []byte) bool {
	switch string(w) {
	case "great", "little", "upper", "lower", "nether", "over", "long", "much", "high", "old", "new",
		"east", "west", "north", "south", "kings", "bishops", "monks", "abbots", "castle", "market",
		"church", "steeple", "temple", "saint", "st", "mount":
		return true
	}
	return false
}

// placeFeature: the words that close place and street names.
func placeFeature(w []byte) bool {
	switch string(w) {
	case "lane", "road", "street", "avenue", "close", "hill", "hills", "bridge", "green", "end", "bottom",
		"wood", "woods", "farm", "hall", "common", "moor", "fell", "beck", "crags", "crag", "pike", "head",
		"top", "cross", "crescent", "way", "row", "court", "gate", "island", "point", "burn", "brook",
		"water", "marsh", "heath", "park", "field", "fields", "valley", "dale", "knoll", "tor", "holm":
		return true
	}
	return false
}

// capitalParties: some parties are named with an ordinary word ("Reform",
// "Independents"). Written with a capital in the middle of a sentence, not
// as part of a longer capitalised title ("the Planning Reform Bill") and
// not followed by "of" ("Reform of the planning system"), the word names
// the party.
func (s *Screener) capitalParties(st *scanState) {
	for i := range st.toks {
		t := st.toks[i]
		if t.flags&tfCap == 0 || t.flags&tfAllCaps != 0 {
			continue
		}
		switch string(st.word(i)) {
		case "reform", "independents", "independent", "reformers", "greens":
		default:
			continue
		}
		// At the start of a sentence only a party does things: "Reform
		// would close…", not "Reform is overdue".
		if t.flags&tfSentStart != 0 && (i+1 >= len(st.toks) || !partyVerb(st.word(i+1))) {
			continue
		}
		if i > 0 && st.toks[i-1].flags&tfCap != 0 && st.toks[i-1].flags&tfSentStart == 0 {
			continue
		}
		if i+1 < len(st.toks) && st.toks[i+1].sent == t.sent {
			if st.toks[i+1].flags&tfCap != 0 {
				continue
			}
			switch string(st.word(i + 1)) {
			case "of", "to", "for", "in", "and", "is", "was", "bill", "act":
				continue
			}
		}
		st.hits = append(st.hits, hit{a: int32(i), b: int32(i + 1), groups: setOf(gParty)})
		st.present = st.present.union(setOf(gParty))
	}
}

func partyVerb(w []byte) bool {
	switch string(w) {
	case "would", "will", "wont", "wants", "want", "plan", "plans", "promise", "promised", "voted", "can", "cant",
		"say", "says", "said", "have", "has", "run", "ran", "councillors", "candidates", "candidate", "councillor":
		return true
	}
	return false
}

// clearElectionAdmin: "Register to vote by midnight on Friday", "put a
// cross next to one candidate on the ballot paper" read like electioneering
// word by word but are electoral services doing their job. With no party
// named, vote-shaped phrases touching administration wording are cleared.
func clearElectionAdmin(st *scanState) {
	for _, a := range st.hits {
		if !a.groups.has(gElectoral) {
			continue
		}
		for k := range st.hits {
			o := &st.hits[k]
			if !o.groups.has(gPoliticalPhrase) || st.toks[o.a].sent != st.toks[a.a].sent {
				continue
			}
			overlap := o.a < a.b && o.b > a.a
			if overlap || (o.a <= a.b+3 && o.b+3 >= a.a && !st.directsVote(*o)) {
				o.groups = o.groups.minus(setOf(gPoliticalPhrase))
			}
		}
	}
}

// directsVote: the phrase tells people how to vote ("don't vote for",
// "vote them out"), which administration wording nearby does not excuse.
func (st *scanState) directsVote(h hit) bool {
	for k := h.a; k < h.b; k++ {
		switch string(st.word(int(k))) {
		case "for", "against", "dont", "never", "out", "in", "your", "give", "lend", "cast", "back", "elect", "re":
			return true
		}
	}
	return false
}

// clearOrdinaryPartyWords: "the labour ward", "child labour", "a
// conservative estimate", "liberal use of grit" use a party's name in its
// ordinary sense.
func clearOrdinaryPartyWords(st *scanState) {
	for k := range st.hits {
		o := &st.hits[k]
		if !o.groups.has(gParty) {
			continue
		}
		i := int(o.a)
		if o.b == o.a+2 && string(st.word(i)) == "the" {
			i++ // "the Labour ward"
		} else if o.b != o.a+1 {
			continue
		}
		var prev, next string
		if i > 0 && st.toks[i-1].sent == st.toks[i].sent {
			prev = string(st.word(i - 1))
		}
		if i+1 < len(st.toks) && st.toks[i+1].sent == st.toks[i].sent {
			next = string(st.word(i + 1))
		}
		ordinary := false
		switch w := string(st.word(i)); {
		case w == "labour":
			switch next {
			case "ward", "wards", "market", "markets", "cost", "costs", "shortage", "shortages", "pains", "suite",
				"unit", "force", "law", "laws", "relations", "intensive", "saving", "camp", "camps", "exchange", "supply", "rights":
				ordinary = true
			}
			switch prev {
			case "in", "child", "forced", "slave", "cheap", "manual", "skilled", "early", "induced", "hard", "casual",
				"agency", "migrant", "bonded", "of", "during", "premature":
				ordinary = true
			}
		case w == "conservative" || w == "conservatively":
			switch next {
			case "estimate", "estimates", "approach", "view", "figure", "figures", "side", "treatment", "management", "assumption", "assumptions":
				ordinary = true
			}
			ordinary = ordinary || w == "conservatively"
		case w == "liberal" || w == "liberals":
			switch next {
			case "use", "amount", "amounts", "arts", "helping", "sprinkling":
				ordinary = true
			}
		}
		if ordinary {
			o.groups = o.groups.minus(setOf(gParty))
		}
	}
}
