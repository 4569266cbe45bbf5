package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 6, 4, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testParams() auth.Params {
	return auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// fixture is a service over a fresh database with a fake clock and one
// account of each role, all with the password below.
type fixture struct {
	db    *store.DB
	clock *clock
	svc   *auth.Service
}

const password = "gritters out at four"

func newFixture(t *testing.T, db *store.DB, cfg auth.Config) *fixture {
	t.Helper()
	f := &fixture{db: db, clock: newClock()}
	db.SetClock(f.clock.Now)
	if cfg.Params == (auth.Params{}) {
		cfg.Params = testParams()
	}
	cfg.Now = f.clock.Now
	var err error
	if f.svc, err = auth.NewService(db, cfg); err != nil {
		t.Fatal(err)
	}
	for _, r := range auth.Roles() {
		if _, err := f.svc.CreateUser(context.Background(), "cli:test", auth.NewUser{
			Email: string(r) + "@northdale.gov.uk", Name: "Test " + string(r), Role: r, Password: password,
		}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func code(err error) string { return signpost.ErrorCode(err) }

func TestSignInAndAuthenticate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{})
		ctx := context.Background()
		sess, err := f.svc.SignIn(ctx, "  Author@Northdale.GOV.uk ", password, "203.0.113.7")
		if err != nil {
			t.Fatalf("sign in: %v", err)
		}
		if len(sess.Token) < 43 || len(sess.CSRFToken) < 43 || sess.Token == sess.CSRFToken {
			t.Errorf("session tokens %q / %q are too short or equal", sess.Token, sess.CSRFToken)
		}
		if !sess.ExpiresAt.Equal(f.clock.Now().Add(12 * time.Hour)) {
			t.Errorf("expires at %v, want 12 hours after sign-in", sess.ExpiresAt)
		}
		u, got, err := f.svc.Authenticate(ctx, sess.Token)
		if err != nil {
			t.Fatalf("authenticate: %v", err)
		}
		if u.Email != "author@northdale.gov.uk" || u.Role != auth.Author || got.ID != sess.ID || got.CSRFToken != sess.CSRFToken {
			t.Errorf("authenticate = %+v %+v", u, got)
		}
		if u.LastSignIn == nil || !u.LastSignIn.Equal(f.clock.Now()) {
			t.Errorf("last sign-in = %v, want %v", u.LastSignIn, f.clock.Now())
		}
		for _, bad := range []string{"", "not-a-token", sess.Token + "x", strings.Repeat("a", 4096), sess.CSRFToken} {
			if _, _, err := f.svc.Authenticate(ctx, bad); code(err) != signpost.EUNAUTHORIZED {
				t.Errorf("authenticate(%.20q) = %v, want %s", bad, err, signpost.EUNAUTHORIZED)
			}
		}
	})
}

func TestSignInRefusals(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{})
		ctx := context.Background()
		if _, err := f.svc.CreateUser(ctx, "cli:test", auth.NewUser{Email: "sso@northdale.gov.uk", Name: "SSO only", Role: auth.Viewer}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Disable(ctx, "cli:test", "viewer@northdale.gov.uk"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, email, password, want string
		}{
			{"wrong password", "author@northdale.gov.uk", "gritters out at five", signpost.EUNAUTHORIZED},
			{"unknown address", "nobody@northdale.gov.uk", password, signpost.EUNAUTHORIZED},
			{"not an address", "author", password, signpost.EUNAUTHORIZED},
			{"empty password", "author@northdale.gov.uk", "", signpost.EUNAUTHORIZED},
			{"single sign-on only", "sso@northdale.gov.uk", "", signpost.EUNAUTHORIZED},
			{"disabled, right password", "viewer@northdale.gov.uk", password, signpost.EFORBIDDEN},
			{"disabled, wrong password", "viewer@northdale.gov.uk", "guess guess guess", signpost.EUNAUTHORIZED},
		}
		for _, tc := range cases {
			_, err := f.svc.SignIn(ctx, tc.email, tc.password, "")
			if code(err) != tc.want {
				t.Errorf("%s: sign in = %v, want %s", tc.name, err, tc.want)
			}
		}
	})
}

func TestLockOutAndUnlock(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{MaxFailures: 5, LockFor: 15 * time.Minute, FailWindow: 15 * time.Minute})
		ctx := context.Background()
		const who = "approver@northdale.gov.uk"
		for i := 1; i <= 5; i++ {
			_, err := f.svc.SignIn(ctx, who, "wrong wrong wrong", "")
			if code(err) != signpost.EUNAUTHORIZED {
				t.Fatalf("failure %d: %v, want %s", i, err, signpost.EUNAUTHORIZED)
			}
			f.clock.Advance(time.Second)
		}
		// Locked: even the right password is refused, and says so.
		if _, err := f.svc.SignIn(ctx, who, password, ""); code(err) != signpost.ERATELIMITED {
			t.Fatalf("right password while locked = %v, want %s", err, signpost.ERATELIMITED)
		}
		u, _ := f.svc.User(ctx, who)
		if !u.Locked(f.clock.Now()) {
			t.Errorf("account not shown as locked: %+v", u)
		}
		f.clock.Advance(14 * time.Minute)
		if _, err := f.svc.SignIn(ctx, who, password, ""); code(err) != signpost.ERATELIMITED {
			t.Fatalf("right password a minute before unlock = %v, want %s", err, signpost.ERATELIMITED)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.svc.SignIn(ctx, who, password, ""); err != nil {
			t.Fatalf("right password after the lock-out = %v", err)
		}
		// Success cleared the count: four more failures do not lock.
		for i := 0; i < 4; i++ {
			f.svc.SignIn(ctx, who, "wrong wrong wrong", "")
		}
		if _, err := f.svc.SignIn(ctx, who, password, ""); err != nil {
			t.Fatalf("after 4 failures following a success: %v", err)
		}
	})
}

func TestFailuresOutsideTheWindowDoNotAddUp(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{MaxFailures: 3, FailWindow: 10 * time.Minute})
		ctx := context.Background()
		for i := 0; i < 6; i++ {
			if _, err := f.svc.SignIn(ctx, "author@northdale.gov.uk", "wrong wrong wrong", ""); code(err) != signpost.EUNAUTHORIZED {
				t.Fatalf("failure %d, 11 minutes apart: %v", i, err)
			}
			f.clock.Advance(11 * time.Minute)
		}
		if _, err := f.svc.SignIn(ctx, "author@northdale.gov.uk", password, ""); err != nil {
			t.Fatalf("sign in after spaced-out failures: %v", err)
		}
	})
}

// TestUnknownAddressLocksLikeAnAccount: the lock-out must not tell an
// attacker which addresses have accounts.
func TestUnknownAddressLocksLikeAnAccount(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{MaxFailures: 3})
		ctx := context.Background()
		for _, email := range []string{"author@northdale.gov.uk", "ghost@northdale.gov.uk"} {
			var got []string
			for i := 0; i < 4; i++ {
				_, err := f.svc.SignIn(ctx, email, "wrong wrong wrong", "")
				got = append(got, code(err))
			}
			want := []string{signpost.EUNAUTHORIZED, signpost.EUNAUTHORIZED, signpost.EUNAUTHORIZED, signpost.ERATELIMITED}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: codes %v, want %v", email, got, want)
			}
		}
	})
}

func TestClientThrottle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{MaxFailures: 10, ClientMaxFailures: 3, ClientLockFor: 5 * time.Minute})
		ctx := context.Background()
		// One client guessing across accounts is blocked though no account
		// reaches its own limit.
		for i, email := range []string{"viewer@northdale.gov.uk", "author@northdale.gov.uk", "ghost@northdale.gov.uk"} {
			if _, err := f.svc.SignIn(ctx, email, "wrong wrong wrong", "198.51.100.1"); code(err) != signpost.EUNAUTHORIZED {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		if _, err := f.svc.SignIn(ctx, "admin@northdale.gov.uk", password, "198.51.100.1"); code(err) != signpost.ERATELIMITED {
			t.Errorf("blocked client, right password = %v, want %s", err, signpost.ERATELIMITED)
		}
		if _, err := f.svc.SignIn(ctx, "admin@northdale.gov.uk", password, "198.51.100.2"); err != nil {
			t.Errorf("another client = %v, want success", err)
		}
		f.clock.Advance(5 * time.Minute)
		if _, err := f.svc.SignIn(ctx, "admin@northdale.gov.uk", password, "198.51.100.1"); err != nil {
			t.Errorf("blocked client after the block = %v, want success", err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	cases := []struct {
		name  string
		steps []time.Duration // time between requests
		alive []bool          // whether each request still finds the session
	}{
		{"busy within idle limit", []time.Duration{10 * time.Minute, 29 * time.Minute, 29 * time.Minute}, []bool{true, true, true}},
		{"idle exactly 30 minutes", []time.Duration{30 * time.Minute}, []bool{false}},
		{"idle after activity", []time.Duration{20 * time.Minute, 31 * time.Minute, 0}, []bool{true, false, false}},
		{"absolute at 12 hours however busy", func() []time.Duration {
			var s []time.Duration
			for range 36 {
				s = append(s, 20*time.Minute)
			}
			return s
		}(), func() []bool {
			a := make([]bool, 36)
			for i := range 35 {
				a[i] = true
			}
			return a
		}()},
	}
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour, TouchEvery: time.Minute})
		ctx := context.Background()
		for _, tc := range cases {
			sess, err := f.svc.SignIn(ctx, "author@northdale.gov.uk", password, "")
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range tc.steps {
				f.clock.Advance(d)
				_, _, err := f.svc.Authenticate(ctx, sess.Token)
				if alive := err == nil; alive != tc.alive[i] {
					t.Errorf("%s: request %d after %v: alive=%v (%v), want %v", tc.name, i, d, alive, err, tc.alive[i])
				}
				if err != nil && code(err) != signpost.EUNAUTHORIZED {
					t.Errorf("%s: request %d: %v, want %s", tc.name, i, err, signpost.EUNAUTHORIZED)
				}
			}
		}
	})
}

func TestRevocation(t *testing.T) {
	cases := []struct {
		name   string
		revoke func(ctx context.Context, f *fixture, token string) error
		alive  bool
	}{
		{"sign out", func(ctx context.Context, f *fixture, token string) error { return f.svc.SignOut(ctx, token) }, false},
		{"disable", func(ctx context.Context, f *fixture, _ string) error {
			_, err := f.svc.Disable(ctx, "user:admin@northdale.gov.uk", "author@northdale.gov.uk")
			return err
		}, false},
		{"password reset", func(ctx context.Context, f *fixture, _ string) error {
			_, err := f.svc.ResetPassword(ctx, "user:admin@northdale.gov.uk", "author@northdale.gov.uk", "a brand new passphrase")
			return err
		}, false},
		{"role change keeps the session", func(ctx context.Context, f *fixture, _ string) error {
			_, err := f.svc.SetRole(ctx, "user:admin@northdale.gov.uk", "author@northdale.gov.uk", auth.Approver)
			return err
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				f := newFixture(t, db, auth.Config{})
				ctx := context.Background()
				sess, err := f.svc.SignIn(ctx, "author@northdale.gov.uk", password, "")
				if err != nil {
					t.Fatal(err)
				}
				other, err := f.svc.SignIn(ctx, "approver@northdale.gov.uk", password, "")
				if err != nil {
					t.Fatal(err)
				}
				if err := tc.revoke(ctx, f, sess.Token); err != nil {
					t.Fatal(err)
				}
				_, _, err = f.svc.Authenticate(ctx, sess.Token)
				if (err == nil) != tc.alive {
					t.Errorf("after %s authenticate = %v, want alive=%v", tc.name, err, tc.alive)
				}
				if _, _, err := f.svc.Authenticate(ctx, other.Token); err != nil {
					t.Errorf("someone else's session ended too: %v", err)
				}
			})
		})
	}
}

func TestResetPasswordLiftsLockOut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{MaxFailures: 2})
		ctx := context.Background()
		for range 2 {
			f.svc.SignIn(ctx, "author@northdale.gov.uk", "wrong wrong wrong", "")
		}
		if _, err := f.svc.SignIn(ctx, "author@northdale.gov.uk", password, ""); code(err) != signpost.ERATELIMITED {
			t.Fatalf("not locked: %v", err)
		}
		if _, err := f.svc.ResetPassword(ctx, "cli:test", "author@northdale.gov.uk", "short"); code(err) != signpost.EINVALID {
			t.Errorf("reset to a short password = %v, want %s", err, signpost.EINVALID)
		}
		if _, err := f.svc.ResetPassword(ctx, "cli:test", "author@northdale.gov.uk", "snow day on the moors"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SignIn(ctx, "author@northdale.gov.uk", password, ""); code(err) != signpost.EUNAUTHORIZED {
			t.Errorf("old password after reset = %v, want %s", err, signpost.EUNAUTHORIZED)
		}
		if _, err := f.svc.SignIn(ctx, "author@northdale.gov.uk", "snow day on the moors", ""); err != nil {
			t.Errorf("new password after reset = %v", err)
		}
	})
}

func TestRehashOnSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{})
		ctx := context.Background()
		stronger := testParams()
		stronger.Time = 3
		svc, err := auth.NewService(db, auth.Config{Params: stronger, Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		before, _ := db.UserByEmail(ctx, "author@northdale.gov.uk")
		if !strings.Contains(before.PasswordHash, "t=1,") {
			t.Fatalf("stored hash %q was not made with t=1", before.PasswordHash)
		}
		if _, err := svc.SignIn(ctx, "author@northdale.gov.uk", password, ""); err != nil {
			t.Fatal(err)
		}
		after, _ := db.UserByEmail(ctx, "author@northdale.gov.uk")
		if !strings.Contains(after.PasswordHash, "$m=64,t=3,p=1$") {
			t.Errorf("hash after sign-in = %q, want the new parameters", after.PasswordHash)
		}
		if _, err := svc.SignIn(ctx, "author@northdale.gov.uk", password, ""); err != nil {
			t.Errorf("sign in with the rehashed password: %v", err)
		}
	})
}

func TestAccountManagement(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{})
		ctx := context.Background()
		cases := []struct {
			name string
			do   func() error
			want string
		}{
			{"duplicate address", func() error {
				_, err := f.svc.CreateUser(ctx, "cli:test", auth.NewUser{Email: "AUTHOR@northdale.gov.uk", Name: "Again", Role: auth.Author, Password: password})
				return err
			}, signpost.ECONFLICT},
			{"bad role", func() error {
				_, err := f.svc.CreateUser(ctx, "cli:test", auth.NewUser{Email: "new@northdale.gov.uk", Name: "New", Role: "root", Password: password})
				return err
			}, signpost.EINVALID},
			{"no name", func() error {
				_, err := f.svc.CreateUser(ctx, "cli:test", auth.NewUser{Email: "new@northdale.gov.uk", Name: " ", Role: auth.Author, Password: password})
				return err
			}, signpost.EINVALID},
			{"common password", func() error {
				_, err := f.svc.CreateUser(ctx, "cli:test", auth.NewUser{Email: "new@northdale.gov.uk", Name: "New", Role: auth.Author, Password: "password1234"})
				return err
			}, signpost.EINVALID},
			{"role of nobody", func() error {
				_, err := f.svc.SetRole(ctx, "cli:test", "ghost@northdale.gov.uk", auth.Admin)
				return err
			}, signpost.ENOTFOUND},
			{"demote the last admin", func() error {
				_, err := f.svc.SetRole(ctx, "cli:test", "admin@northdale.gov.uk", auth.Approver)
				return err
			}, signpost.ECONFLICT},
			{"disable the last admin", func() error {
				_, err := f.svc.Disable(ctx, "cli:test", "admin@northdale.gov.uk")
				return err
			}, signpost.ECONFLICT},
			{"promote another admin", func() error {
				_, err := f.svc.SetRole(ctx, "cli:test", "approver@northdale.gov.uk", auth.Admin)
				return err
			}, ""},
			{"now the first admin can go", func() error {
				_, err := f.svc.Disable(ctx, "cli:test", "admin@northdale.gov.uk")
				return err
			}, ""},
		}
		for _, tc := range cases {
			if err := tc.do(); code(err) != tc.want {
				t.Errorf("%s: %v, want code %q", tc.name, err, tc.want)
			}
		}
		users, err := f.svc.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		roles := map[string]auth.Role{}
		for _, u := range users {
			roles[u.Email] = u.Role
			if u.Email == "admin@northdale.gov.uk" && !u.Disabled {
				t.Error("admin not disabled")
			}
		}
		if len(users) != 4 || roles["approver@northdale.gov.uk"] != auth.Admin {
			t.Errorf("users = %+v", users)
		}
	})
}

// TestEverythingIsAudited checks the audit trail of a session's worth of
// actions: each is recorded, the chain verifies, and no entry holds a
// password or its hash.
func TestEverythingIsAudited(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{MaxFailures: 2})
		ctx := context.Background()
		sess, _ := f.svc.SignIn(ctx, "admin@northdale.gov.uk", password, "")
		f.svc.SignIn(ctx, "author@northdale.gov.uk", "wrong wrong wrong", "")
		f.svc.SignIn(ctx, "author@northdale.gov.uk", "wrong wrong wrong", "")
		f.svc.SignIn(ctx, "ghost@northdale.gov.uk", "wrong wrong wrong", "")
		f.svc.SetRole(ctx, "user:admin@northdale.gov.uk", "viewer@northdale.gov.uk", auth.Author)
		f.svc.ResetPassword(ctx, "user:admin@northdale.gov.uk", "author@northdale.gov.uk", "a brand new passphrase")
		f.svc.Disable(ctx, "user:admin@northdale.gov.uk", "approver@northdale.gov.uk")
		f.svc.Enable(ctx, "user:admin@northdale.gov.uk", "approver@northdale.gov.uk")
		f.svc.SignOut(ctx, sess.Token)

		entries, err := audit.List(ctx, db, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, string(e.Action)+" "+e.Actor+" "+e.Target)
			for _, secret := range []string{password, "a brand new passphrase", "argon2id", "wrong wrong wrong"} {
				if strings.Contains(string(e.Before)+string(e.After), secret) {
					t.Errorf("entry %d holds a secret: %s %s", e.Seq, e.Before, e.After)
				}
			}
		}
		want := []string{
			"user-create cli:test user:viewer@northdale.gov.uk",
			"user-create cli:test user:author@northdale.gov.uk",
			"user-create cli:test user:approver@northdale.gov.uk",
			"user-create cli:test user:admin@northdale.gov.uk",
			"sign-in user:admin@northdale.gov.uk user:admin@northdale.gov.uk",
			"sign-in-failed anonymous user:author@northdale.gov.uk",
			"lock-out system:auth user:author@northdale.gov.uk",
			"sign-in-failed anonymous user:author@northdale.gov.uk",
			"sign-in-failed anonymous user:unknown",
			"role-change user:admin@northdale.gov.uk user:viewer@northdale.gov.uk",
			"password-reset user:admin@northdale.gov.uk user:author@northdale.gov.uk",
			"user-disable user:admin@northdale.gov.uk user:approver@northdale.gov.uk",
			"user-enable user:admin@northdale.gov.uk user:approver@northdale.gov.uk",
			"sign-out user:admin@northdale.gov.uk user:admin@northdale.gov.uk",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, e := range entries {
			if e.Action == audit.RoleChange && (!strings.Contains(string(e.Before), `"role":"viewer"`) || !strings.Contains(string(e.After), `"role":"author"`)) {
				t.Errorf("role change before/after = %s / %s", e.Before, e.After)
			}
		}
		if rep, err := audit.Verify(ctx, db); err != nil || rep.Broken != nil {
			t.Errorf("verify = %+v, %v", rep, err)
		}
	})
}

func TestPrune(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{})
		ctx := context.Background()
		old, _ := f.svc.SignIn(ctx, "author@northdale.gov.uk", password, "")
		f.clock.Advance(25 * time.Minute)
		fresh, _ := f.svc.SignIn(ctx, "viewer@northdale.gov.uk", password, "")
		f.clock.Advance(10 * time.Minute)
		n, err := f.svc.Prune(ctx)
		if err != nil || n != 1 {
			t.Errorf("prune = %d, %v; want 1 idle session gone", n, err)
		}
		if _, _, err := f.svc.Authenticate(ctx, fresh.Token); err != nil {
			t.Errorf("fresh session pruned: %v", err)
		}
		if _, _, err := f.svc.Authenticate(ctx, old.Token); err == nil {
			t.Error("idle session still authenticates")
		}
	})
}

func TestConcurrentFailuresAllCount(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{MaxFailures: 100})
		ctx := context.Background()
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { f.svc.SignIn(ctx, "author@northdale.gov.uk", "wrong wrong wrong", "") })
		}
		wg.Wait()
		u, err := db.UserByEmail(ctx, "author@northdale.gov.uk")
		if err != nil || u.FailedLogins != 10 {
			t.Errorf("failed logins = %d, %v; want 10 (none lost to a race)", u.FailedLogins, err)
		}
	})
}

// TestLastAdminSurvivesConcurrentDemotions: two admins demoting each other
// at the same moment must leave one admin, on both engines, without a
// deadlock.
func TestLastAdminSurvivesConcurrentDemotions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, auth.Config{})
		ctx := context.Background()
		if _, err := f.svc.SetRole(ctx, "cli:test", "approver@northdale.gov.uk", auth.Admin); err != nil {
			t.Fatal(err)
		}
		for round := range 5 {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, who := range []string{"admin@northdale.gov.uk", "approver@northdale.gov.uk"} {
				wg.Go(func() { _, errs[i] = f.svc.SetRole(ctx, "cli:test", who, auth.Author) })
			}
			wg.Wait()
			codes := []string{code(errs[0]), code(errs[1])}
			if !(codes[0] == "" && codes[1] == signpost.ECONFLICT) && !(codes[0] == signpost.ECONFLICT && codes[1] == "") {
				t.Fatalf("round %d: demotions gave %v, %v; want one success and one conflict", round, errs[0], errs[1])
			}
			users, _ := f.svc.Users(ctx)
			var admins []string
			for _, u := range users {
				if u.Role == auth.Admin {
					admins = append(admins, u.Email)
				}
			}
			if len(admins) != 1 {
				t.Fatalf("round %d: admins %v, want exactly one", round, admins)
			}
			// Restore two admins for the next round.
			for _, who := range []string{"admin@northdale.gov.uk", "approver@northdale.gov.uk"} {
				if _, err := f.svc.SetRole(ctx, "cli:test", who, auth.Admin); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
