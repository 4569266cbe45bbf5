package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// PutWard inserts or updates a ward.
func (tx *Tx) PutWard(ctx context.Context, w signpost.Ward) error {
	return tx.ExecPrepared(ctx, `INSERT INTO wards (code, name, lat, lon) VALUES (?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET name = excluded.name, lat = excluded.lat, lon = excluded.lon`,
		w.Code, w.Name, w.Lat, w.Lon)
}

// PutPostcode inserts or updates a postcode.
func (tx *Tx) PutPostcode(ctx context.Context, p signpost.Postcode) error {
	return tx.ExecPrepared(ctx, `INSERT INTO postcodes (postcode, ward_code, lat, lon) VALUES (?, ?, ?, ?)
		ON CONFLICT (postcode) DO UPDATE SET ward_code = excluded.ward_code, lat = excluded.lat, lon = excluded.lon`,
		p.Postcode, p.WardCode, p.Lat, p.Lon)
}

// PutSchool inserts or updates a school.
func (tx *Tx) PutSchool(ctx context.Context, s signpost.School) error {
	return tx.ExecPrepared(ctx, `INSERT INTO schools (urn, name, phase, ward_code, postcode, lat, lon, phone) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (urn) DO UPDATE SET name = excluded.name, phase = excluded.phase, ward_code = excluded.ward_code,
		postcode = excluded.postcode, lat = excluded.lat, lon = excluded.lon, phone = excluded.phone`,
		s.URN, s.Name, s.Phase, s.WardCode, s.Postcode, s.Lat, s.Lon, s.Phone)
}

// PutRoute inserts or updates a gritting route and replaces its wards.
func (tx *Tx) PutRoute(ctx context.Context, r signpost.Route) error {
	line := make([][2]float64, len(r.Line))
	for i, p := range r.Line {
		line[i] = [2]float64{p.Lon, p.Lat}
	}
	js, err := json.Marshal(line)
	if err != nil {
		return err
	}
	if err := tx.ExecPrepared(ctx, `INSERT INTO routes (id, name, priority, length_km, line) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, priority = excluded.priority,
		length_km = excluded.length_km, line = excluded.line`,
		r.ID, r.Name, r.Priority, r.LengthKM, string(js)); err != nil {
		return err
	}
	if err := tx.ExecPrepared(ctx, `DELETE FROM route_wards WHERE route_id = ?`, r.ID); err != nil {
		return err
	}
	for i, w := range r.Wards {
		if err := tx.ExecPrepared(ctx, `INSERT INTO route_wards (route_id, ward_code, position) VALUES (?, ?, ?)`, r.ID, w, i); err != nil {
			return err
		}
	}
	return nil
}

// PutRound inserts or updates a bin collection round.
func (tx *Tx) PutRound(ctx context.Context, r signpost.Round) error {
	return tx.ExecPrepared(ctx, `INSERT INTO rounds (id, ward_code, collection_day, streams, postcode_sector) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET ward_code = excluded.ward_code, collection_day = excluded.collection_day,
		streams = excluded.streams, postcode_sector = excluded.postcode_sector`,
		r.ID, r.WardCode, int(r.Day), strings.Join(r.Streams, ";"), r.Sector)
}

// Keys returns the keys of a place table, so importers can report a
// reference to a missing ward or school by line instead of failing on a
// foreign key. table is one of wards, schools, routes, rounds.
func (tx *Tx) Keys(ctx context.Context, table string) (map[string]bool, error) {
	col := map[string]string{"wards": "code", "schools": "urn", "routes": "id", "rounds": "id"}[table]
	if col == "" {
		return nil, fmt.Errorf("keys: unknown table %q", table)
	}
	rows, err := tx.Query(ctx, `SELECT `+col+` FROM `+table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys[k] = true
	}
	return keys, rows.Err()
}

// Wards returns every ward by name.
func (db *DB) Wards(ctx context.Context) ([]signpost.Ward, error) {
	rows, err := db.query(ctx, `SELECT code, name, lat, lon FROM wards ORDER BY name, code`)
	if err != nil {
		return nil, fmt.Errorf("list wards: %w", err)
	}
	defer rows.Close()
	var out []signpost.Ward
	for rows.Next() {
		var w signpost.Ward
		if err := rows.Scan(&w.Code, &w.Name, &w.Lat, &w.Lon); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Schools returns every school by name.
func (db *DB) Schools(ctx context.Context) ([]signpost.School, error) {
	rows, err := db.query(ctx, `SELECT urn, name, phase, ward_code, postcode, lat, lon, phone FROM schools ORDER BY name, urn`)
	if err != nil {
		return nil, fmt.Errorf("list schools: %w", err)
	}
	defer rows.Close()
	var out []signpost.School
	for rows.Next() {
		var s signpost.School
		if err := rows.Scan(&s.URN, &s.Name, &s.Phase, &s.WardCode, &s.Postcode, &s.Lat, &s.Lon, &s.Phone); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Routes returns every gritting route, priority first.
func (db *DB) Routes(ctx context.Context) ([]signpost.Route, error) {
	wards := map[string][]string{}
	rows, err := db.query(ctx, `SELECT route_id, ward_code FROM route_wards ORDER BY route_id, position`)
	if err != nil {
		return nil, fmt.Errorf("list route wards: %w", err)
	}
	for rows.Next() {
		var id, w string
		if err := rows.Scan(&id, &w); err != nil {
			rows.Close()
			return nil, err
		}
		wards[id] = append(wards[id], w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.query(ctx, `SELECT id, name, priority, length_km, line FROM routes ORDER BY priority, id`)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	defer rows.Close()
	var out []signpost.Route
	for rows.Next() {
		var r signpost.Route
		var line string
		if err := rows.Scan(&r.ID, &r.Name, &r.Priority, &r.LengthKM, &line); err != nil {
			return nil, err
		}
		var pts [][2]float64
		if err := json.Unmarshal([]byte(line), &pts); err != nil {
			return nil, fmt.Errorf("route %s: stored line: %w", r.ID, err)
		}
		r.Line = make([]signpost.Point, len(pts))
		for i, p := range pts {
			r.Line[i] = signpost.Point{Lon: p[0], Lat: p[1]}
		}
		r.Wards = wards[r.ID]
		out = append(out, r)
	}
	return out, rows.Err()
}

// Rounds returns every bin round by id.
func (db *DB) Rounds(ctx context.Context) ([]signpost.Round, error) {
	rows, err := db.query(ctx, `SELECT id, ward_code, collection_day, streams, postcode_sector FROM rounds ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list rounds: %w", err)
	}
	defer rows.Close()
	var out []signpost.Round
	for rows.Next() {
		var r signpost.Round
		var day int
		var streams string
		if err := rows.Scan(&r.ID, &r.WardCode, &day, &streams, &r.Sector); err != nil {
			return nil, err
		}
		r.Day = time.Weekday(day)
		if streams != "" {
			r.Streams = strings.Split(streams, ";")
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LookupPostcode finds a normalised postcode.
func (db *DB) LookupPostcode(ctx context.Context, postcode string) (signpost.Postcode, error) {
	p := signpost.Postcode{Postcode: postcode}
	err := db.queryRow(ctx, `SELECT ward_code, lat, lon FROM postcodes WHERE postcode = ?`, postcode).
		Scan(&p.WardCode, &p.Lat, &p.Lon)
	if errors.Is(err, sql.ErrNoRows) {
		return signpost.Postcode{}, signpost.Errorf(signpost.ENOTFOUND, "we have no information for the postcode %s", postcode)
	}
	if err != nil {
		return signpost.Postcode{}, fmt.Errorf("look up postcode: %w", err)
	}
	return p, nil
}

// CountPostcodes returns how many postcodes are held.
func (db *DB) CountPostcodes(ctx context.Context) (int, error) {
	var n int
	err := db.queryRow(ctx, `SELECT COUNT(*) FROM postcodes`).Scan(&n)
	return n, err
}
