package importer_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/signpost-uk/signpost/importer"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// onsRows is the size of the ONS Postcode Directory.
const onsRows = 2_700_000

// writePostcodeDirectory writes n distinct, valid postcodes over the given
// wards, in the shape of postcodes.csv.
func writePostcodeDirectory(tb testing.TB, path string, n int, wards []string) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, "postcode,ward_code,lat,lon\r\n")
	const letters = "ABDEFGHJLNPQRSTUWXYZ" // the letters used in inward codes
	i := 0
	for area := 0; i < n; area++ {
		a := string(rune('A'+area/26%26)) + string(rune('A'+area%26))
		for district := 1; district <= 99 && i < n; district++ {
			for sector := 0; sector <= 9 && i < n; sector++ {
				for u := 0; u < len(letters)*len(letters) && i < n; u++ {
					fmt.Fprintf(w, "%s%d %d%c%c,%s,%.5f,%.5f\r\n", a, district, sector, letters[u/len(letters)], letters[u%len(letters)],
						wards[i%len(wards)], 50+float64(i%800000)/100000, -5+float64(i%700000)/100000)
					i++
				}
			}
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
}

// BenchmarkImportONSPostcodes imports a generated file the size of the ONS
// Postcode Directory into SQLite. The target is under a minute.
func BenchmarkImportONSPostcodes(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "postcodes.csv")
	wards := []string{"W1", "W2", "W3", "W4"}
	writePostcodeDirectory(b, path, onsRows, wards)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		db := storetest.Open(b, store.SQLite)
		if err := importText(db, "wards", "ward_code,ward_name,lat,lon\nW1,A,54,-1\nW2,B,54,-1\nW3,C,54,-1\nW4,D,54,-1\n"); err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := importer.Import(context.Background(), db, "postcodes", &importer.Source{Name: path, Reader: f})
		b.StopTimer()
		f.Close()
		if err != nil || res.Rows != onsRows {
			b.Fatalf("imported %d rows: %v", res.Rows, err)
		}
		if n, _ := db.CountPostcodes(context.Background()); n != onsRows {
			b.Fatalf("%d postcodes stored, want %d", n, onsRows)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/import")
	b.ReportMetric(float64(onsRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
