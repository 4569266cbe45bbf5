// Package shifttest generates contact-centre data with a known
// channel-shift effect, so that tests and benchmarks anywhere in Signpost
// can check the estimator recovers what was put in and time it on data of
// any size.
package shifttest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/signpost-uk/signpost/shift"
)

// Truth is what a generated campaign really did, in expectation.
type Truth struct {
	AvoidedCalls float64
	AddedDigital float64
}

// Scenario describes synthetic contact-centre data with a known campaign
// effect, so that tests can check the estimate recovers what was put in.
type Scenario struct {
	Name           string
	Seed           uint64
	From           time.Time
	Years          int
	CampStart      time.Time
	CampDays       int
	Categories     []string
	Targeted       []string
	Channels       []string // the first must be "phone"
	Base           float64  // calm-day phone calls per category on a weekday
	Uplift         float64  // extra calls per severity step, as a multiple of base
	Shift          float64  // share of weather-driven calls moved off the phone
	DigitalTake    float64  // share of moved calls that reappear as digital contacts
	Trend          float64  // yearly change in routine phone calls
	Multiplicative bool     // weather multiplies demand instead of adding to it
}

// Generate returns the data and what the campaign truly did.
func (s Scenario) Generate() (shift.Data, Truth) {
	rng := rand.New(rand.NewPCG(s.Seed, 99))
	var d shift.Data
	end := s.CampStart.AddDate(0, 0, s.CampDays-1)
	d.Campaigns = []shift.Campaign{{Name: s.Name, Start: s.CampStart, End: end, Categories: s.Targeted}}
	targeted := map[string]bool{}
	for _, c := range s.Targeted {
		targeted[c] = true
	}
	last := s.From.AddDate(s.Years, 0, 0)
	if last.Before(end) {
		last = end
	}
	sev := 0
	var avoided, added float64
	for day := s.From; !day.After(last); day = day.AddDate(0, 0, 1) {
		m := day.Month()
		winter := m >= time.November || m <= time.March
		// Weather persists: a bad day is often followed by another.
		if !winter {
			sev = 0
		} else if rng.Float64() < 0.5 {
			r := rng.Float64()
			switch {
			case r < 0.70:
				sev = 0
			case r < 0.88:
				sev = 1
			case r < 0.96:
				sev = 2
			default:
				sev = 3
			}
		}
		d.Weather = append(d.Weather, shift.Weather{Date: day, Severity: sev})
		years := day.Sub(s.From).Hours() / 24 / 365.25
		inCamp := !day.Before(s.CampStart) && !day.After(end)
		wd := day.Weekday()
		for ci, cat := range s.Categories {
			catBase := s.Base * (1 + 0.5*float64(ci))
			routine := catBase * math.Exp(s.Trend*years)
			weather := catBase * s.Uplift * float64(sev)
			if s.Multiplicative {
				weather = routine * (math.Pow(1+s.Uplift, float64(sev)) - 1)
			}
			moved := 0.0
			if inCamp && targeted[cat] {
				moved = s.Shift * weather
			}
			for _, ch := range s.Channels {
				dow := 1.0
				switch {
				case wd == time.Saturday:
					dow = 0.45
				case wd == time.Sunday && (ch == "phone" || ch == "face-to-face"):
					dow = 0
				case wd == time.Sunday:
					dow = 0.7
				}
				var mu float64
				switch ch {
				case "phone":
					mu = dow * (routine + weather - moved)
					avoided += dow * moved
				case "face-to-face":
					mu = dow * catBase * 0.05
				default: // digital channels share the digital demand
					share := 1 / float64(s.digitalChannels())
					dig := catBase * 0.1 * math.Exp(0.08*years)
					mu = dow * share * (dig + 0.1*weather + s.DigitalTake*moved)
					added += dow * share * s.DigitalTake * moved
				}
				d.Contacts = append(d.Contacts, shift.Contact{Date: day, Channel: ch, Category: cat, Count: poisson(rng, mu)})
			}
		}
	}
	d.Costs = shift.DefaultCosts()
	return d, Truth{AvoidedCalls: avoided, AddedDigital: added}
}

func (s Scenario) digitalChannels() int {
	n := 0
	for _, ch := range s.Channels {
		if shift.IsDigital(ch, "phone") {
			n++
		}
	}
	return n
}

// poisson draws a Poisson count: Knuth's method for small means and a
// rounded normal approximation for large ones, which is plenty for tests.
func poisson(rng *rand.Rand, mu float64) int {
	if mu <= 0 {
		return 0
	}
	if mu > 50 {
		return max(0, int(math.Round(mu+math.Sqrt(mu)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-mu), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// Date is midnight UTC on a calendar day.
func Date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Bench is 10 years × 20 categories × 6 channels of daily counts.
func Bench() shift.Data {
	cats := make([]string, 20)
	for i := range cats {
		cats[i] = fmt.Sprintf("category-%02d", i)
	}
	s := Scenario{Name: "bench", Seed: 7, From: Date(2016, 1, 1), Years: 10, CampStart: Date(2025, 11, 1), CampDays: 120,
		Categories: cats, Targeted: cats,
		Channels: []string{"phone", "web", "social", "email", "app", "face-to-face"}, Base: 80, Uplift: 2, Shift: 0.3, DigitalTake: 0.4, Trend: -0.02}
	d, _ := s.Generate()
	return d
}
