package risk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	goaway "github.com/TwiN/go-away"
)

// The benchmark corpus: posts a council's comms team and residents write on
// a snow day, generated deterministically from templates so every run
// screens the same bytes. About one post in eight is risky.
var (
	benchPlaces  = []string{"Abbey", "Castle", "Eastfield", "Fellside", "Harbour", "Brookside", "Moor Park", "Westgate", "Scunthorpe Road", "Essex Street", "Cockermouth Close", "Middlesex Road"}
	benchRoads   = []string{"A167", "B6277", "Mill Lane", "Station Road", "the ring road", "Fell Road", "Dickens Road", "Hancock Way", "the bypass", "Canal towpath"}
	benchSchools = []string{"Fellside Primary", "Harbour Primary", "Brookside Academy", "St Mary's RC Primary", "Northdale High"}
	benchNames   = []string{"Sophie", "Jayden", "Amira", "Tom Birch", "Mrs Okafor", "Mr Patel", "Karen Lowe", "Dave"}
	benchSafe    = []string{
		"Gritters are out on all priority routes in %[1]s tonight; %[2]s was treated at %[3]d:%[4]02dam.",
		"%[5]s is closed today because of snow. Check our website for updates before setting off.",
		"Bins in %[1]s will be collected on Saturday instead of Friday. Please leave them out by 7am.",
		"Thank you to the volunteers who cleared %[2]s this morning, you are amazing!",
		"Is %[5]s open today? My daughter's bus hasn't turned up at %[1]s.",
		"Contact us on 0300 123 4567 or email winter@northdale.gov.uk for help with gritting.",
		"The classic car show at %[1]s showground is cancelled; the cocktail evening goes ahead.",
		"Kill the engine while you wait outside %[5]s, idling pollutes the air our children breathe.",
		"Frost killed the weeds on the %[1]s allotments, every cloud has a silver lining...",
		"Planning reference 25/0%[3]d183/FUL for land at %[2]s will be decided at committee next month.",
		"Our assessment team will visit once %[2]s is safe. We're sorry for the delay to your repair.",
		"Libraries in %[1]s and Westgate close at 4pm on Christmas Eve and reopen on 2 January.",
		"Please check on elderly neighbours during the cold snap and call 0800 123 456 for winter fuel advice.",
		"Can I get a grit bin for our street? %[2]s is like an ice rink from number %[3]d up.",
		"Councillors will debate the winter service review in public on Tuesday at 6pm in the Town Hall.",
		"We do not tolerate abuse of our staff. The hate crime reporting line is open 24 hours.",
	}
	benchRisky = []string{
		"Roads are f*cked round %[1]s today, absolute sh1te gritting",
		"Patient %[6]s, NHS no. 9458073022, missed her dialysis because the ambulance couldn't reach %[2]s",
		"Please call %[6]s back on 07911 12345%[3]d about the missed collection",
		"The alarm code for the %[1]s depot is 25%[3]d0, don't tell anyone",
		"Year 6 at %[5]s this afternoon: a room full of inbreds who can't spell their own names",
		"Can't be arsed with this job any more, counting the days",
		"Vote Labour this Thursday to keep our libraries in %[1]s open",
		"I'll smash the depot windows myself if %[2]s isn't gritted by tonight",
		"My gran lives alone on %[2]s and hasn't answered the phone for two days",
		"OFFICIAL-SENSITIVE: list of properties in %[1]s for demolition, do not forward",
	}
)

// benchCorpus returns posts totalling at least size bytes.
func benchCorpus(size int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	var posts []string
	total := 0
	for total < size {
		tmpl := benchSafe[r.IntN(len(benchSafe))]
		if r.IntN(8) == 0 {
			tmpl = benchRisky[r.IntN(len(benchRisky))]
		}
		p := fmt.Sprintf(tmpl, benchPlaces[r.IntN(len(benchPlaces))], benchRoads[r.IntN(len(benchRoads))],
			1+r.IntN(9), r.IntN(60), benchSchools[r.IntN(len(benchSchools))], benchNames[r.IntN(len(benchNames))])
		// Some posts are longer threads: repeat with a follow-up.
		if r.IntN(4) == 0 {
			p += " Update: " + fmt.Sprintf(benchSafe[r.IntN(len(benchSafe))], benchPlaces[r.IntN(len(benchPlaces))], benchRoads[r.IntN(len(benchRoads))], 1+r.IntN(9), r.IntN(60), benchSchools[r.IntN(len(benchSchools))], benchNames[r.IntN(len(benchNames))])
		}
		posts = append(posts, p)
		total += len(p)
	}
	return posts
}

// posts280 cuts or pads posts to 280 bytes on a rune boundary, the length
// of a long social-media post.
func posts280(posts []string, n int) []string {
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		p := posts[i%len(posts)]
		for len(p) < 280 {
			p += " " + posts[(i+len(out)+7)%len(posts)]
		}
		cut := 280
		for cut < len(p) && !utf8.RuneStart(p[cut]) {
			cut--
		}
		out = append(out, p[:cut])
	}
	return out
}

const benchCorpusBytes = 50 << 20

// BenchmarkScreen screens the 50 MB corpus with the full nine-category
// screen and with go-away, and reports our p99 latency for 280-byte posts.
// Run it with:
//
//	go test -run='^$' -bench=Screen -benchtime=3x ./risk
func BenchmarkScreen(b *testing.B) {
	posts := benchCorpus(benchCorpusBytes)
	total := 0
	for _, p := range posts {
		total += len(p)
	}
	s, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	perOp := map[string]time.Duration{}

	cpuPerOp := map[string]time.Duration{}
	run := func(name string, screen func(string) bool) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0, cpuOK := threadCPU()
			start := time.Now()
			flagged := 0
			for b.Loop() {
				flagged = 0
				for _, p := range posts {
					if screen(p) {
						flagged++
					}
				}
			}
			perOp[name] = time.Since(start) / time.Duration(b.N)
			if cpu1, ok := threadCPU(); ok && cpuOK {
				// CPU time of the screening thread: MB/s per core even when
				// other work shares the machine.
				cpu := (cpu1 - cpu0) / time.Duration(b.N)
				cpuPerOp[name] = cpu
				b.ReportMetric(float64(total)/cpu.Seconds()/1e6, "MB/cpu-s")
			}
			b.ReportMetric(float64(flagged)/float64(len(posts))*100, "%flagged")
			if name != "go-away" && perOp["go-away"] > 0 {
				// How many times faster than go-away: >1 means faster.
				b.ReportMetric(perOp["go-away"].Seconds()/perOp[name].Seconds(), "x-go-away-wall")
				if cpuPerOp["go-away"] > 0 && cpuPerOp[name] > 0 {
					b.ReportMetric(cpuPerOp["go-away"].Seconds()/cpuPerOp[name].Seconds(), "x-go-away-cpu")
				}
			}
		})
	}
	// go-away first, so the signpost run can report the ratios as metrics.
	gaDetector := goaway.NewProfanityDetector()
	run("go-away", gaDetector.IsProfane)
	run("signpost", func(p string) bool { return s.Screen(ctx, p, Options{}).Risky })

	b.Run("signpost-280-latency", func(b *testing.B) {
		short := posts280(posts, 20000)
		lat := make([]time.Duration, 0, len(short))
		b.SetBytes(int64(280 * len(short)))
		for b.Loop() {
			lat = lat[:0]
			for _, p := range short {
				t0 := time.Now()
				s.Screen(ctx, p, Options{})
				lat = append(lat, time.Since(t0))
			}
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs/post")
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs/post")
	})
	if ours, theirs := perOp["signpost"], perOp["go-away"]; ours > 0 && theirs > 0 {
		b.Logf("corpus %d posts, %.1f MB; wall clock: signpost %.1f MB/s, go-away %.1f MB/s, ratio %.1f× (finnbear/moderation: not available from the module proxy)",
			len(posts), float64(total)/1e6, float64(total)/ours.Seconds()/1e6, float64(total)/theirs.Seconds()/1e6, theirs.Seconds()/ours.Seconds())
	}
	if ours, theirs := cpuPerOp["signpost"], cpuPerOp["go-away"]; ours > 0 && theirs > 0 {
		b.Logf("per core (thread CPU time): signpost %.1f MB/s, go-away %.1f MB/s, ratio %.1f×",
			float64(total)/ours.Seconds()/1e6, float64(total)/theirs.Seconds()/1e6, theirs.Seconds()/ours.Seconds())
	}
}

// TestCompareLibrariesOnDevset reports, for the offence-type categories the
// profanity libraries aim at (profanity, abuse, discrimination), each
// library's verdicts on the development set beside ours.
func TestCompareLibrariesOnDevset(t *testing.T) {
	s := newTestScreener(t)
	offence := func(cs []Category) bool {
		return contains(cs, Profanity) || contains(cs, Abuse) || contains(cs, Discrimination)
	}
	ga := goaway.NewProfanityDetector()
	var ours, theirs Counts
	var risky Counts
	for _, e := range loadDevset(t) {
		dir, _ := ParseDirection(e.Context)
		r := s.Screen(context.Background(), e.Text, Options{Context: dir, PreElection: e.PreElection})
		want := offence(e.Categories)
		ours.add(want, offence(r.Categories))
		g := ga.IsProfane(e.Text)
		theirs.add(want, g)
		risky.add(e.Risky, g)
		if g != want {
			t.Logf("go-away says profane=%v, labelled offence=%v: %q", g, want, e.Text)
		}
	}
	t.Logf("offence categories: signpost precision %.3f recall %.3f F1 %.3f; go-away precision %.3f recall %.3f F1 %.3f",
		ours.Precision(), ours.Recall(), ours.F1(), theirs.Precision(), theirs.Recall(), theirs.F1())
	t.Logf("go-away as a whole-risk screen: precision %.3f recall %.3f", risky.Precision(), risky.Recall())
	if ours.F1() < theirs.F1() {
		t.Errorf("signpost F1 %.3f is below go-away's %.3f on offence categories", ours.F1(), theirs.F1())
	}
}

func TestBenchCorpusIsDeterministic(t *testing.T) {
	a, b := benchCorpus(1<<16), benchCorpus(1<<16)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Error("corpus differs between runs")
	}
	for _, p := range posts280(a, 50) {
		if len(p) > 280 || len(p) < 276 || !utf8.ValidString(p) {
			t.Errorf("280-byte post has %d bytes", len(p))
		}
	}
}
