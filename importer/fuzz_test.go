package importer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost/importer"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// fuzzImport checks that any input either imports or fails with a
// FileError naming lines inside the input, and that a failure keeps nothing.
func fuzzImport(f *testing.F, kind string, seeds []string) {
	for _, s := range seeds {
		f.Add(s)
	}
	db := storetest.Open(f, store.SQLite)
	if err := importText(db, "wards", "ward_code,ward_name,lat,lon\nW1,Greenbank,54,-1\nW2,Harbour,54.1,-1.1\n"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ctx := context.Background()
		before, _ := db.ChangeVersion(ctx)
		_, err := importer.Import(ctx, db, kind, &importer.Source{Name: "fuzz", Reader: strings.NewReader(text)})
		if err == nil {
			return
		}
		var fe *importer.FileError
		if !errors.As(err, &fe) {
			t.Fatalf("error is not a FileError: %v", err)
		}
		lines := strings.Count(text, "\n") + 1
		for _, p := range fe.Problems {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("problem on line %d of a %d-line input: %v", p.Line, lines, p)
			}
		}
		if after, _ := db.ChangeVersion(ctx); after != before {
			t.Fatal("a rejected file changed the database")
		}
	})
}

func FuzzImportWards(f *testing.F) {
	fuzzImport(f, "wards", []string{"ward_code,ward_name,lat,lon\nW3,X,54,-1\n", "\ufeffward_code,ward_name,lat,lon\r\nW3,\"X, Y\",54,-1\r\n", ""})
}

func FuzzImportPostcodes(f *testing.F) {
	fuzzImport(f, "postcodes", []string{"postcode,ward_code,lat,lon\nnd11bx,W1,54,-1\n", "postcode,ward_code,lat,lon\nND1 1BX,W9,54,x\n"})
}

func FuzzImportSchools(f *testing.F) {
	fuzzImport(f, "schools", []string{"urn,name,phase,ward_code,postcode,lat,lon,phone\n100,A,primary,W1,ND1 1BX,54,-1,01632 960000\n"})
}

func FuzzImportRounds(f *testing.F) {
	fuzzImport(f, "rounds", []string{"round_id,ward_code,collection_day,streams,postcode_sector\nR1,W1,Tuesday,refuse;garden,ND1 1\n"})
}

func FuzzImportRoutes(f *testing.F) {
	fuzzImport(f, "routes", []string{`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"route_id":"R1","name":"One","priority":1,"wards":["W1"]},"geometry":{"type":"LineString","coordinates":[[-1,54],[-1.1,54.1]]}}]}`, `{"type":"FeatureCollection","features":[{}]}`})
}
