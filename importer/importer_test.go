package importer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/importer"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

const northdale = "../demo/northdale"

func importFile(t *testing.T, db *store.DB, kind, file string) importer.Result {
	t.Helper()
	f, err := os.Open(filepath.Join(northdale, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := importer.Import(context.Background(), db, kind, &importer.Source{Name: file, Reader: f})
	if err != nil {
		t.Fatalf("import %s: %v", file, err)
	}
	return res
}

func importText(db *store.DB, kind, text string) error {
	_, err := importer.Import(context.Background(), db, kind, &importer.Source{Name: "input.csv", Reader: strings.NewReader(text)})
	return err
}

func loadNorthdale(t *testing.T, db *store.DB) {
	t.Helper()
	for _, f := range [][2]string{{"wards", "wards.csv"}, {"postcodes", "postcodes.csv"}, {"schools", "schools.csv"},
		{"routes", "gritting-routes.geojson"}, {"rounds", "bin-rounds.csv"}} {
		importFile(t, db, f[0], f[1])
	}
}

func TestImportNorthdaleTwice(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		loadNorthdale(t, db)
		loadNorthdale(t, db)
		// postcodes.csv has 288 rows but 281 postcodes: a postcode listed
		// twice keeps its last row, as directories with re-used codes expect.
		wards, _ := db.Wards(ctx)
		schools, _ := db.Schools(ctx)
		routes, _ := db.Routes(ctx)
		rounds, _ := db.Rounds(ctx)
		pcs, _ := db.CountPostcodes(ctx)
		if len(wards) != 8 || len(schools) != 40 || len(routes) != 10 || len(rounds) != 24 || pcs != 281 {
			t.Errorf("after two imports: %d wards, %d schools, %d routes, %d rounds, %d postcodes",
				len(wards), len(schools), len(routes), len(rounds), pcs)
		}
	})
}

func TestImportUpdatesInPlace(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	if err := importText(db, "wards", "ward_code,ward_name,lat,lon\nW1,Old name,54,-1\n"); err != nil {
		t.Fatal(err)
	}
	// Another council's export: columns reordered, extra column, BOM, CRLF, blank last line.
	if err := importText(db, "wards", "\ufefflon,Ward_Name,ward_code,lat,notes\r\n-1.5,New name,W1,54.5,x\r\n-1.2,Second,W2,54.1,\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	wards, _ := db.Wards(ctx)
	if len(wards) != 2 || wards[0].Name != "New name" || wards[0].Lon != -1.5 {
		t.Errorf("wards = %+v", wards)
	}
	if err := importText(db, "postcodes", "postcode,ward_code,lat,lon\nw1a0ax,W2,51.5,-0.14\n"); err != nil {
		t.Fatal(err)
	}
	if p, err := db.LookupPostcode(ctx, "W1A 0AX"); err != nil || p.WardCode != "W2" {
		t.Errorf("normalised postcode lookup = %+v, %v", p, err)
	}
}

func TestBadFilesImportNothing(t *testing.T) {
	t.Parallel()
	const wards = "ward_code,ward_name,lat,lon\nW1,Greenbank,54,-1\n"
	tests := []struct {
		name, kind, text string
		want             []string // substrings of the error, each naming line and column
	}{
		{"empty", "wards", "", []string{"line 1: the file is empty"}},
		{"missing column", "wards", "ward_code,ward_name,lat\nW2,X,54\n", []string{`line 1, column lon: missing column "lon"`}},
		{"bad numbers", "wards", "ward_code,ward_name,lat,lon\nW2,X,north,-1\nW3,Y,54,200\n",
			[]string{`line 2, column lat: "north" is not a number`, "line 3, column lon: 200 is out of range"}},
		{"duplicate", "wards", "ward_code,ward_name,lat,lon\nW2,X,54,-1\nW2,Y,54,-1\n", []string{`line 3, column ward_code: "W2" appears again (first on line 2)`}},
		{"empty name", "wards", "ward_code,ward_name,lat,lon\r\nW2,,54,-1\r\n", []string{"line 2, column ward_name: is empty"}},
		{"unterminated quote", "wards", "ward_code,ward_name,lat,lon\nW2,\"X,54,-1\n", []string{"line 2"}},
		{"bad postcode", "postcodes", "postcode,ward_code,lat,lon\nND1 1BX,W1,54,-1\nNOT A PC,W1,54,-1\nND1 1BY,W9,54,-1\n",
			[]string{"line 3, column postcode:", `line 4, column ward_code: unknown ward "W9"`}},
		{"bad school", "schools", "urn,name,phase,ward_code,postcode,lat,lon,phone\nAB12,Holy Trinity,primary,W1,ND1 1BX,54,-1,\n",
			[]string{`line 2, column urn: "AB12" is not a URN`}},
		{"bad round", "rounds", "round_id,ward_code,collection_day,streams,postcode_sector\nR1,W1,Funday,refuse,ND1 1\nR2,W1,Mon,,ND11\nR3,W1,tue,refuse,ND1\n",
			[]string{`line 2, column collection_day: "Funday" is not a day`, "line 3, column streams: is empty", `line 4, column postcode_sector: "ND1" is not a postcode sector`}},
		{"not geojson", "routes", "{\"type\": \"FeatureCollection\",\n \"features\": [}", []string{"line 2: not valid GeoJSON"}},
		{"bad route", "routes", `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"route_id":"R1","name":"One","priority":1,"wards":["W1"]},"geometry":{"type":"LineString","coordinates":[[-1,54],[-1.1,54.1]]}},
{"type":"Feature","properties":{"route_id":"R2","priority":0,"wards":["W7"]},"geometry":{"type":"Point","coordinates":[-1,54]}},
{"type":"Feature","properties":{"route_id":"R1","priority":2},"geometry":{"type":"LineString","coordinates":[[-1,54],[-1.1,95]]}}]}`,
			[]string{"line 3, column feature 2 properties.priority", `line 3, column feature 2 properties.wards: unknown ward "W7"`,
				`line 3, column feature 2 geometry.type: want LineString, got "Point"`, "line 4, column feature 3 route_id", "line 4, column feature 3 geometry.coordinates: position 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, store.SQLite)
			if err := importText(db, "wards", wards); err != nil {
				t.Fatal(err)
			}
			before, _ := db.ChangeVersion(context.Background())
			err := importText(db, tt.kind, tt.text)
			var fe *importer.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FileError", err)
			}
			if signpost.ErrorCode(err) != signpost.EINVALID {
				t.Errorf("code = %s", signpost.ErrorCode(err))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
			if fe.Total != len(fe.Problems) || fe.Total < len(tt.want) {
				t.Errorf("total %d, listed %d, want at least %d", fe.Total, len(fe.Problems), len(tt.want))
			}
			after, _ := db.ChangeVersion(context.Background())
			if after != before {
				t.Error("a bad file changed the database")
			}
			ws, _ := db.Wards(context.Background())
			pcs, _ := db.CountPostcodes(context.Background())
			routes, _ := db.Routes(context.Background())
			if len(ws) != 1 || pcs != 0 || len(routes) != 0 {
				t.Errorf("bad file kept rows: %d wards, %d postcodes, %d routes", len(ws), pcs, len(routes))
			}
		})
	}
}

func TestUnknownKind(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	err := importText(db, "planets", "a\n")
	if signpost.ErrorCode(err) != signpost.EINVALID || !strings.Contains(err.Error(), "wards") {
		t.Errorf("err = %v", err)
	}
}

func TestRouteLengthComputedWhenMissing(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	if err := importText(db, "wards", "ward_code,ward_name,lat,lon\nW1,A,54,-1\n"); err != nil {
		t.Fatal(err)
	}
	// One degree of latitude is about 111 km.
	err := importText(db, "routes", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"route_id":7,"name":"Seven","priority":1},"geometry":{"type":"LineString","coordinates":[[-1,54],[-1,55]]}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	routes, _ := db.Routes(context.Background())
	if len(routes) != 1 || routes[0].ID != "7" || routes[0].LengthKM < 110 || routes[0].LengthKM > 112 {
		t.Errorf("routes = %+v", routes)
	}
}
