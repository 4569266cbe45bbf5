package risk

// campaigning: slogans that promote one side without naming a party ("don't
// let the other lot undo it", "keep Thirsk moving forward"). Before an
// election they are the publicity the rules forbid; at other times they
// are a note to check the post.
func (s *Screener) campaigning(st *scanState) {
	if st.opts.Context == Incoming {
		return
	}
	s.crossNextToName(st)
	if !st.has(gCampaign) {
		return
	}
	for _, h := range st.hits {
		if !h.groups.has(gCampaign) {
			continue
		}
		if st.preElection {
			st.add(Political, normal, h.a, h.b, "Pre-election period: campaign wording that favours one side, even without naming a party.", "Stick to factual service information until after the election.")
		} else {
			st.add(Political, weak, h.a, h.b, "Reads like campaign wording: official accounts stay politically neutral.", "Describe the council's decision or service instead.")
		}
	}
}

// publicityFor: in the pre-election period any favourable or promotional
// framing anywhere in the post ("Thanks for all your hard work!", a photo
// of them) or a mention of the poll itself makes a named councillor's
// appearance publicity — unless the post is a notice of nominations or
// results, which must name candidates.
func (st *scanState) publicityFor() bool {
	return st.has(gPromo) || st.has(gElectoral) || st.has(gCampaign)
}

// resultsNotice: an election notice about nominations or results.
func (st *scanState) resultsNotice() bool {
	if !st.has(gElectoral) {
		return false
	}
	for i := range st.toks {
		switch string(st.word(i)) {
		case "nominated", "nomination", "nominations", "declared", "results", "result", "count", "standing", "turnout":
			return true
		}
	}
	return false
}

// crossNextToName: "put your cross next to Lucy Grant" asks for a vote for
// a named person; "put a cross next to one candidate" is how to vote.
func (s *Screener) crossNextToName(st *scanState) {
	for i := 0; i+2 < len(st.toks); i++ {
		if w := st.word(i); string(w) != "cross" && string(w) != "x" {
			continue
		}
		j := i + 1
		switch string(st.word(j)) {
		case "next", "beside":
			if j+1 < len(st.toks) && string(st.word(j+1)) == "to" {
				j++
			}
		case "by", "against":
		default:
			continue
		}
		if j+1 < len(st.toks) && st.isName(j+1) {
			st.add(Political, normal, int32(i), int32(j+2), "Asks readers to vote for a named person: official accounts must not.", "Remove it; official accounts stay politically neutral.")
			return
		}
	}
}
