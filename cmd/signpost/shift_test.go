package main

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
)

func TestShiftReportFromImports(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, kind := range []string{"weather", "contacts", "costs", "campaigns"} {
		c.must("import", "--quiet", kind, filepath.Join("..", "..", "shift", "testdata", kind+".csv"))
	}
	if out := c.must("shift", "campaigns"); !strings.Contains(out, "winter-page") || !strings.Contains(out, "schools;roads;waste") {
		t.Errorf("campaigns:\n%s", out)
	}
	var r struct {
		Campaign     string `json:"campaign"`
		AvoidedCalls struct {
			Estimate, Low, High float64
		} `json:"avoided_calls"`
		ByCategory map[string]struct{ Estimate float64 } `json:"by_category"`
		NetSaving  struct {
			FullyLoaded struct{ Estimate float64 } `json:"fully_loaded"`
			Marginal    struct{ Estimate float64 } `json:"marginal"`
		} `json:"net_saving_gbp"`
		Warnings []string `json:"warnings"`
	}
	out := c.must("shift", "report", "--campaign", "winter-page", "--format", "json", "--draws", "200")
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Campaign != "winter-page" || r.AvoidedCalls.Estimate < 20000 || r.AvoidedCalls.Estimate > 25000 || r.AvoidedCalls.Low >= r.AvoidedCalls.High {
		t.Errorf("report = %+v", r)
	}
	if len(r.ByCategory) != 3 || r.NetSaving.FullyLoaded.Estimate <= r.NetSaving.Marginal.Estimate {
		t.Errorf("by category %v, net saving %v", r.ByCategory, r.NetSaving)
	}
	recs, err := csv.NewReader(strings.NewReader(c.must("shift", "report", "--campaign", "winter-page", "--format", "csv", "--draws", "200"))).ReadAll()
	if err != nil || len(recs) < 10 || recs[1][1] != "avoided_calls" {
		t.Errorf("csv report: %v %v", err, recs)
	}
	if out := c.must("shift", "report", "--campaign", "winter-page", "--draws", "200"); !strings.Contains(out, "depends heavily") {
		t.Errorf("text report lacks the cost-basis warning:\n%s", out)
	}
	if out := c.must("shift", "summary", "--campaign", "winter-page", "--draws", "200"); !strings.Contains(out, "avoided an estimated") {
		t.Errorf("summary:\n%s", out)
	}
	daily, err := csv.NewReader(strings.NewReader(c.must("shift", "daily", "--campaign", "winter-page", "--draws", "200"))).ReadAll()
	if err != nil || len(daily) != 122 {
		t.Errorf("daily csv: %v, %d rows, want a header and 121 days", err, len(daily))
	}
}

func TestShiftErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	tests := []struct {
		args []string
		code string
	}{
		{[]string{"shift"}, signpost.EINVALID},
		{[]string{"shift", "frobnicate"}, signpost.EINVALID},
		{[]string{"shift", "report"}, signpost.EINVALID},
		{[]string{"shift", "report", "--campaign", "x", "--format", "pdf"}, signpost.EINVALID},
		{[]string{"shift", "report", "--campaign", "nothing-imported"}, signpost.ENOTFOUND},
	}
	for _, tt := range tests {
		if _, _, err := c.run("", tt.args...); signpost.ErrorCode(err) != tt.code {
			t.Errorf("%v: error %v (code %q), want code %q", tt.args, err, signpost.ErrorCode(err), tt.code)
		}
	}
}
