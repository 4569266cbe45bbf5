package importer

import (
	"context"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
)

func importWards(ctx context.Context, tx *store.Tx, src *Source) (int, error) {
	c, err := NewCSV(src.Reader, &src.problems, "ward_code", "ward_name", "lat", "lon")
	if err != nil {
		return 0, nil // the problems say why
	}
	codes := seen{}
	n := 0
	for r, ok := c.Next(); ok; r, ok = c.Next() {
		n++
		w := signpost.Ward{Code: r.Required("ward_code"), Name: r.Required("ward_name"), Lat: r.Lat("lat"), Lon: r.Lon("lon")}
		codes.check(r, "ward_code", w.Code)
		if r.OK() && src.problems.Len() == 0 {
			if err := tx.PutWard(ctx, w); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func importPostcodes(ctx context.Context, tx *store.Tx, src *Source) (int, error) {
	c, err := NewCSV(src.Reader, &src.problems, "postcode", "ward_code", "lat", "lon")
	if err != nil {
		return 0, nil
	}
	wards, err := tx.Keys(ctx, "wards")
	if err != nil {
		return 0, err
	}
	n := 0
	for r, ok := c.Next(); ok; r, ok = c.Next() {
		n++
		p := signpost.Postcode{Postcode: r.Postcode("postcode"), WardCode: r.Required("ward_code"), Lat: r.Lat("lat"), Lon: r.Lon("lon")}
		checkWard(r, wards, p.WardCode)
		// A postcode listed twice is not an error: directories re-use
		// codes, and the last row wins as it would on a re-import.
		// Once a problem is found nothing will be kept, so stop writing and
		// only keep reading to report every bad row.
		if r.OK() && src.problems.Len() == 0 {
			if err := tx.PutPostcode(ctx, p); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func importSchools(ctx context.Context, tx *store.Tx, src *Source) (int, error) {
	c, err := NewCSV(src.Reader, &src.problems, "urn", "name", "phase", "ward_code", "postcode", "lat", "lon")
	if err != nil {
		return 0, nil
	}
	wards, err := tx.Keys(ctx, "wards")
	if err != nil {
		return 0, err
	}
	urns := seen{}
	n := 0
	for r, ok := c.Next(); ok; r, ok = c.Next() {
		n++
		s := signpost.School{
			URN: r.Required("urn"), Name: r.Required("name"), Phase: strings.ToLower(r.Required("phase")),
			WardCode: r.Required("ward_code"), Postcode: r.Postcode("postcode"),
			Lat: r.Lat("lat"), Lon: r.Lon("lon"), Phone: r.Text("phone"),
		}
		if s.URN != "" && !allDigits(s.URN) {
			r.Problem("urn", "%q is not a URN: it should be digits only", clip(s.URN))
		}
		urns.check(r, "urn", s.URN)
		checkWard(r, wards, s.WardCode)
		if r.OK() && src.problems.Len() == 0 {
			if err := tx.PutSchool(ctx, s); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func importRounds(ctx context.Context, tx *store.Tx, src *Source) (int, error) {
	c, err := NewCSV(src.Reader, &src.problems, "round_id", "ward_code", "collection_day", "streams", "postcode_sector")
	if err != nil {
		return 0, nil
	}
	wards, err := tx.Keys(ctx, "wards")
	if err != nil {
		return 0, err
	}
	ids := seen{}
	n := 0
	for r, ok := c.Next(); ok; r, ok = c.Next() {
		n++
		rd := signpost.Round{ID: r.Required("round_id"), WardCode: r.Required("ward_code")}
		ids.check(r, "round_id", rd.ID)
		checkWard(r, wards, rd.WardCode)
		if day := r.Required("collection_day"); day != "" {
			d, ok := parseWeekday(day)
			if !ok {
				r.Problem("collection_day", "%q is not a day of the week", clip(day))
			}
			rd.Day = d
		}
		for _, s := range strings.Split(r.Text("streams"), ";") {
			if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
				rd.Streams = append(rd.Streams, s)
			}
		}
		if len(rd.Streams) == 0 {
			r.Problem("streams", "is empty: list the waste streams separated by ';' (e.g. refuse;recycling)")
		}
		if sector := r.Required("postcode_sector"); sector != "" {
			s, ok := normalizeSector(sector)
			if !ok {
				r.Problem("postcode_sector", "%q is not a postcode sector like ND1 1", clip(sector))
			}
			rd.Sector = s
		}
		if r.OK() && src.problems.Len() == 0 {
			if err := tx.PutRound(ctx, rd); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func checkWard(r *Row, wards map[string]bool, code string) {
	if code != "" && !wards[code] {
		r.Problem("ward_code", "unknown ward %q: import wards first, or correct the code", clip(code))
	}
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || (len(s) >= 3 && strings.HasPrefix(name, s)) {
			return d, true
		}
	}
	return 0, false
}

// normalizeSector accepts "ND1 1", "nd11" or "ND1  1" and returns "ND1 1",
// by borrowing the postcode rules with a dummy unit.
func normalizeSector(s string) (string, bool) {
	pc, err := signpost.NormalizePostcode(s + "AA")
	if err != nil {
		return "", false
	}
	return signpost.PostcodeSector(pc), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
