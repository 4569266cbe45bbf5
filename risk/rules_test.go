package risk

import (
	"context"
	"slices"
	"testing"
)

// TestExactCategories pins the rules added for wording the development set
// does not use: each case must give exactly these categories, so a rule
// that fires too widely (a date range read as a birth date, an order read
// as a name) fails here as surely as one that misses.
func TestExactCategories(t *testing.T) {
	s := newTestScreener(t)
	cases := []screenCase{
		// Second-hand harm needs a person close to the victim or abuser.
		inc("Her fella batters her when he's been drinking", Safeguarding),
		inc("My uncle touches my cousin when nobody's looking", Safeguarding),
		inc("My son beat the club record at the swimming gala"),
		inc("The bin lorry battered the wall outside my house"),
		inc("My dad put the finishing touches to the float"),
		inc("My mum was touched by the card you sent"),
		inc("My brother is hitting the gym every day"),
		// Grooming needs an adult, an offer and a child.
		inc("A bloke in a van keeps giving lifts to schoolgirls by the park", Safeguarding),
		inc("The youth club offers lifts to kids who live out of town"),
		// Entries spelt without the apostrophe match the typed 's.
		inc("I think tonight's the night", Safeguarding),
		inc("My mum's heating is off but she's fine"),
		inc("That warden will get what's coming to him", Threat),
		// A weapon is a threat only when marked for someone.
		inc("I've a can of petrol ready for him if he comes back", Threat),
		inc("Where do I take an old petrol can to be recycled?"),
		// Conditional violence outcomes need an intention before them.
		inc("Evict us and you'll end up in hospital", Threat),
		inc("My mum ended up in hospital after a fall on the ice"),
		// "shoot" with a camera is photography.
		out("Our photographer will shoot the parade from the town hall steps"),
		out("I'll shoot the parade organiser if it rains again", Threat),
		// Threat phrases cleared only by what follows or a negation inside.
		out("There will be blood tests at the clinic from 9am"),
		inc("Close our centre and there will be blood", Threat),
		out("We hope nobody gets hurt on bonfire night"),
		inc("No wonder the bins get torched round here, there's no lighting"),
		inc("Your bins will get torched if you keep ignoring me", Threat),
		// Swearing about the workload is disaffection; about a rota alone, profanity.
		out("Management want us covering two depots again, fucking joke", Profanity, Disaffection),
		out("What the fuck happened to the recycling rota", Profanity),
		// Date ranges are eligibility, not a date of birth.
		out("Children born between 01/09/2019 and 31/08/2020 can apply"),
		out("Child born 01/09/2012, lives at 4 Elm Road", PersonalData),
		// A sentence opening with an order or a protected group is not a name.
		out("Gay couples shouldn't be allowed to adopt", Discrimination),
		out("Check my son's EHCP has been sent to the school"),
		// Stereotypes without a slur.
		out("Of course it was a woman driver who hit the bollard", Discrimination),
		out("Of course the library is open on Saturday"),
		// Before an election, an invitation to meet a named candidate.
		pre("Pop along to meet candidate Leon Walsh at the market", Political),
		pre("Meet the candidates at the hustings on Monday: all parties invited"),
		// Disclosing where a key is.
		out("Carer: the key is under the mat at number 6", Confidential),
		out("Never leave a key under the mat"),
		// Veiled threats: a "shame if" opening with harm after it and a
		// person nearby; the same opening about a closure is a complaint.
		inc("Lovely car you drive. Shame if anything happened to it", Threat),
		inc("It would be a shame if the swimming pool closed for good"),
		// Being watched: the cue, then the person, then their routine.
		inc("We know where your supervisor parks every morning", Threat),
		inc("I know where the fly-tippers leave their van, shall I send a photo?"),
		// Lying in wait for a person, not for a bus or a reply.
		inc("I'll be waiting outside the office for that housing officer", Threat),
		inc("I'll be waiting outside the depot to collect my new bin"),
		inc("I'll be waiting for your reply about the repairs"),
		// A trailing !word: "between us" as a secret, not "between us and".
		out("Between us, the depot is being sold next year", Confidential),
		out("Between us and the county council we gritted 400 miles"),
		// One filler inside a set phrase.
		out("Senior managers haven't really got the foggiest what the crews do", Disaffection),
		// A stereotype needs the group, a word for all of them, and a trait.
		out("Deaf people are always pretending not to hear when it suits them", Discrimination),
		out("Deaf people can always ask for a sign language interpreter"),
		out("Women don't pay for cervical screening"),
		// A weak insult said of people, not something beside them.
		out("The tenants on that landing are vermin", Abuse),
		out("Don't leave food out, it attracts vermin"),
		// A named member of staff's HR matter; a policy about it names no one.
		out("Gary in parking is on a final written warning", Confidential),
		out("Our disciplinary policy was updated in March"),
		// Dates of birth in words; a meeting date in words is not one.
		out("Mrs Dale, born the ninth of May 1941, is on ward 3", PersonalData),
		out("The meeting is on the ninth of May 2026 in the council chamber"),
		// House numbers with a letter, and 0044 numbers.
		out("She lives at 12b Station Road, Northdale ND2 3QT", PersonalData),
		out("Ring his mobile on 0044 7700 900 456", PersonalData),
		// Contempt for the work itself: a work word and a contempt word.
		out("Another restructure, same useless people making the calls", Disaffection),
		out("The restructure of the bus network starts on Monday"),
		// A threat against a community's place of worship is also hate.
		inc("Someone should burn that synagogue down", Discrimination, Threat),
		// A protected word inside a role ("bin men") is not a group.
		inc("I'll get my mates round to sort the bin men out", Threat),
		out("Your bin men are lazy, every one of them", Abuse),
	}
	checkExact(t, s, cases)
}

// checkExact screens each case and wants exactly its categories.
func checkExact(t *testing.T, s *Screener, cases []screenCase) {
	t.Helper()
	for _, c := range cases {
		opts := Options{PreElection: c.pe}
		if c.in {
			opts.Context = Incoming
		}
		r := s.Screen(context.Background(), c.text, opts)
		want := c.want
		if want == nil {
			want = []Category{}
		}
		if !slices.Equal(r.Categories, want) {
			t.Errorf("%q: want %v, got %v %v", c.text, want, r.Categories, r.Findings)
		}
	}
}
