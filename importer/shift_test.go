package importer_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/importer"
	"github.com/signpost-uk/signpost/shift"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// shiftData is the channel-shift package's copy of the Northdale files.
const shiftData = "../shift/testdata"

func importShiftFiles(t *testing.T, db *store.DB) {
	t.Helper()
	for _, kind := range []string{"weather", "contacts", "costs", "campaigns"} {
		f, err := os.Open(filepath.Join(shiftData, kind+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = importer.Import(context.Background(), db, kind, &importer.Source{Name: kind + ".csv", Reader: f})
		f.Close()
		if err != nil {
			t.Fatalf("import %s: %v", kind, err)
		}
	}
}

// TestNorthdaleShiftThroughStore imports the Northdale files twice and runs
// the report from the database, on every engine.
func TestNorthdaleShiftThroughStore(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(shiftData, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth struct {
		Avoided float64 `json:"avoided_calls_expected"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		importShiftFiles(t, db)
		importShiftFiles(t, db) // idempotent: the second import changes nothing
		d, err := db.ShiftData(ctx, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Contacts) != 20928 || len(d.Weather) != 1308 || len(d.Costs) != 4 || len(d.Campaigns) != 1 {
			t.Fatalf("after two imports: %d contacts, %d weather days, %d costs, %d campaigns", len(d.Contacts), len(d.Weather), len(d.Costs), len(d.Campaigns))
		}
		r, err := shift.Estimate(d, "winter-page", shift.Options{Draws: 300})
		if err != nil {
			t.Fatal(err)
		}
		a := r.AvoidedCalls
		if math.Abs(a.Estimate-truth.Avoided) > 0.1*truth.Avoided || truth.Avoided < a.Low || truth.Avoided > a.High {
			t.Errorf("calls avoided %.0f (%.0f–%.0f), want within 10%% of %.0f and an interval containing it", a.Estimate, a.Low, a.High, truth.Avoided)
		}
	})
}

func TestImportShiftProblems(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	tests := []struct {
		kind, text string
		want       []string // problems, as "line N, column C: …" prefixes
	}{
		{"weather", "date,snow_cm,min_temp_c,severity\n2025-01-01,0,1,0\n2025-13-01,0,1,0\n2025-01-02,x,1,4\n2025-01-01,0,1,0\n",
			[]string{"line 3, column date: \"2025-13-01\" is not a date", "line 4, column snow_cm", "line 4, column severity: 4 is out of range", "line 5, column date: \"2025-01-01\" appears again (first on line 2)"}},
		{"contacts", "\ufeffdate,channel,category,contacts\r\n01/12/2025,Phone,Schools,5\r\n2025-12-01,phone,schools,6\r\n2025-12-02,,roads,-1\r\n",
			[]string{"line 3, column date", "line 4, column channel: is empty", "line 4, column contacts: -1 is out of range"}},
		{"costs", "channel,cost_gbp,source,marginal_gbp,effective_from\nphone,£2.90,Socitm,5,\nweb,abc,,0.1,2025-99-01\n",
			[]string{"line 2, column marginal_gbp: £5.00 is more than", "line 3, column cost_gbp", "line 3, column source: is empty", "line 3, column effective_from"}},
		{"campaigns", "campaign,start,end,categories,description\nwinter,2025-12-01,2025-11-01,schools,x\nspring,2026-03-01,2026-04-01,,\n",
			[]string{"line 2, column end: 2025-11-01 is before the start", "line 3, column categories: is empty"}},
		{"contacts", "date,channel,contacts\n2025-01-01,phone,3\n", []string{"line 1, column category: missing column"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			ctx := context.Background()
			before, _ := db.ChangeVersion(ctx)
			err := importText(db, tt.kind, tt.text)
			var fe *importer.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a FileError", err)
			}
			if fe.Total != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%v", fe.Total, len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("problems lack %q:\n%v", w, err)
				}
			}
			if after, _ := db.ChangeVersion(ctx); after != before {
				t.Error("a rejected file changed the database")
			}
		})
	}
}

func TestImportCostsOptionalColumns(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	text := "channel,cost_gbp,source,marginal_gbp,effective_from\nphone,2.90,Socitm,1.20,\nphone,3.10,own study,,2026-04-01\nemail,0.50,own study,,\n"
	if err := importText(db, "costs", text); err != nil {
		t.Fatal(err)
	}
	costs, err := db.Costs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(costs) != 3 {
		t.Fatalf("costs = %+v", costs)
	}
	byKey := map[string]shift.Cost{}
	for _, c := range costs {
		byKey[c.Channel+" "+c.EffectiveFrom.Format(time.DateOnly)] = c
	}
	if c := byKey["phone 0001-01-01"]; c.Marginal == nil || *c.Marginal != 1.2 || c.FullyLoaded != 2.9 {
		t.Errorf("phone cost = %+v", c)
	}
	if c := byKey["phone 2026-04-01"]; c.Marginal != nil || c.FullyLoaded != 3.1 {
		t.Errorf("phone cost from April = %+v", c)
	}
}

func FuzzImportWeather(f *testing.F) {
	fuzzImport(f, "weather", []string{"date,snow_cm,min_temp_c,severity\n2025-01-01,1.5,-2,2\n", "\ufeffdate,snow_cm,min_temp_c,severity\r\n01/01/2025,0,3,0\r\n"})
}

func FuzzImportContacts(f *testing.F) {
	fuzzImport(f, "contacts", []string{"date,channel,category,contacts\n2025-01-01,phone,schools,40\n2025-01-01,web,schools,3\n"})
}

func FuzzImportCosts(f *testing.F) {
	fuzzImport(f, "costs", []string{"channel,cost_gbp,source,marginal_gbp,effective_from\nphone,£2.90,\"Socitm, 2010\",1.2,2026-04-01\n"})
}

func FuzzImportCampaigns(f *testing.F) {
	fuzzImport(f, "campaigns", []string{"campaign,start,end,categories,description\nwinter-page,2025-12-01,2026-03-31,schools;roads,Winter page\n"})
}
