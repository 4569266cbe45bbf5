package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// TestUserRoundTrip stores accounts with every optional field set and
// unset and reads them back unchanged, by each lookup, on both engines.
func TestUserRoundTrip(t *testing.T) {
	at := func(s string) *time.Time {
		v, _ := time.Parse(time.RFC3339Nano, s)
		return &v
	}
	cases := []store.User{
		{Email: "plain@northdale.gov.uk", Name: "Plain", Role: "viewer"},
		{Email: "full@northdale.gov.uk", Name: "Fully Set", Role: "admin", Disabled: true,
			PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5", OIDCIssuer: "https://login.example/t/v2.0", OIDCSubject: "sub-1",
			FailedLogins: 3, LastFailedAt: at("2026-01-06T03:59:00.123456Z"), LockedUntil: at("2026-01-06T04:14:00Z"),
			LastSignIn: at("2026-01-05T17:00:00.5Z"), CreatedAt: *at("2025-12-01T09:00:00Z")},
	}
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.SetClock(func() time.Time { return time.Date(2026, 1, 6, 4, 0, 0, 0, time.UTC) })
		for _, want := range cases {
			err := db.UpdateAccounts(ctx, func(tx *store.Tx) error { return tx.InsertUser(ctx, &want) })
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.UserByEmail(ctx, want.Email)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("UserByEmail:\n got %+v %v\nwant %+v", got, err, want)
			}
			err = db.UpdateAccounts(ctx, func(tx *store.Tx) error {
				byID, err := tx.UserByID(ctx, want.ID)
				if err != nil || !reflect.DeepEqual(byID, want) {
					t.Errorf("UserByID:\n got %+v %v\nwant %+v", byID, err, want)
				}
				if want.OIDCSubject != "" {
					byOIDC, err := tx.UserByOIDC(ctx, want.OIDCIssuer, want.OIDCSubject)
					if err != nil || byOIDC.ID != want.ID {
						t.Errorf("UserByOIDC = %+v, %v", byOIDC, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		users, err := db.Users(ctx)
		if err != nil || len(users) != 2 || users[0].Email != "full@northdale.gov.uk" {
			t.Errorf("Users = %+v, %v; want both, by address", users, err)
		}
	})
}

func TestUserErrors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := func(u store.User) error {
			return db.UpdateAccounts(ctx, func(tx *store.Tx) error { return tx.InsertUser(ctx, &u) })
		}
		if err := insert(store.User{Email: "a@northdale.gov.uk", Name: "A", Role: "author", OIDCIssuer: "i", OIDCSubject: "s"}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			err  error
			want string
		}{
			{"same address", insert(store.User{Email: "a@northdale.gov.uk", Name: "B", Role: "author"}), signpost.ECONFLICT},
			{"same sign-on subject", insert(store.User{Email: "b@northdale.gov.uk", Name: "B", Role: "author", OIDCIssuer: "i", OIDCSubject: "s"}), signpost.ECONFLICT},
			{"two accounts without sign-on", insert(store.User{Email: "c@northdale.gov.uk", Name: "C", Role: "author"}), ""},
			{"and another", insert(store.User{Email: "d@northdale.gov.uk", Name: "D", Role: "author"}), ""},
			{"no such address", func() error { _, err := db.UserByEmail(ctx, "z@northdale.gov.uk"); return err }(), signpost.ENOTFOUND},
			{"update nobody", db.UpdateAccounts(ctx, func(tx *store.Tx) error { return tx.UpdateUser(ctx, &store.User{ID: 999, Email: "q@x.y"}) }), signpost.ENOTFOUND},
			{"no session", func() error { _, _, err := db.SessionByTokenHash(ctx, "abc"); return err }(), signpost.EUNAUTHORIZED},
		}
		for _, tc := range cases {
			if got := signpost.ErrorCode(tc.err); got != tc.want {
				t.Errorf("%s: %v, want code %q", tc.name, tc.err, tc.want)
			}
		}
	})
}

// TestUpdateAccountsLeavesChangeVersion: account and session writes must
// not make the residents' site rebuild; content writes still must.
func TestUpdateAccountsLeavesChangeVersion(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v0, _ := db.ChangeVersion(ctx)
		err := db.UpdateAccounts(ctx, func(tx *store.Tx) error {
			return tx.InsertUser(ctx, &store.User{Email: "a@northdale.gov.uk", Name: "A", Role: "author"})
		})
		if err != nil {
			t.Fatal(err)
		}
		v1, _ := db.ChangeVersion(ctx)
		if v1 != v0 {
			t.Errorf("UpdateAccounts moved the change version %d → %d", v0, v1)
		}
		if err := db.Update(ctx, func(tx *store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if v2, _ := db.ChangeVersion(ctx); v2 == v1 {
			t.Error("Update no longer moves the change version: this test's premise is gone")
		}
	})
}

func TestThrottleRoundTrip(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		start := time.Date(2026, 1, 6, 4, 0, 0, 0, time.UTC)
		until := start.Add(15 * time.Minute)
		if got, err := db.ThrottleByKey(ctx, "k"); err != nil || got.Failures != 0 || got.LockedUntil != nil {
			t.Errorf("unknown key = %+v, %v", got, err)
		}
		for _, want := range []store.Throttle{
			{Key: "k", Failures: 2, WindowStart: start},
			{Key: "k", Failures: 0, WindowStart: start.Add(time.Minute), LockedUntil: &until},
		} {
			if err := db.UpdateAccounts(ctx, func(tx *store.Tx) error { return tx.PutThrottle(ctx, want) }); err != nil {
				t.Fatal(err)
			}
			got, err := db.ThrottleByKey(ctx, "k")
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("throttle:\n got %+v %v\nwant %+v", got, err, want)
			}
		}
	})
}
