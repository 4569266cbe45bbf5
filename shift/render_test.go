package shift

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

func northdaleReport(t *testing.T) *Report {
	t.Helper()
	r, err := Estimate(loadDir(t, "testdata"), "winter-page", Options{Draws: 300})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWriteFormats(t *testing.T) {
	r := northdaleReport(t)
	tests := []struct {
		format string
		check  func(t *testing.T, out []byte)
	}{
		{FormatJSON, func(t *testing.T, out []byte) {
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"campaign", "period", "avoided_calls", "by_category", "added_digital", "net_saving_gbp", "naive", "model", "warnings"} {
				if _, ok := m[k]; !ok {
					t.Errorf("JSON lacks %q", k)
				}
			}
			schools := m["by_category"].(map[string]any)["schools"].(map[string]any)
			for _, k := range []string{"estimate", "low", "high"} {
				if _, ok := schools[k].(float64); !ok {
					t.Errorf("by_category.schools.%s is %v, want a number", k, schools[k])
				}
			}
			net := m["net_saving_gbp"].(map[string]any)
			for _, k := range []string{"fully_loaded", "marginal"} {
				if _, ok := net[k].(map[string]any)["estimate"].(float64); !ok {
					t.Errorf("net_saving_gbp.%s has no estimate", k)
				}
			}
		}},
		{FormatCSV, func(t *testing.T, out []byte) {
			recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(recs[0], ","); got != "campaign,measure,category,channel,estimate,low,high" {
				t.Errorf("header %q", got)
			}
			found := false
			for _, rec := range recs {
				if rec[1] == "net_saving_gbp_marginal" {
					found = true
				}
			}
			if !found {
				t.Error("no marginal saving row")
			}
		}},
		{FormatText, func(t *testing.T, out []byte) {
			for _, want := range []string{"Calls avoided", "depends heavily", "Socitm", "The simple comparison", "Poisson regression", "bootstrap"} {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("text report lacks %q", want)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, r, tt.format); err != nil {
				t.Fatal(err)
			}
			tt.check(t, buf.Bytes())
		})
	}
	if err := Write(&bytes.Buffer{}, r, "pdf"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestSummary(t *testing.T) {
	r := &Report{Campaign: "winter-page", Categories: []string{"schools", "roads"}, Period: Period{"2025-12-01", "2026-03-31"},
		AvoidedCalls: Interval{5321, 4712, 5890}, AddedDigital: Interval{1200, 900, 1500},
		NetSaving: NetSaving{FullyLoaded: Interval{13000, 11040, 15120}, Marginal: Interval{5000, 4000, 6000}},
		Warnings:  []string{"a"}}
	got := Summary(r)
	for _, want := range []string{"avoided an estimated 5,300 calls (4,700 to 5,900)", "roads and schools", "£11,000 to £15,000 at fully-loaded cost", "depends heavily", "One caution"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	r.AvoidedCalls = Interval{300, -200, 800}
	if got := Summary(r); !strings.Contains(got, "includes zero") {
		t.Errorf("summary of an interval spanning zero does not say so:\n%s", got)
	}
}

func TestFormatCount(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{0, "0"}, {999.4, "999"}, {1000, "1,000"}, {-22348.2, "−22,348"}, {1234567, "1,234,567"}}
	for _, tt := range tests {
		if got := formatCount(tt.in); got != tt.want {
			t.Errorf("formatCount(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
