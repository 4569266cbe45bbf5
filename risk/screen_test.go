package risk

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// screenCase is one text and what the screen must say about it: want lists
// categories that must be reported as risky; an empty want means the text
// must not be risky at all.
type screenCase struct {
	text string
	want []Category
	in   bool // incoming message
	pe   bool // pre-election period
}

func out(text string, want ...Category) screenCase { return screenCase{text: text, want: want} }
func inc(text string, want ...Category) screenCase {
	return screenCase{text: text, want: want, in: true}
}
func pre(text string, want ...Category) screenCase {
	return screenCase{text: text, want: want, pe: true}
}

var screenCases = map[string][]screenCase{
	"profanity and obfuscation": {
		out("This snow is absolute shit", Profanity),
		out("what a load of bollocks from the forecasters", Profanity),
		out("F*CK me it's cold on the gritters", Profanity),
		out("fuuuuuck the roads are bad", Profanity),
		out("f.u.c.k this weather", Profanity),
		out("f u c k the ice", Profanity),
		out("s h i t roads again", Profanity),
		out("this is sh!te", Profanity),
		out("$hit service from the bus company", Profanity),
		out("what the fμck", Profanity),
		out("absolute ѕhite from the contractors", Profanity), // Cyrillic ѕ
		out("ｆｕｃｋ the frost", Profanity),                      // full-width
		out("f**king freezing in the depot", Profanity),
		out("piss poor gritting on Elm Road", Profanity),
		out("b0ll0cks to the rota", Profanity),
		out("Wtf is the point of the new app", Profanity),
		out("shiiiiite weather for the fair", Profanity),
		out("c.r.a.p turnout at the consultation", Profanity),
		out("the pavements are fcuking lethal", Profanity),
		out("Ffs can nobody read a timetable", Profanity),
		out("what a cock-up with the bin dates", Profanity),
		out("crapppp traffic on the ring road", Profanity),
	},
	"scunthorpe and safe words": {
		out("Gritting in Scunthorpe, Penistone and Cockermouth is complete."),
		out("Middlesex Street and Sussex Gardens are closed; Essex Road is open."),
		out("Clitheroe market is open as usual."),
		out("Shitterton Lane in Dorset is flooded."),
		out("Lightwater library reopens on Monday."),
		out("Our therapist-led classes continue online."),
		out("A classic car rally passes through town on Sunday."),
		out("The cocktail bar at the arts centre is closed."),
		out("The passage behind the market is icy."),
		out("Grape picking volunteers needed at the community orchard."),
		out("Scrap metal collections resume next week."),
		out("Press the button at the crossing and wait."),
		out("We analyse road temperatures every hour."),
		out("Assassin's Creed night at the youth club is cancelled."),
		out("Dickens Road and Hancock Way have been gritted."),
		out("Arsenal fans travelling to the match should allow extra time."),
		out("Cumbria County Council has lent us two gritters."),
		out("Our assessment and assistance teams are working from home."),
		out("Documents can be handed in at reception."),
		out("Shell and Esso garages on the A1 have fuel."),
		out("The document has been analysed by the class teacher."),
		out("A new glass recycling bank is at the Bass Rock car park."),
	},
	"safe senses": {
		out("Kill the engine while you wait outside school."),
		out("Frost killed the weeds on the allotments."),
		out("We do not tolerate abuse of our staff."),
		out("Call the hate crime reporting line on 0800 123 456."),
		out("Report a threat to the police on 101."),
		out("We condemn the threats our crews received last night."),
		out("The storm is going to hit the coast tonight."),
		out("We're going to smash our recycling target this year!"),
		out("I'll run over the figures with the team tomorrow."),
		out("Our gritters will beat the snow tonight."),
		out("Please do not burn garden waste during the smoke alert."),
		out("The boxing club at the leisure centre restarts on Monday."),
		out("Residents can report abusive behaviour online."),
		out("The murder mystery evening at the museum is sold out."),
		out("Shoot us a message if the bins are missed."),
		out("We will break for Christmas on 23 December."),
	},
	"abuse": {
		out("The tenants on the Moor estate are absolute scroungers", Abuse),
		out("Another morning of dealing with morons at the front desk", Abuse),
		out("Honestly these parents are thick as mince", Abuse),
		out("Half of Year 9 are brain dead", Abuse),
		out("residents in Westgate are a bunch of animals", Abuse),
		out("the customers today were proper muppets", Abuse),
		out("Service users queueing like zombies, bunch of losers", Abuse),
		out("That caller was a complete idiot", Abuse),
		out("Year 10 are little shits this term", Abuse),
		out("Pupils in 8C are a pack of feral brats", Abuse),
		out("the patients on ward 4 are such needy whingers", Abuse),
		out("The complainant is a nutter, ignore him", Abuse),
		out("chavvy lot down at the skate park again", Abuse),
		out("my manager is a useless prat", Abuse),
		out("These claimants are a waste of space", Abuse),
		out("Neds hanging about the library again, scum", Abuse),
		out("parents at the gate are dumb as rocks", Abuse),
		out("kids in 5B are i d i o t s", Abuse),
		out("Dealt with another m0ron on the phones", Abuse),
	},
	"discrimination": {
		out("Immigrants are taking our council houses", Discrimination),
		out("Polish drivers can't be trusted on ice", Discrimination),
		out("Wouldn't hire a woman for the night shift", Discrimination),
		out("gay couples shouldn't be allowed to foster", Discrimination),
		out("The wheelchair users are a drain on the bus service", Discrimination),
		out("Old people are past it, they should stop driving", Discrimination),
		out("ADHD is just an excuse for lazy parenting", Discrimination),
		out("typical woman driver in the car park again", Discrimination),
		out("Travellers are all thieves, lock your sheds", Discrimination),
		out("These asylum seekers are always complaining about the hotel", Discrimination),
		out("no gypsies on the new site, thank you", Discrimination),
		out("that tranny from the library came in again", Discrimination),
		out("he's such a retard with the printer", Discrimination),
		out("Muslims are all extremists", Discrimination),
		out("A bloke in a dress teaching our kids, no thanks", Discrimination),
		out("the Asian families never learn the rules, these people", Discrimination),
	},
	"discrimination safe": {
		out("Our English classes for refugees start again on Monday."),
		out("The women's refuge is open throughout the cold snap."),
		out("Support for deaf residents: textphone and BSL video relay."),
		out("Elderly people who cannot drive can book the community bus."),
		out("Muslim families can collect halal meals from the school office."),
		out("Trans Awareness Week events at the library."),
		out("Our autism-friendly screening starts at 10am."),
		out("Thanks to the Polish Community Centre for the hot drinks."),
	},
	"threat": {
		inc("I'm going to torch the council offices if my bin isn't emptied", Threat),
		inc("Someone should give that bin man a good kicking", Threat),
		inc("Next time he blocks my drive I'll slash his tyres", Threat),
		inc("I know where you live, councillor", Threat),
		inc("you'll regret ignoring me, watch your back", Threat),
		inc("I swear I'll punch the next warden who tickets me", Threat),
		inc("If the road isn't cleared I will smash up the depot", Threat),
		out("Whoever keeps nicking the grit deserves a good hiding", Threat),
		inc("I hope the planning officer dies in a fire", Threat),
		inc("I'll put a brick through the housing office window", Threat),
		inc("im gonna batter the lad who keyed my car", Threat),
		inc("Someone needs to stab that traffic warden", Threat),
		inc("gonna burn the place down if you don't fix the heating", Threat),
		out("Wish someone would knock his teeth out", Threat),
	},
	"personal data": {
		out("Please ring Mrs Okafor back on 07700 900123 about her council tax", PersonalData),
		out("Her number is +44 7700 900 456 if anyone can help", PersonalData),
		out("Tell Mr Patel his mobile 07123456789 was passed to the contractor", PersonalData),
		out("Forward this to jim.baker1962@gmail.com please", PersonalData),
		out("The tenant's email is sarah_t88@yahoo.co.uk", PersonalData),
		out("Patient NHS number 943 476 5919 needs a new appointment", PersonalData),
		out("NI number JH 47 29 81 B on the file is wrong", PersonalData),
		out("Claimant NI: PW123456A", PersonalData),
		out("DOB 03/11/1955 for the resident in flat 2", PersonalData),
		out("Mrs Hughes, born 14 March 1948, needs a welfare visit", PersonalData),
		out("The noise complaint is from 14 Larch Avenue ND3 4QP", PersonalData),
		out("She lives at 22 Mill Lane and keeps complaining", PersonalData),
		out("Pupil Jayden Cole in Year 3 has been excluded again", PersonalData),
		out("Little Amira in Reception has head lice, please check your children", PersonalData),
		out("Patient Tom Birch was diagnosed with dementia last week", PersonalData),
		out("Mr Singh's son Arjun has ADHD and needs a taxi", PersonalData),
		out("Her car AB12 CDE is parked on the verge again", PersonalData),
		out("Photos to jo.bloggs at gmail dot com please", PersonalData),
		out("reply to priya [at] hotmail [dot] co [dot] uk", PersonalData),
		out("his address is d.hughes77 @ icloud . com", PersonalData),
		out("Write to sam dot wright at outlook dot com", PersonalData),
		out("Mia Lowe, 6, from Brook Infants has epilepsy", PersonalData),
		out("Ring Tina back, mobile oh seven seven double oh nine double oh four five six", PersonalData),
		out("Mr Cole's number is 0 7 7 0 0 - 9 0 0 - 2 4 6", PersonalData),
		out("Her own address: tina.cole at hotmail.co.uk", PersonalData),
		out("Send it to rob.hale@gmail dot com", PersonalData),
	},
	"personal data safe": {
		out("Call our switchboard on 01632 960000 for help."),
		out("Contact us on 01632 960 123, Monday to Friday."),
		out("For adult social care call 0300 123 4567."),
		out("Freephone 0800 555 0101 for winter fuel advice."),
		out("In an emergency call 999; for health advice call 111."),
		out("Email roads@northdale.gov.uk or highways@nhs.net for updates."),
		out("Questions? info@castlehallcentre.co.uk"),
		out("The depot at Unit 4, Riverside, ND1 2AB is open."),
		out("Fellside Primary (ND4 5TT) is closed today."),
		out("Planning application 25/01183/FUL will be heard on 12/12/2026."),
		out("The bridge was opened in 1979."),
		out("Bin day moves from 24/12 to 27/12."),
		out("The Chief Executive, Jane Morris, thanked our gritting crews."),
		out("Sam Walker from the roads team gave an update on BBC Radio."),
		out("The 10.30 service will run at 11.45 on 2 January."),
		out("Meet us at the hall, doors open at 7."),
		out("Details at northdale dot gov dot uk"),
		out("The car park at 12 Market Street, NE1 4XF reopens on Monday."),
		out("The museum was founded in 1907, 6 years after the library."),
		out("One or two places are left at the session at 10am."),
		out("Doors open at 7.30 at the Town Hall."),
	},
	"confidential": {
		out("OFFICIAL SENSITIVE: staffing plan for the depot", Confidential),
		out("Restricted - do not share outside the team", Confidential),
		out("Strictly confidential: the budget gap is £4m", Confidential),
		out("Embargoed until 00:01 Thursday: new school admissions figures", Confidential),
		out("The wifi password for the hub is Gritter2026", Confidential),
		out("Key safe code for 4 Park View is 1974", Confidential),
		out("door code for the leisure centre staff entrance: 4471#", Confidential),
		out("Username roadsadmin, password is salt", Confidential),
		out("Between us, the library closures haven't been announced yet", Confidential),
		out("Keep this under wraps but the depot is being sold", Confidential),
		out("Internal only - draft winter plan v3", Confidential),
		out("The preferred bidder for the leisure contract is Sportco, not public yet", Confidential),
		out("Shh, the Riverside pool is closing in April, staff haven't been told", Confidential),
		out("Can't say much yet but the youth service is being axed", Confidential),
		out("The merger goes ahead, official announcement not until March", Confidential),
		out("Leaked: council tax to rise by 5%", Confidential),
		out("The code to get into the plant room is 2291", Confidential),
	},
	"confidential safe": {
		out("Forgotten your password? Reset it on our website."),
		out("Never share your PIN with anyone who calls you."),
		out("Our confidential helpline for carers is open all week."),
		out("The secret to a safe journey: slow down and leave space."),
		out("Our internal audit report is published on the website."),
		out("The embargo on overtime has been lifted, says the union."),
		out("All calls are treated in confidence."),
		out("Key safe fitting is free for carers, call 0300 123 4000."),
		out("A leaking water main has closed Station Road."),
		out("Shh! Quiet study hours at the library are 9 to 11."),
		out("Following consultation, Cabinet has agreed to close Maple Lodge in the summer."),
	},
	"political": {
		out("Vote Conservative on Thursday for lower council tax", Political),
		out("Only the Lib Dems will save our libraries", Political),
		out("The Tories have wrecked our bus services", Political),
		out("Reform UK's plan for the high street is a disgrace", Political),
		out("Thanks to Labour, the potholes are fixed", Political),
		out("Please re-elect Councillor Shaw on 7 May", Political),
		pre("Cllr Amy Fox has done amazing work on the new playground", Political),
		pre("Candidate Leon Walsh toured the new bus shelters today", Political),
		pre("Thanks to Cllr Lyons' hard work, the library is staying open", Political),
		pre("Councillor Fenwick, working hard for you all year round", Political),
		pre("Say yes to the incinerator on polling day", Political),
		out("Keep Northdale Labour", Political),
		pre("Come and meet Cllr Iqbal at his campaign stall on Saturday", Political),
		pre("Council leader Cllr Reed welcomed the new gritters", Political),
		pre("The incinerator plan is a disgrace and must be stopped", Political),
	},
	"political safe": {
		out("Polling stations open at 7am on Thursday."),
		out("Find out who your councillor is on our website."),
		out("Councillors will debate the budget on Tuesday."),
		out("The Labour market statistics are out today."),
		out("Cllr Dawson opened the new depot today."), // outside the pre-election period
		out("The green bin collection is moving to Tuesdays."),
		out("Register to vote by 20 April."),
		out("Reform of the bus network: have your say."),
		pre("Polling cards are being delivered this week."),
		pre("Councillors can be contacted through the members' office."),
		// Appearances are news; only praise, credit or a candidate make them publicity.
		pre("Councillor Dunn unveiled the new bus shelters today"),
		pre("Cllr Osei met residents to discuss the flooding on Mill Lane."),
		pre("Councillor Begum cut the ribbon at the new pavilion."),
	},
	"disaffection": {
		out("Can't be bothered with the late shift tonight", Disaffection),
		out("Thinking of pulling a sickie tomorrow, who's with me", Disaffection),
		out("Management in this place haven't got a clue", Disaffection),
		out("This job is soul destroying, roll on Friday", Disaffection),
		out("Skiving off early, nobody will notice", Disaffection),
		out("Senior management are clueless as usual", Disaffection),
		out("Worst place to work in the county, honestly", Disaffection),
		out("Counting down the days till I can quit", Disaffection),
		out("Not paid enough to deal with this nonsense", Disaffection),
		out("the bosses couldn't organise a piss up in a brewery", Disaffection),
		out("Ringing in sick, too snowy lol", Disaffection),
		out("I hate this job so much", Disaffection),
		out("Our glorious leaders have, in their infinite wisdom, cancelled the Christmas do", Disaffection),
		out("Whoever designed the new rota has never worked a weekend in their life", Disaffection),
		out("Five o'clock can't come soon enough", Disaffection),
		out("Mentally checked out already and it's only Tuesday", Disaffection),
		out("Some of us actually do our jobs round here", Disaffection),
		out("Wish I'd never taken this job", Disaffection),
		out("Another all-staff email about how valued we are. Pay rise? Didn't think so", Disaffection),
	},
	"disaffection safe": {
		out("A typical day for our gritting team: out at 4am, home at noon."),
		out("Nothing says Christmas like our staff carol concert!"),
		out("Our team won the award for the fifth year running."),
		out("Didn't think so? Come and see the new library for yourself."),
	},
	"safeguarding": {
		inc("My partner hit me again last night and I'm scared to go home", Safeguarding),
		inc("I can't go on like this, there's no point anymore", Safeguarding),
		inc("My dad has dementia and hasn't been seen since Monday", Safeguarding),
		inc("The old man at number 5 has had no heating for a week", Safeguarding),
		inc("There's a little girl left home alone next door", Safeguarding),
		inc("Elderly neighbour has had a fall and nobody has checked on her", Safeguarding),
		inc("A teenager is sleeping rough outside the library", Safeguarding),
		inc("My mum's carers haven't come for two days and she can't get up", Safeguarding),
		inc("I think the boy next door is being hit, he has bruises on his arms", Safeguarding),
		inc("Some bloke keeps taking pictures of kids at the park", Safeguarding),
		inc("I want to kill myself", Safeguarding),
		inc("My grandad's boiler is broken and he's 94", Safeguarding),
		inc("my sister has bruises she says are from falling over", Safeguarding),
		inc("my uncle told me not to tell my mum what he does", Safeguarding),
		inc("been thinking about taking all my pills at once", Safeguarding),
		inc("her boyfriend shoved her into the wall", Safeguarding),
		inc("A coach at my son's club keeps buying him presents", Safeguarding),
	},
	"safeguarding safe": {
		inc("My elderly dad is fine, the carer got through, thanks"),
		inc("My gran lives alone, can she get an assisted bin collection?"),
		inc("Is the children's centre open today?"),
		inc("When will the heating be fixed at the leisure centre?"),
		inc("Can I book a welfare rights appointment?"),
		inc("My mum would like a copy of the winter leaflet."),
		inc("I can't go on the website, it keeps crashing"),
		inc("Can the bins be taken in after collection? They're still out"),
	},
	"ordinary posts": {
		out("Snow clearance volunteers: thank you, you are amazing!"),
		out("All schools in the Abbey ward are open today."),
		out("Bin crews are working Saturday to catch up."),
		out("The A1 is closed southbound after a collision."),
		out("Gritting routes 1 to 6 were treated at 4am."),
		out("Libraries will close at 4pm on Christmas Eve."),
		out("We're sorry for the delay to your collection."),
		out("Please check on elderly neighbours during the cold snap."),
		out("Our teams are clearing fallen trees on the B6277."),
		out("Thank you to everyone who reported potholes this week."),
		inc("Thank you gritting team, brilliant work!"),
		inc("Why hasn't my road been gritted? It's a disgrace."),
		inc("Has the council been run over budget again?"),
	},
}

func TestScreenCases(t *testing.T) {
	s := newTestScreener(t)
	n := 0
	for name, cases := range screenCases {
		for _, c := range cases {
			n++
			opts := Options{PreElection: c.pe}
			if c.in {
				opts.Context = Incoming
			}
			r := s.Screen(context.Background(), c.text, opts)
			if len(c.want) == 0 {
				if r.Risky {
					t.Errorf("%s: %q: want not risky, got %v", name, c.text, r.Findings)
				}
				continue
			}
			if !r.Risky {
				t.Errorf("%s: %q: want risky %v, got not risky %v", name, c.text, c.want, r.Findings)
				continue
			}
			for _, w := range c.want {
				if !contains(r.Categories, w) {
					t.Errorf("%s: %q: want %s, got %v %v", name, c.text, w, r.Categories, r.Findings)
				}
			}
		}
	}
	t.Logf("%d cases", n)
}

func TestSpansAreOriginalText(t *testing.T) {
	s := newTestScreener(t)
	for _, text := range []string{
		"Ｗhat the ｆｕｃｋ", "é f*ck é", "s h i t", "Call Mrs Ahmed on 07911 123456", "ѕhite ѕhite",
		"NI AB 12 34 56 C", "I'll burn the depot", "pass: £££ password is hunter2",
	} {
		r := s.Screen(context.Background(), text, Options{})
		if len(r.Findings) == 0 {
			t.Errorf("%q: no findings", text)
		}
		for _, f := range r.Findings {
			if f.Start < 0 || f.End > len(text) || f.Start >= f.End || text[f.Start:f.End] != f.Text ||
				!utf8.ValidString(f.Text) || !utf8.RuneStart(text[f.Start]) {
				t.Errorf("%q: bad span %+v", text, f)
			}
		}
	}
}

func TestSpanCoversWord(t *testing.T) {
	s := newTestScreener(t)
	tests := []struct{ text, want string }{
		{"Roads are f*cked round Castle", "f*cked"},
		{"c r a p weather", "c r a p"},
		{"absolute ѕhite", "ѕhite"},
		{"ring 07911 123456 today", "07911 123456"},
		{"email angela.d.smith@hotmail.co.uk now", "angela.d.smith@hotmail.co.uk"},
	}
	for _, tt := range tests {
		r := s.Screen(context.Background(), tt.text, Options{})
		found := false
		for _, f := range r.Findings {
			if f.Text == tt.want {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: no finding with text %q: %v", tt.text, tt.want, r.Findings)
		}
	}
}

func TestSafeguardingOnlyIncomingAndEscalates(t *testing.T) {
	s := newTestScreener(t)
	text := "I can't cope any more, I keep thinking about ending it"
	r := s.Screen(context.Background(), text, Options{Context: Incoming})
	if !contains(r.Categories, Safeguarding) || !r.Escalate {
		t.Fatalf("incoming: want safeguarding and escalate, got %v", r)
	}
	for _, f := range r.Findings {
		if f.Category == Safeguarding && !strings.Contains(strings.ToLower(f.Suggestion), "escalate") {
			t.Errorf("suggestion %q does not say to escalate", f.Suggestion)
		}
	}
	r = s.Screen(context.Background(), text, Options{Context: Outgoing})
	if contains(r.Categories, Safeguarding) {
		t.Errorf("outgoing: safeguarding reported: %v", r)
	}
}

func TestPolicy(t *testing.T) {
	p, err := ParsePolicy([]byte(`
categories:
  profanity: {enabled: false}
  political: {severity: high}
allow:
  phones: ["07700 900123"]
  email_domains: ["northdale.org.uk"]
  officials: ["Jane Morris"]
terms:
  confidential: ["project bluebird"]
pre_election:
  - {from: 2027-03-22, to: 2027-05-06}
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := time.Date(2027, 4, 1, 12, 0, 0, 0, time.UTC)
	outside := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		text string
		now  time.Time
		want Severity
	}{
		{"what the fuck", outside, None},                                  // profanity disabled
		{"Call 07700 900123 for the depot", outside, None},                // allow-listed phone
		{"Call Dave on 07700 900999 tonight", outside, High},              // not allow-listed
		{"write to s.jones@northdale.org.uk", outside, None},              // own domain
		{"Project Bluebird starts soon", outside, High},                   // extra term
		{"Jane Morris opened the brilliant new library", in, High},        // official, pre-election, severity high
		{"Jane Morris opened the brilliant new library", outside, None},   // not pre-election
		{"Cllr Jones has done brilliant work this winter", in, High},      // dated period
		{"Cllr Jones has done brilliant work this winter", outside, None}, // outside it
	}
	for _, tt := range tests {
		r := s.Screen(ctx, tt.text, Options{Now: tt.now})
		if r.Level != tt.want {
			t.Errorf("%q at %s: level %s, want %s (%v)", tt.text, tt.now.Format(time.DateOnly), r.Level, tt.want, r.Findings)
		}
	}
}

func TestParsePolicyErrors(t *testing.T) {
	for _, in := range []string{
		"categories: {nonsense: {enabled: true}}",
		"categories: {abuse: {severity: extreme}}",
		"colour: blue",
		"allow: {phones: ['x']}",
		"allow: {email_domains: ['a b']}",
		"terms: {profanity: ['bad!word']}",
		"terms: {nonsense: ['x']}",
		"pre_election: [{from: 2027-05-06, to: 2027-03-01}]",
		"pre_election: [{from: tomorrow, to: 2027-03-01}]",
		"categories: [1, 2",
	} {
		if _, err := ParsePolicy([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestDefaultPolicyRoundTrip(t *testing.T) {
	p, err := ParsePolicy(DefaultPolicyYAML())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Categories() {
		if !p.Categories[c].isEnabled() || p.Categories[c].Severity == None {
			t.Errorf("%s: default should be enabled with a severity", c)
		}
	}
}

func TestValidNHS(t *testing.T) {
	tests := []struct {
		n    string
		want bool
	}{
		{"9458073022", true}, {"9434765919", true}, {"4010232137", true},
		{"9458073023", false}, {"1234567890", false}, {"0000000000", false}, {"12345", false},
	}
	for _, tt := range tests {
		if got := validNHS([]byte(tt.n)); got != tt.want {
			t.Errorf("validNHS(%s) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestReadNI(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"AB123456C", true}, {"AB 12 34 56 C", true}, {"JH472981B", true}, {"AB123456", true},
		{"DA123456A", false}, {"AD123456A", false}, {"AO123456A", false}, {"GB123456A", false},
		{"ZZ123456A", false}, {"NT123456A", false}, {"AB12345", false}, {"QQ123456C", false},
	}
	for _, tt := range tests {
		_, ok := readNI(tt.s, 0)
		if ok != tt.want {
			t.Errorf("readNI(%q) = %v, want %v", tt.s, ok, tt.want)
		}
	}
}

func TestConcurrentScreens(t *testing.T) {
	s := newTestScreener(t)
	ex := loadDevset(t)
	want := make([]Report, len(ex))
	for i, e := range ex {
		want[i] = s.Screen(context.Background(), e.Text, Options{})
	}
	done := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func() {
			for i, e := range ex {
				if got := s.Screen(context.Background(), e.Text, Options{}); got.String() != want[i].String() {
					done <- &mismatch{e.Text}
					return
				}
			}
			done <- nil
		}()
	}
	for w := 0; w < 4; w++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

type mismatch struct{ text string }

func (m *mismatch) Error() string { return "concurrent screen differs for " + m.text }

func FuzzScreen(f *testing.F) {
	for _, e := range []string{"f*ck", "s h i t", "Call 07911 123456", "AB 12 34 56 C", "x@y.com", "ND2 1HT", "12/05/1979", "ｆｕｃｋ", "I'll", "'s", "a.b.c.d", "\xff\xfe", "**", "NI", "@", "$$$"} {
		f.Add(e, false)
	}
	f.Add("01/01#0\x8f00", true) // a stray continuation byte after a span
	s, err := New(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string, incoming bool) {
		opts := Options{}
		if incoming {
			opts.Context = Incoming
		}
		r := s.Screen(context.Background(), text, opts)
		// Boundaries as range decodes them, which also defines them for
		// invalid UTF-8 (each bad byte is one rune).
		boundary := map[int]bool{len(text): true}
		for i := range text {
			boundary[i] = true
		}
		for _, fd := range r.Findings {
			if fd.Start < 0 || fd.End > len(text) || fd.Start >= fd.End {
				t.Fatalf("span %d-%d outside %d bytes", fd.Start, fd.End, len(text))
			}
			if text[fd.Start:fd.End] != fd.Text {
				t.Fatalf("text %q != %q", fd.Text, text[fd.Start:fd.End])
			}
			if !boundary[fd.Start] || !boundary[fd.End] {
				t.Fatalf("span %d-%d not on rune boundaries in %q", fd.Start, fd.End, text)
			}
		}
		if r.Risky != (r.Level >= Medium) {
			t.Fatalf("risky %v with level %s", r.Risky, r.Level)
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	f.Add(string(DefaultPolicyYAML()))
	f.Add("terms: {profanity: ['x*', '? y']}")
	f.Add("pre_election: [{from: 2027-03-01, to: 2027-05-06}]")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePolicy([]byte(in))
		if err != nil {
			return
		}
		if _, err := New(p); err != nil {
			t.Fatalf("parsed policy rejected by New: %v", err)
		}
	})
}

// firstAtMarks must find exactly what searching for each mark finds, or
// spelled-out addresses would be missed.
func TestFirstAtMarks(t *testing.T) {
	texts := []string{
		"", "@", "at", " at", " at ", "at the hall", "that", "meet at 6 at the hall",
		"priya [at] hotmail", "(at", "x (at) y {at} z", "d.hughes77 @ icloud . com",
		"cat(at)dog@home at ", "at[at]", "{at}", "what at?",
	}
	texts = append(texts, benchCorpus(1<<12)...)
	for _, text := range texts {
		got := firstAtMarks(text)
		for m, mark := range atMarks {
			if want := strings.Index(text, mark); got[m] != want {
				t.Errorf("firstAtMarks(%q)[%q] = %d, want %d", text, mark, got[m], want)
			}
		}
	}
}
