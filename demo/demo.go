// Package demo loads the fictional Northdale council and a snow-day
// scenario of notices, so `signpost serve --demo` shows a working hub on a
// fresh machine with no configuration. The data files are an embedded copy
// of shared/northdale; the scenario is built from whatever those files hold,
// so it picks its schools, routes and rounds rather than naming them.
package demo

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/importer"
	"github.com/signpost-uk/signpost/store"
)

//go:embed northdale
var files embed.FS

// Council is the demo council's name.
const Council = "Northdale Council"

// Postcode is a postcode in the demo data, for examples and benchmarks.
const Postcode = "ND1 1BX"

// places lists the files in the order their references need.
var places = []struct{ kind, file string }{
	{"wards", "wards.csv"},
	{"postcodes", "postcodes.csv"},
	{"schools", "schools.csv"},
	{"routes", "gritting-routes.geojson"},
	{"rounds", "bin-rounds.csv"},
}

// Load imports Northdale's places and, when the database holds no notices
// yet, the snow-day scenario dated today (in the council's time zone).
// Loading twice changes nothing.
func Load(ctx context.Context, db *store.DB, now time.Time) error {
	for _, p := range places {
		data, err := files.ReadFile("northdale/" + p.file)
		if err != nil {
			return err
		}
		src := &importer.Source{Name: "northdale/" + p.file, Reader: bytes.NewReader(data)}
		if _, err := importer.Import(ctx, db, p.kind, src); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	existing, err := db.Notices(ctx, signpost.NoticeFilter{IncludeClosed: true, Limit: 1})
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return nil
	}
	return snowDay(ctx, db, now)
}

// snowDay publishes the notices a council would have out by 7am on a snow
// day, some with later revisions, in the order they would be written.
func snowDay(ctx context.Context, db *store.DB, now time.Time) error {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		london = time.UTC
	}
	local := now.In(london)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, london)
	endOfDay := day.Add(24*time.Hour - time.Second)
	tomorrow := day.Add(24 * time.Hour)

	schools, err := db.Schools(ctx)
	if err != nil {
		return err
	}
	routes, err := db.Routes(ctx)
	if err != nil {
		return err
	}
	rounds, err := db.Rounds(ctx)
	if err != nil {
		return err
	}
	wards, err := db.Wards(ctx)
	if err != nil {
		return err
	}
	if len(schools) == 0 || len(routes) == 0 || len(rounds) == 0 || len(wards) == 0 {
		return fmt.Errorf("demo: places missing")
	}
	wardName := map[string]string{}
	for _, w := range wards {
		wardName[w.Code] = w.Name
	}

	var out []step
	// Gritting first: the overnight crews report in before anyone else.
	sort.SliceStable(routes, func(i, j int) bool { return routes[i].Priority < routes[j].Priority })
	for i, r := range routes {
		place := []signpost.PlaceRef{{Kind: signpost.PlaceRoute, ID: r.ID}}
		switch {
		case r.Priority == 1 || i < len(routes)*6/10:
			out = append(out, step{in: signpost.NoticeInput{
				Category: signpost.CategoryRoads, Status: signpost.StatusGrittingInProgress, Places: place,
				Headline: r.Name + ": gritting under way",
				Body:     fmt.Sprintf("Gritters are treating %s (%.1f km). Please give them room and do not overtake while they are spreading.", r.Name, r.LengthKM),
				Starts:   &day,
			}, then: &signpost.NoticeInput{
				Category: signpost.CategoryRoads, Status: signpost.StatusGritted, Places: place,
				Headline: r.Name + ": gritted",
				Body:     fmt.Sprintf("%s was treated overnight. Gritted roads can still be icy: drive slowly and leave extra room.", r.Name),
				Starts:   &day, Ends: &endOfDay,
			}})
		case r.Priority == 2:
			out = append(out, step{in: signpost.NoticeInput{
				Category: signpost.CategoryRoads, Status: signpost.StatusGrittingInProgress, Places: place,
				Headline: r.Name + ": gritting under way",
				Body:     fmt.Sprintf("%s is being treated now and should be finished by 9am.", r.Name),
				Starts:   &day,
			}})
		}
	}

	// Schools: head teachers phone in closures from about 6am.
	closed := 0
	for i, s := range schools {
		place := []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: s.URN}}
		contact := ""
		if s.Phone != "" {
			contact = " For updates call the school on " + s.Phone + "."
		}
		switch i % 3 {
		case 0:
			closed++
			out = append(out, step{in: signpost.NoticeInput{
				Category: signpost.CategorySchools, Status: signpost.StatusClosed, Places: place,
				Headline: s.Name + " is closed today",
				Body:     fmt.Sprintf("%s is closed today because of snow and ice on the roads and paths around the school. Remote learning will be set through the usual app.%s", s.Name, contact),
				Starts:   &day, Ends: &endOfDay,
			}})
		case 1:
			if i%2 == 1 {
				out = append(out, step{in: signpost.NoticeInput{
					Category: signpost.CategorySchools, Status: signpost.StatusDelayed, Places: place,
					Headline: s.Name + " opens at 10am",
					Body:     fmt.Sprintf("%s will open late, at 10am, so staff can clear the paths. Breakfast club is cancelled.%s", s.Name, contact),
					Starts:   &day, Ends: &endOfDay,
				}, then: &signpost.NoticeInput{
					Category: signpost.CategorySchools, Status: signpost.StatusPartiallyOpen, Places: place,
					Headline: s.Name + " is partially open",
					Body:     fmt.Sprintf("%s is open for some year groups only. Parents have been sent details by text message.%s", s.Name, contact),
					Starts:   &day, Ends: &endOfDay,
				}})
			}
		}
	}

	// Bins: today's rounds are postponed, tomorrow's go ahead if it thaws.
	var postponed []string
	for _, r := range rounds {
		if r.Day != local.Weekday() {
			continue
		}
		postponed = append(postponed, r.ID)
		out = append(out, step{in: signpost.NoticeInput{
			Category: signpost.CategoryWaste, Status: signpost.StatusCancelled,
			Places:   []signpost.PlaceRef{{Kind: signpost.PlaceRound, ID: r.ID}},
			Headline: fmt.Sprintf("%s collections in %s postponed", local.Weekday(), wardName[r.WardCode]),
			Body:     fmt.Sprintf("Crews cannot reach %s safely today. Please leave your %s bins out: we will collect them as soon as the roads allow, and extra bags beside them will be taken next time.", wardName[r.WardCode], strings.Join(r.Streams, " and ")),
			Starts:   &day, Ends: &tomorrow,
		}})
	}
	if len(postponed) == 0 {
		out = append(out, step{in: signpost.NoticeInput{
			Category: signpost.CategoryWaste, Status: signpost.StatusDelayed,
			Places:   []signpost.PlaceRef{{Kind: signpost.PlaceAll}},
			Headline: "Bin collections may run late",
			Body:     "Crews are working on gritted roads first. If your bin is not emptied today, leave it out and we will come back.",
			Starts:   &day, Ends: &endOfDay,
		}})
	}

	w1, w2 := wards[0], wards[len(wards)-1]
	out = append(out,
		step{in: signpost.NoticeInput{
			Category: signpost.CategoryTransport, Status: signpost.StatusCancelled,
			Places:   []signpost.PlaceRef{{Kind: signpost.PlaceWard, ID: w2.Code}},
			Headline: "School buses from " + w2.Name + " cancelled this morning",
			Body:     "Home-to-school transport from " + w2.Name + " is cancelled this morning. Afternoon runs will be confirmed by 12 noon.",
			Starts:   &day, Ends: &endOfDay,
		}},
		step{in: signpost.NoticeInput{
			Category: signpost.CategoryLibraries, Status: signpost.StatusClosed,
			Places:   []signpost.PlaceRef{{Kind: signpost.PlaceWard, ID: w1.Code}},
			Headline: w1.Name + " Library closed today",
			Body:     w1.Name + " Library is closed today. Loans due today will be renewed automatically and no fines will be charged.",
			Starts:   &day, Ends: &endOfDay,
		}},
		step{in: signpost.NoticeInput{
			Category: signpost.CategoryLeisure, Status: signpost.StatusPartiallyOpen,
			Places:   []signpost.PlaceRef{{Kind: signpost.PlaceWard, ID: w2.Code}},
			Headline: w2.Name + " Leisure Centre: pool only",
			Body:     "The pool is open from 10am. The gym and classes are cancelled today. Bookings will be refunded.",
			Starts:   &day, Ends: &endOfDay,
		}},
		step{in: signpost.NoticeInput{
			Category: signpost.CategoryHealth, Status: signpost.StatusInformation,
			Places:   []signpost.PlaceRef{{Kind: signpost.PlaceAll}},
			Headline: "Check on older neighbours",
			Body:     "If you can, check on older or vulnerable neighbours today. If someone is in danger call 999. For urgent medical help that is not an emergency, call NHS 111.",
			Starts:   &day, Ends: &tomorrow,
		}},
		step{in: signpost.NoticeInput{
			Category: signpost.CategoryOther, Status: signpost.StatusResumed,
			Places:   []signpost.PlaceRef{{Kind: signpost.PlaceAll}},
			Headline: "Council offices open as normal",
			Body:     "Customer service centres opened at 9am. You can also report problems and check disruption on this site at any time.",
			Starts:   &day,
		}, close: true},
	)

	// Spread the timestamps over the early morning so "last updated" reads
	// like a real snow day; later revisions come after every first version.
	clock := day.Add(4*time.Hour + 30*time.Minute)
	if clock.After(now) {
		clock = now.Add(-2 * time.Hour)
	}
	stepGap := time.Duration(0)
	if n := len(out); n > 0 {
		stepGap = now.Sub(clock) / time.Duration(2*n+1)
	}
	db.SetClock(func() time.Time { return clock })
	defer db.SetClock(time.Now)
	ids := make([]int64, len(out))
	for i, s := range out {
		clock = clock.Add(stepGap)
		n, err := db.CreateNotice(ctx, s.in)
		if err != nil {
			return fmt.Errorf("demo notice %q: %w", s.in.Headline, err)
		}
		ids[i] = n.ID
	}
	for i, s := range out {
		switch {
		case s.then != nil:
			clock = clock.Add(stepGap)
			if _, err := db.UpdateNotice(ctx, ids[i], *s.then); err != nil {
				return fmt.Errorf("demo update %q: %w", s.then.Headline, err)
			}
		case s.close:
			clock = clock.Add(stepGap)
			if _, err := db.CloseNotice(ctx, ids[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

type step struct {
	in    signpost.NoticeInput
	then  *signpost.NoticeInput // a later revision
	close bool                  // closed later in the morning
}
