// Package importer reads the files councils already have — CSV exports and
// GeoJSON — into the store. Every import is one transaction: a file with any
// bad row imports nothing, and the error lists every bad row by line, column
// and reason. Rows are upserted by their natural key, so importing the same
// file twice changes nothing and a corrected file updates in place.
package importer

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
)

// Source is one file to import.
type Source struct {
	Name     string    // shown in problems, e.g. the file path
	Reader   io.Reader // the file's bytes
	problems Problems
}

// kindFunc reads src and writes its rows through tx, returning how many
// rows it read. Problems go to src.problems.
type kindFunc func(ctx context.Context, tx *store.Tx, src *Source) (int, error)

// kinds maps each importable kind to its reader and a one-line description.
var kinds = map[string]struct {
	fn   kindFunc
	help string
}{
	"wards":     {importWards, "CSV: ward_code, ward_name, lat, lon"},
	"postcodes": {importPostcodes, "CSV: postcode, ward_code, lat, lon"},
	"schools":   {importSchools, "CSV: urn, name, phase, ward_code, postcode, lat, lon, phone"},
	"routes":    {importRoutes, "GeoJSON FeatureCollection of LineStrings: route_id, name, priority, wards, length_km"},
	"rounds":    {importRounds, "CSV: round_id, ward_code, collection_day, streams, postcode_sector"},
	"weather":   {importWeather, "CSV: date, snow_cm, min_temp_c, severity (0-3)"},
	"contacts":  {importContacts, "CSV: date, channel, category, contacts"},
	"costs":     {importCosts, "CSV: channel, cost_gbp, source [, marginal_gbp, effective_from]"},
	"campaigns": {importCampaigns, "CSV: campaign, start, end, categories (;-separated) [, description]"},
}

// Kinds lists the importable kinds with their formats, sorted by name.
func Kinds() [][2]string {
	var out [][2]string
	for k, v := range kinds {
		out = append(out, [2]string{k, v.help})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Result says what an import did.
type Result struct {
	Kind string
	Rows int
}

// Import reads src as kind into db in one transaction.
func Import(ctx context.Context, db *store.DB, kind string, src *Source) (Result, error) {
	k, ok := kinds[kind]
	if !ok {
		var names []string
		for _, kv := range Kinds() {
			names = append(names, kv[0])
		}
		return Result{}, signpost.Errorf(signpost.EINVALID, "unknown import kind %q (want one of %s)", kind, strings.Join(names, ", "))
	}
	src.problems = Problems{File: src.Name}
	res := Result{Kind: kind}
	err := db.Update(ctx, func(tx *store.Tx) error {
		n, err := k.fn(ctx, tx, src)
		if err != nil {
			return err
		}
		if err := src.problems.Err(); err != nil {
			return err
		}
		res.Rows = n
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("import %s: %w", kind, err)
	}
	return res, nil
}

// seen reports a duplicate key within one file, which would otherwise
// silently keep only the last row.
type seen map[string]int

func (s seen) check(r *Row, col, key string) {
	if key == "" {
		return
	}
	if first, dup := s[key]; dup {
		r.Problem(col, "%q appears again (first on line %d)", key, first)
		return
	}
	s[key] = r.Line
}
