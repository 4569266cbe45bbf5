package risk

import "testing"

// TestGroupClaims pins discrimination found from the sentence's shape —
// a protected group as subject with a fault or a restriction — beside
// sentences of the same shape that are fine.
func TestGroupClaims(t *testing.T) {
	checkExact(t, newTestScreener(t), []screenCase{
		// A fault said of the whole group.
		inc("Christians are all hypocrites and bigots", Discrimination),
		out("Working mothers are unreliable, always off with sick kids", Discrimination),
		inc("Immigrants bring nothing but crime to this town", Discrimination),
		out("Older people are at greater risk of falls in icy weather"),
		out("If you've been abused because of your religion or disability, report it as a hate crime and we can help"),
		// What the group can't or shouldn't do.
		inc("Gay teachers shouldn't be around children", Discrimination),
		out("Blind people can't do admin jobs, no point interviewing them", Discrimination),
		out("Wheelchair users can't use the lift until Monday, so we have opened the side entrance"),
		out("Blue badge holders can park here for up to three hours"),
		out("Autistic adults can't hold down a proper job", Discrimination),
		// "over 65s" is a number, not leetspeak.
		out("Over 65s are too slow to use the machines, they hold everyone up", Discrimination),
		out("Over 65s can apply for a free bus pass"),
		// "that" after a preposition is not a new clause.
		out("Black lads at that school are the troublemakers, every time", Abuse, Discrimination),
		// One person is not a group: the abuse rule judges that.
		inc("Your customer service woman is a stupid cow", Abuse),
		// Quoted or reported, not said.
		out("The word 'retard' is banned in our staff code of conduct"),
		out("A resident reported that her neighbour called her a scrounger; we have passed this on"),
		// Telling people to leave the country needs no group named.
		inc("Send them back where they came from, the lot of them", Discrimination),
	})
}

// TestInsultTargets pins whom an insult is said of.
func TestInsultTargets(t *testing.T) {
	checkExact(t, newTestScreener(t), []screenCase{
		out("Tenants who ring the repairs line are moaning parasites", Abuse),
		out("Year 9 are pig-ignorant, the whole year group", Abuse),
		out("Residents at the drop-in today were like a herd of cattle", Abuse),
		inc("Your website is useless, I can't find the form"),
		inc("Your binmen are a bunch of lazy halfwits", Abuse),
		out("Our animal warden rehomed 40 feral cats this year"),
	})
}
