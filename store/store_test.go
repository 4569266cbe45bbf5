package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func seedPlaces(t *testing.T, db *store.DB) {
	t.Helper()
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		ctx := context.Background()
		for _, w := range []signpost.Ward{{Code: "W1", Name: "Greenbank", Lat: 54.1, Lon: -1.5}, {Code: "W2", Name: "Harbour", Lat: 54.2, Lon: -1.4}} {
			if err := tx.PutWard(ctx, w); err != nil {
				return err
			}
		}
		if err := tx.PutPostcode(ctx, signpost.Postcode{Postcode: "ND1 1BX", WardCode: "W1", Lat: 54.1, Lon: -1.5}); err != nil {
			return err
		}
		if err := tx.PutSchool(ctx, signpost.School{URN: "100001", Name: "Holy Trinity Primary", Phase: "primary", WardCode: "W1", Postcode: "ND1 1BX", Lat: 54.1, Lon: -1.5, Phone: "01632 960000"}); err != nil {
			return err
		}
		if err := tx.PutRoute(ctx, signpost.Route{ID: "R1", Name: "Route 1", Priority: 1, Wards: []string{"W2", "W1"}, LengthKM: 12.5,
			Line: []signpost.Point{{Lon: -1.5, Lat: 54.1}, {Lon: -1.4, Lat: 54.2}}}); err != nil {
			return err
		}
		return tx.PutRound(ctx, signpost.Round{ID: "B1", WardCode: "W1", Day: time.Tuesday, Streams: []string{"refuse", "garden"}, Sector: "ND1 1"})
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		applied, err := db.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Errorf("second migrate applied %v, want nothing", applied)
		}
	})
}

func TestPlacesRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedPlaces(t, db)
		seedPlaces(t, db) // re-import updates, never duplicates
		wards, err := db.Wards(ctx)
		if err != nil || len(wards) != 2 || wards[0].Name != "Greenbank" {
			t.Fatalf("wards = %+v, %v", wards, err)
		}
		routes, err := db.Routes(ctx)
		if err != nil || len(routes) != 1 {
			t.Fatalf("routes = %+v, %v", routes, err)
		}
		if r := routes[0]; len(r.Line) != 2 || r.Line[1].Lat != 54.2 || len(r.Wards) != 2 || r.Wards[0] != "W2" {
			t.Errorf("route = %+v", r)
		}
		rounds, err := db.Rounds(ctx)
		if err != nil || len(rounds) != 1 || rounds[0].Day != time.Tuesday || len(rounds[0].Streams) != 2 {
			t.Fatalf("rounds = %+v, %v", rounds, err)
		}
		schools, err := db.Schools(ctx)
		if err != nil || len(schools) != 1 || schools[0].Phone != "01632 960000" {
			t.Fatalf("schools = %+v, %v", schools, err)
		}
		p, err := db.LookupPostcode(ctx, "ND1 1BX")
		if err != nil || p.WardCode != "W1" {
			t.Fatalf("lookup = %+v, %v", p, err)
		}
		_, err = db.LookupPostcode(ctx, "ND9 9ZZ")
		if signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("unknown postcode error = %v, want not found", err)
		}
	})
}

func TestUpdateIsAtomic(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		before, _ := db.ChangeVersion(ctx)
		boom := errors.New("boom")
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := tx.PutWard(ctx, signpost.Ward{Code: "W9", Name: "Lost"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		wards, _ := db.Wards(ctx)
		if len(wards) != 0 {
			t.Errorf("rolled-back ward kept: %+v", wards)
		}
		after, _ := db.ChangeVersion(ctx)
		if after != before {
			t.Errorf("change version moved on rollback: %d → %d", before, after)
		}
	})
}

func TestNoticeRevisions(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedPlaces(t, db)
		clock := time.Date(2026, 1, 6, 6, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return clock })
		v0, _ := db.ChangeVersion(ctx)
		starts := time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)
		in := signpost.NoticeInput{
			Category: signpost.CategorySchools, Status: signpost.StatusClosed,
			Places:   []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "100001"}, {Kind: signpost.PlaceSchool, ID: "100001"}},
			Headline: "Holy Trinity Primary closed", Body: "Snow.", Starts: &starts,
		}
		n, err := db.CreateNotice(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if n.ID == 0 || n.Revision != 1 || len(n.Places) != 1 {
			t.Fatalf("created %+v", n)
		}
		clock = clock.Add(time.Hour)
		in.Status = signpost.StatusPartiallyOpen
		in.Places = append(in.Places, signpost.PlaceRef{Kind: signpost.PlaceWard, ID: "W1"})
		if _, err := db.UpdateNotice(ctx, n.ID, in); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Hour)
		closed, err := db.CloseNotice(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if closed.Revision != 3 || closed.ClosedAt == nil || !closed.ClosedAt.Equal(clock) {
			t.Errorf("closed = %+v", closed)
		}
		if _, err := db.CloseNotice(ctx, n.ID); signpost.ErrorCode(err) != signpost.ECONFLICT {
			t.Errorf("second close: %v, want conflict", err)
		}
		revs, err := db.NoticeRevisions(ctx, n.ID)
		if err != nil || len(revs) != 3 {
			t.Fatalf("revisions = %d, %v", len(revs), err)
		}
		if revs[0].Status != signpost.StatusClosed || revs[1].Status != signpost.StatusPartiallyOpen || len(revs[1].Places) != 2 {
			t.Errorf("history overwritten: %+v", revs)
		}
		if !revs[0].UpdatedAt.Equal(time.Date(2026, 1, 6, 6, 0, 0, 0, time.UTC)) || revs[0].Starts == nil || !revs[0].Starts.Equal(starts) {
			t.Errorf("revision 1 times = %v, %v", revs[0].UpdatedAt, revs[0].Starts)
		}
		open, _ := db.Notices(ctx, signpost.NoticeFilter{})
		if len(open) != 0 {
			t.Errorf("closed notice listed as open: %+v", open)
		}
		all, _ := db.Notices(ctx, signpost.NoticeFilter{IncludeClosed: true, Place: &signpost.PlaceRef{Kind: signpost.PlaceWard, ID: "W1"}})
		if len(all) != 1 {
			t.Errorf("notices for ward W1 = %d, want 1", len(all))
		}
		v1, _ := db.ChangeVersion(ctx)
		if v1 != v0+3 {
			t.Errorf("change version %d → %d, want +3", v0, v1)
		}
	})
}

func TestNoticeValidation(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedPlaces(t, db)
		good := signpost.NoticeInput{Category: signpost.CategoryRoads, Status: signpost.StatusGritted,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceRoute, ID: "R1"}}, Headline: "Route 1 gritted"}
		tests := []struct {
			name   string
			change func(*signpost.NoticeInput)
			code   string
		}{
			{"ok", func(*signpost.NoticeInput) {}, ""},
			{"unknown place", func(in *signpost.NoticeInput) {
				in.Places = []signpost.PlaceRef{{Kind: signpost.PlaceSchool, ID: "999"}}
			}, signpost.EINVALID},
			{"no places", func(in *signpost.NoticeInput) { in.Places = nil }, signpost.EINVALID},
			{"bad category", func(in *signpost.NoticeInput) { in.Category = "weather" }, signpost.EINVALID},
			{"bad status", func(in *signpost.NoticeInput) { in.Status = "shut" }, signpost.EINVALID},
			{"no headline", func(in *signpost.NoticeInput) { in.Headline = "  " }, signpost.EINVALID},
			{"whole area", func(in *signpost.NoticeInput) { in.Places = []signpost.PlaceRef{{Kind: signpost.PlaceAll}} }, ""},
		}
		for _, tt := range tests {
			in := good
			tt.change(&in)
			_, err := db.CreateNotice(ctx, in)
			if got := signpost.ErrorCode(err); got != tt.code {
				t.Errorf("%s: code %q (%v), want %q", tt.name, got, err, tt.code)
			}
		}
		if _, err := db.UpdateNotice(ctx, 424242, good); signpost.ErrorCode(err) != signpost.ENOTFOUND {
			t.Errorf("update missing notice: %v", err)
		}
	})
}
