package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
)

// maxGeoJSON bounds a routes file; a whole county's network is a few MB.
const maxGeoJSON = 64 << 20

type geoFeature struct {
	Type       string                     `json:"type"`
	Properties map[string]json.RawMessage `json:"properties"`
	Geometry   *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

func importRoutes(ctx context.Context, tx *store.Tx, src *Source) (int, error) {
	data, err := io.ReadAll(io.LimitReader(skipBOM(src.Reader), maxGeoJSON+1))
	if err != nil {
		return 0, err
	}
	ps := &src.problems
	if len(data) > maxGeoJSON {
		ps.Add(1, "", "the file is larger than %d MB", maxGeoJSON>>20)
		return 0, nil
	}
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		ps.Add(jsonErrorLine(data, err), "", "not valid GeoJSON: %v", err)
		return 0, nil
	}
	if fc.Type != "FeatureCollection" {
		ps.Add(1, "type", "want a GeoJSON FeatureCollection, got %q", fc.Type)
		return 0, nil
	}
	wards, err := tx.Keys(ctx, "wards")
	if err != nil {
		return 0, err
	}
	ids := map[string]int{}
	offset := 0
	for i, raw := range fc.Features {
		// Each raw feature is a verbatim slice of the file, so searching
		// forward finds where it starts and so its line.
		if at := bytes.Index(data[offset:], raw); at >= 0 {
			offset += at
		}
		line := bytes.Count(data[:offset], []byte("\n")) + 1
		fr := &featureReader{ps: ps, line: line, index: i + 1}
		r := fr.route(raw, wards)
		if first, dup := ids[r.ID]; dup && r.ID != "" {
			fr.problem("route_id", "%q appears again (first in feature %d)", r.ID, first)
		} else {
			ids[r.ID] = i + 1
		}
		if !fr.bad && ps.Len() == 0 {
			if err := tx.PutRoute(ctx, r); err != nil {
				return i + 1, err
			}
		}
	}
	return len(fc.Features), nil
}

type featureReader struct {
	ps    *Problems
	line  int
	index int
	bad   bool
}

func (f *featureReader) problem(field, format string, args ...any) {
	f.bad = true
	f.ps.Add(f.line, fmt.Sprintf("feature %d %s", f.index, field), format, args...)
}

func (f *featureReader) route(raw json.RawMessage, wards map[string]bool) signpost.Route {
	var feat geoFeature
	var r signpost.Route
	if err := json.Unmarshal(raw, &feat); err != nil {
		f.problem("", "not a GeoJSON Feature: %v", err)
		return r
	}
	if feat.Type != "Feature" {
		f.problem("type", "want \"Feature\", got %q", feat.Type)
	}
	r.ID = f.text(feat.Properties, "route_id", true)
	r.Name = f.text(feat.Properties, "name", true)
	if r.Name == "" {
		r.Name = r.ID
	}
	if raw, ok := feat.Properties["priority"]; !ok {
		f.problem("properties.priority", "is missing")
	} else if err := json.Unmarshal(raw, &r.Priority); err != nil || r.Priority < 1 {
		f.problem("properties.priority", "%s is not a whole number of 1 or more", clip(string(raw)))
	}
	if raw, ok := feat.Properties["wards"]; ok {
		if err := json.Unmarshal(raw, &r.Wards); err != nil {
			f.problem("properties.wards", "want a list of ward codes, got %s", clip(string(raw)))
		}
	}
	for _, w := range r.Wards {
		if !wards[w] {
			f.problem("properties.wards", "unknown ward %q: import wards first, or correct the code", clip(w))
		}
	}
	if feat.Geometry == nil {
		f.problem("geometry", "is missing")
		return r
	}
	if feat.Geometry.Type != "LineString" {
		f.problem("geometry.type", "want LineString, got %q", feat.Geometry.Type)
		return r
	}
	var coords [][]float64
	if err := json.Unmarshal(feat.Geometry.Coordinates, &coords); err != nil {
		f.problem("geometry.coordinates", "want [[lon, lat], …]: %v", err)
		return r
	}
	if len(coords) < 2 {
		f.problem("geometry.coordinates", "a line needs at least two positions, got %d", len(coords))
	}
	for j, c := range coords {
		if len(c) < 2 || c[0] < -180 || c[0] > 180 || c[1] < -90 || c[1] > 90 {
			f.problem("geometry.coordinates", "position %d %v is not [lon, lat] in WGS84 degrees", j+1, c)
			continue
		}
		r.Line = append(r.Line, signpost.Point{Lon: c[0], Lat: c[1]})
	}
	if raw, ok := feat.Properties["length_km"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &r.LengthKM); err != nil || r.LengthKM < 0 {
			f.problem("properties.length_km", "%s is not a length in km", clip(string(raw)))
		}
	} else {
		r.LengthKM = math.Round(signpost.LengthKM(r.Line)*10) / 10
	}
	return r
}

// text reads a string property; numbers are accepted too, since
// spreadsheet-made GeoJSON often writes ids as numbers.
func (f *featureReader) text(props map[string]json.RawMessage, name string, required bool) string {
	raw, ok := props[name]
	if !ok || string(raw) == "null" {
		if required {
			f.problem("properties."+name, "is missing")
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		s = strings.TrimSpace(s)
		if s == "" && required {
			f.problem("properties."+name, "is empty")
		}
		return s
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String()
	}
	f.problem("properties."+name, "want text, got %s", clip(string(raw)))
	return ""
}

// jsonErrorLine finds the line of a JSON syntax error.
func jsonErrorLine(data []byte, err error) int {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(0)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}
