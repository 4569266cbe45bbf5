package risk

import "testing"

// TestThreatShapes pins the threats found by their shape rather than a
// listed phrase, each beside the ordinary sentence of the same shape.
func TestThreatShapes(t *testing.T) {
	checkExact(t, newTestScreener(t), []screenCase{
		// "I'll" typed without its apostrophe, straight before the verb.
		inc("ill batter the next warden who tickets me", Threat),
		inc("hell get lamped if he comes round again", Threat),
		inc("I was ill after the match, we got battered 6-0"),
		// Text-speak spelt out.
		inc("gna do u in m8", Threat),
		inc("u lot better watch ur backs", Threat),
		inc("i'll b w8in 4 u outside the office", Threat),
		inc("c u at the library later, we'll b there at 4"),
		// A command, or a crowd called together, aimed at people.
		inc("Kick the head in of any warden you see", Threat),
		inc("Everyone get down the surgery and drag the receptionists out by their hair", Threat),
		out("Knife crime awareness week: hand your blades in at the police station"),
		out("Kick off your weekend with a swim at the leisure centre"),
		out("Shoot us a message if you need help with your bins"),
		inc("Anyone fancy smashing up the new speed cameras on Saturday night?", Threat),
		out("Our photographer will be shooting the lantern parade with two cameras"),
		// Weapons thrown, or brought by a crowd or a self-declared attacker.
		inc("Throw acid on the lot of them", Threat),
		inc("Rally at the depot tonight, bring petrol and lighters", Threat),
		inc("Next time they tow my car I'm bringing a baseball bat", Threat),
		out("Bring your old knives to the sharpening stall at the market"),
		out("We'll bring bats and balls for rounders in the park"),
		out("Please don't throw stones at the ducks"),
		// Harm foretold or made conditional.
		inc("if my bins aren't emptied by friday someone at the depot is getting hurt", Threat),
		inc("whoever keeps reporting my dog is gonna get their windows put thru", Threat),
		inc("That school will go up in flames if my lad's excluded", Threat),
		inc("Please sort the ice on the steps before someone gets hurt"),
		out("If you get hurt on an icy council path, you can claim on our insurance"),
		// A warning to a named person about their own routine.
		inc("Your receptionist wants to be careful walking to her car at night", Threat),
		out("Drivers want to be careful on the hills tonight, the roads are icy"),
		// Whose home and what about it, named before the cue.
		inc("Your home address isn't hard to find, Mr Hughes", Threat),
		out("Our office isn't hard to find, it's next to the library"),
		// Damage reported, not intended.
		inc("You'll be sorry to hear the bus shelter's been smashed again"),
		// Pests are not people.
		out("Pest control visit: we'll be killing the rats in the bin store on Tuesday"),
	})
}
