package risk

// swearingIntensifier: "bloody" used to swear ("bloody immigrants", "the
// bloody server") rather than in praise ("bloody brilliant job"), which
// stays a note, or literally ("a very bloody battle", "a bloody nose").
func (st *scanState) swearingIntensifier(h hit) bool {
	if h.b != h.a+1 || !maskedAs(st.word(int(h.a)), "bloody") {
		return false
	}
	i := int(h.a)
	if i > 0 && st.toks[i-1].sent == st.toks[i].sent {
		switch string(st.word(i - 1)) {
		case "very", "quite", "rather", "fairly", "particularly", "extremely", "most", "more", "less", "a":
			return false // "a very bloody battle", "a bloody nose"
		}
	}
	if i+1 < len(st.toks) && st.toks[i+1].sent == st.toks[i].sent {
		switch string(st.word(i + 1)) {
		case "brilliant", "great", "good", "amazing", "fantastic", "lovely", "marvellous", "proud", "well",
			"excellent", "superb", "beautiful", "gorgeous", "wonderful", "awesome", "legend", "legends",
			"heroes", "stars", "cracking", "ace", "chuffed", "delighted", "nice", "best",
			"nose", "noses", "sunday", "mary", "marys", "battle", "battles", "war", "wars", "history",
			"scene", "scenes", "effects", "footprints", "handprints", "tissue", "tissues", "bandage",
			"stools", "stool", "discharge", "urine", "vomit", "show":
			return false
		}
	}
	return true
}

// stretchedSwear: letters held down to hide a word — "ffffuuuuu",
// "shhiiiii" — squeeze to the start of one of the strongest words. Every
// letter after the first must be doubled and the squeezed word must end in
// a vowel, so "sooo", "nooo" and a stretched "shhh" stay clear.
func (lx *lexicon) stretchedSwear(orig, squeezed []byte, dst []int32) []int32 {
	if len(squeezed) < 2 || len(orig) < 5 || !isVowel(squeezed[len(squeezed)-1]) {
		return dst
	}
	run, long := 1, false
	for i := 1; i <= len(orig); i++ {
		if i < len(orig) && orig[i] == orig[i-1] {
			run++
			continue
		}
		if run >= 3 {
			long = true
		}
		if run < 2 && i-run > 0 {
			return dst // a single letter after the first
		}
		run = 1
	}
	if !long {
		return dst
	}
	for _, id := range lx.maskable {
		e := &lx.entries[id]
		if !e.groups.has(gProfanityStrong) {
			continue
		}
		if w := e.elems[0].word; len(w) > len(squeezed) && w[:len(squeezed)] == string(squeezed) {
			return append(dst, id)
		}
	}
	return dst
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}

// oathHits: a holy name thrown out as an exclamation — "Christ, what a
// week", "Oh Jesus!" — is swearing; "Christ Church" and "the life of
// Jesus" are not. It counts at the start of a sentence or after "oh",
// followed directly by a comma or an exclamation mark.
func oathHits(st *scanState) {
	for i := range st.toks {
		t := st.toks[i]
		opens := t.flags&tfSentStart != 0 || (i > 0 && st.toks[i-1].sent == t.sent && string(st.word(i-1)) == "oh")
		if !opens || t.end >= int32(len(st.text)) {
			continue
		}
		if c := st.text[t.end]; c != ',' && c != '!' {
			continue
		}
		switch string(st.word(i)) {
		case "christ", "jesus", "jeez", "jeezus", "jeesus", "chrissake":
			st.hits = append(st.hits, hit{a: int32(i), b: int32(i + 1), groups: setOf(gProfanity)})
			st.present = st.present.union(setOf(gProfanity))
		}
	}
}

// maskedAs: w is word, or word with letters hidden by '*' ("bl**dy").
func maskedAs(w []byte, word string) bool {
	if len(w) != len(word) {
		return false
	}
	for i := range w {
		if w[i] != word[i] && w[i] != '*' {
			return false
		}
	}
	return true
}
