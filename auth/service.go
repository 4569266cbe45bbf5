// Package auth signs Signpost's staff in and out and decides what they may
// do: roles and permissions, local accounts with argon2id password hashes,
// sign-in throttling and lock-out, server-side sessions with idle and
// absolute expiry and a CSRF token each, optional OpenID Connect single
// sign-on, and the HTTP middleware the console's routes sit behind. Every
// change to an account and every sign-in is written to the audit log in the
// same transaction.
//
// The Service API takes and returns plain values (a token string, not a
// cookie), so the web layer decides how they travel; the cookie and
// middleware helpers in http.go are the only HTTP-aware parts.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/store"
)

// Config holds the rules a Service applies. Zero fields take the defaults
// shown.
type Config struct {
	Params Params // for new hashes; older hashes are replaced at sign-in (DefaultParams)

	MaxFailures int           // failed sign-ins in a row that lock an account (5)
	FailWindow  time.Duration // failures further apart than this do not add up (15 min)
	LockFor     time.Duration // how long a lock-out lasts (15 min)

	ClientMaxFailures int           // failed sign-ins from one client within FailWindow that block it (20)
	ClientLockFor     time.Duration // how long that block lasts (15 min)

	IdleTimeout     time.Duration // a session unused this long ends (30 min)
	AbsoluteTimeout time.Duration // a session ends this long after sign-in, however busy (12 h)
	// TouchEvery is how stale a session's last-seen time may be before a
	// request rewrites it (1 min), so that reading pages does not write to
	// the database on every request. Idle expiry is that much less exact.
	TouchEvery time.Duration

	Now func() time.Time // the clock (time.Now); tests move it
}

func (c Config) withDefaults() Config {
	if c.Params == (Params{}) {
		c.Params = DefaultParams()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.ClientMaxFailures <= 0 {
		c.ClientMaxFailures = 20
	}
	def(&c.FailWindow, 15*time.Minute)
	def(&c.LockFor, 15*time.Minute)
	def(&c.ClientLockFor, 15*time.Minute)
	def(&c.IdleTimeout, 30*time.Minute)
	def(&c.AbsoluteTimeout, 12*time.Hour)
	def(&c.TouchEvery, time.Minute)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// User is a staff account, without its secrets.
type User struct {
	ID          int64
	Email       string
	Name        string
	Role        Role
	Disabled    bool
	HasPassword bool // false for single-sign-on-only accounts
	SSO         bool // linked to an identity provider
	LockedUntil *time.Time
	LastSignIn  *time.Time
	CreatedAt   time.Time
}

// Actor is how the audit log names this user.
func (u User) Actor() string { return "user:" + u.Email }

// Locked reports whether the account is locked out at now.
func (u User) Locked(now time.Time) bool { return u.LockedUntil != nil && now.Before(*u.LockedUntil) }

func userFrom(r store.User) User {
	return User{ID: r.ID, Email: r.Email, Name: r.Name, Role: Role(r.Role), Disabled: r.Disabled,
		HasPassword: r.PasswordHash != "", SSO: r.OIDCSubject != "", LockedUntil: r.LockedUntil,
		LastSignIn: r.LastSignIn, CreatedAt: r.CreatedAt}
}

// Session is a signed-in session.
type Session struct {
	ID     int64
	UserID int64
	// Token is the secret the browser holds. SignIn returns it; the
	// database keeps only its SHA-256, so Authenticate echoes back the
	// token it was given.
	Token      string
	CSRFToken  string // the synchroniser token forms must carry
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
}

// Service signs staff in and manages their accounts.
type Service struct {
	db  *store.DB
	cfg Config
	// dummyHash is verified against when no account matches, so that an
	// unknown address takes as long to refuse as a wrong password.
	dummyHash string
}

// NewService returns a Service over db.
func NewService(db *store.DB, cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Params.check(); err != nil {
		return nil, err
	}
	dummy, err := HashPassword(rand.Text(), cfg.Params)
	if err != nil {
		return nil, err
	}
	return &Service{db: db, cfg: cfg, dummyHash: dummy}, nil
}

// Config returns the rules in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// The messages people see when signing in. Wrong address and wrong
// password read alike so that the form does not tell anyone which
// addresses have accounts; a lock-out reads alike for known and unknown
// addresses for the same reason.
func errBadCredentials() error {
	return signpost.Errorf(signpost.EUNAUTHORIZED, "that e-mail address and password do not match an account")
}

// errLockedOut names the longest lock so that the message is the same
// whichever lock applies.
func (s *Service) errLockedOut() error {
	mins := int(max(s.cfg.LockFor, s.cfg.ClientLockFor).Round(time.Minute) / time.Minute)
	return signpost.Errorf(signpost.ERATELIMITED, "too many failed sign-ins: wait up to %d minutes and try again, or ask an administrator to reset your password", max(mins, 1))
}

func errSessionEnded() error {
	return signpost.Errorf(signpost.EUNAUTHORIZED, "your session has ended: sign in again")
}

// throttleKey hashes a client key or an address so that the throttle
// table holds neither.
func throttleKey(kind, v string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + v))
	return hex.EncodeToString(sum[:])
}

// SignIn checks an e-mail address and password and starts a session.
// clientKey identifies where the attempt came from (the web layer passes
// the client's IP address) for per-client throttling; "" skips it. The
// password is checked outside any transaction, since argon2id takes tens of
// milliseconds and SQLite has one writer.
func (s *Service) SignIn(ctx context.Context, email, password, clientKey string) (Session, error) {
	now := s.now()
	norm, emailErr := NormaliseEmail(email)
	if emailErr != nil {
		// Still counted against the client, but no address key: it is not
		// an address anyone could lock.
		norm = ""
	}
	var limits []limit
	if clientKey != "" {
		limits = append(limits, limit{throttleKey("client", clientKey), s.cfg.ClientMaxFailures, s.cfg.ClientLockFor})
	}
	// Refuse early, before spending a hash, when the client or account is
	// locked. The transaction below checks again.
	if locked, err := s.throttled(ctx, limits, now); err != nil || locked {
		if err != nil {
			return Session{}, err
		}
		return Session{}, s.errLockedOut()
	}
	var found store.User
	known := false
	if norm != "" {
		u, err := s.db.UserByEmail(ctx, norm)
		switch signpost.ErrorCode(err) {
		case "":
			found, known = u, true
		case signpost.ENOTFOUND:
			// An unknown address locks like an account would, so that
			// lock-outs do not tell which addresses have accounts.
			limits = append(limits, limit{throttleKey("email", norm), s.cfg.MaxFailures, s.cfg.LockFor})
			if locked, err := s.throttled(ctx, limits[len(limits)-1:], now); err != nil || locked {
				if err != nil {
					return Session{}, err
				}
				return Session{}, s.errLockedOut()
			}
		default:
			return Session{}, err
		}
	}
	if known && userFrom(found).Locked(now) {
		return Session{}, s.errLockedOut()
	}

	hash := s.dummyHash
	if known && found.PasswordHash != "" {
		hash = found.PasswordHash
	}
	ok, rehash, err := VerifyPassword(hash, password, s.cfg.Params)
	if err != nil {
		return Session{}, fmt.Errorf("sign in: stored hash for account %d: %w", found.ID, err)
	}
	ok = ok && known && found.PasswordHash != ""
	var newHash string
	if ok && rehash {
		if newHash, err = HashPassword(password, s.cfg.Params); err != nil {
			return Session{}, err
		}
	}

	var sess Session
	var outcome error
	err = s.db.UpdateAccounts(ctx, func(tx *store.Tx) error {
		outcome = nil
		for _, l := range limits {
			t, err := tx.ThrottleByKey(ctx, l.key)
			if err != nil {
				return err
			}
			if t.LockedUntil != nil && now.Before(*t.LockedUntil) {
				outcome = s.errLockedOut()
				return nil
			}
		}
		if !known {
			outcome = errBadCredentials()
			return s.recordFailure(ctx, tx, limits, nil, now)
		}
		u, err := tx.UserByID(ctx, found.ID)
		if err != nil {
			return err
		}
		if userFrom(u).Locked(now) {
			outcome = s.errLockedOut()
			return nil
		}
		if u.PasswordHash != found.PasswordHash {
			// The password changed while we were hashing: the attempt was
			// against the old one, so it proves nothing either way.
			outcome = errBadCredentials()
			return nil
		}
		if !ok {
			outcome = errBadCredentials()
			return s.recordFailure(ctx, tx, limits, &u, now)
		}
		if u.Disabled {
			outcome = signpost.Errorf(signpost.EFORBIDDEN, "this account is disabled: ask an administrator")
			return nil
		}
		if newHash != "" {
			u.PasswordHash = newHash
		}
		sess, err = s.startSession(ctx, tx, &u, now)
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: "user:" + u.Email, Action: audit.SignIn, Target: "user:" + u.Email,
			After: map[string]any{"method": "password", "rehashed": newHash != ""}})
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	if outcome != nil {
		return Session{}, outcome
	}
	return sess, nil
}

// limit is a throttle key and the failures that lock it.
type limit struct {
	key     string
	max     int
	lockFor time.Duration
}

// throttled reports whether any of limits is locked at now.
func (s *Service) throttled(ctx context.Context, limits []limit, now time.Time) (bool, error) {
	for _, l := range limits {
		t, err := s.db.ThrottleByKey(ctx, l.key)
		if err != nil {
			return false, fmt.Errorf("sign in: %w", err)
		}
		if t.LockedUntil != nil && now.Before(*t.LockedUntil) {
			return true, nil
		}
	}
	return false, nil
}

// recordFailure counts a failed sign-in against each throttle limit and
// the account, if there is one, locking whichever reaches its maximum, and
// audits it.
func (s *Service) recordFailure(ctx context.Context, tx *store.Tx, limits []limit, u *store.User, now time.Time) error {
	for _, l := range limits {
		t, err := tx.ThrottleByKey(ctx, l.key)
		if err != nil {
			return err
		}
		if t.WindowStart.IsZero() || now.Sub(t.WindowStart) >= s.cfg.FailWindow {
			t.Failures, t.WindowStart = 0, now
		}
		t.Failures++
		if t.Failures >= l.max {
			until := now.Add(l.lockFor)
			t.Failures, t.WindowStart, t.LockedUntil = 0, now, &until
		}
		if err := tx.PutThrottle(ctx, t); err != nil {
			return err
		}
	}
	target := "user:unknown"
	if u != nil {
		target = "user:" + u.Email
		if u.LastFailedAt != nil && now.Sub(*u.LastFailedAt) >= s.cfg.FailWindow {
			u.FailedLogins = 0
		}
		u.FailedLogins++
		u.LastFailedAt = &now
		lockedNow := false
		if u.FailedLogins >= s.cfg.MaxFailures {
			until := now.Add(s.cfg.LockFor)
			u.LockedUntil, u.FailedLogins, lockedNow = &until, 0, true
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if lockedNow {
			if _, err := audit.Append(ctx, tx, audit.Record{Actor: "system:auth", Action: audit.LockOut, Target: target,
				After: map[string]any{"locked_until": u.LockedUntil}}); err != nil {
				return err
			}
		}
	}
	_, err := audit.Append(ctx, tx, audit.Record{Actor: "anonymous", Action: audit.SignInFailed, Target: target})
	return err
}

// startSession clears the account's failures, records the sign-in, and
// stores a new session for it.
func (s *Service) startSession(ctx context.Context, tx *store.Tx, u *store.User, now time.Time) (Session, error) {
	u.FailedLogins, u.LastFailedAt, u.LockedUntil, u.LastSignIn = 0, nil, nil, &now
	if err := tx.UpdateUser(ctx, u); err != nil {
		return Session{}, err
	}
	token, csrf := randomToken(), randomToken()
	row := store.Session{TokenHash: hashToken(token), UserID: u.ID, CSRFToken: csrf,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.AbsoluteTimeout)}
	if err := tx.InsertSession(ctx, &row); err != nil {
		return Session{}, err
	}
	return sessionFrom(row, token), nil
}

// randomToken returns 32 random bytes in unpadded base64url: 256 bits,
// beyond guessing, and safe in a cookie, a header or a form field.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func sessionFrom(r store.Session, token string) Session {
	return Session{ID: r.ID, UserID: r.UserID, Token: token, CSRFToken: r.CSRFToken,
		CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, ExpiresAt: r.ExpiresAt}
}

// hashToken is how a session token is stored and looked up.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// maxTokenLen bounds the cookie value hashed on every request.
const maxTokenLen = 128

// Authenticate returns the user and session a token belongs to. A token
// that is unknown, revoked, idle too long, past its absolute expiry or
// whose account is disabled is EUNAUTHORIZED; ended sessions are deleted on
// the way.
func (s *Service) Authenticate(ctx context.Context, token string) (User, Session, error) {
	if token == "" || len(token) > maxTokenLen {
		return User{}, Session{}, errSessionEnded()
	}
	row, u, err := s.db.SessionByTokenHash(ctx, hashToken(token))
	if signpost.ErrorCode(err) == signpost.EUNAUTHORIZED {
		return User{}, Session{}, errSessionEnded()
	}
	if err != nil {
		return User{}, Session{}, fmt.Errorf("authenticate: %w", err)
	}
	now := s.now()
	ended := !now.Before(row.ExpiresAt) || !now.Before(row.LastSeenAt.Add(s.cfg.IdleTimeout)) || u.Disabled || !Role(u.Role).Valid()
	if ended {
		err := s.db.UpdateAccounts(ctx, func(tx *store.Tx) error {
			_, err := tx.DeleteSession(ctx, row.TokenHash)
			return err
		})
		if err != nil {
			return User{}, Session{}, fmt.Errorf("authenticate: %w", err)
		}
		return User{}, Session{}, errSessionEnded()
	}
	if now.Sub(row.LastSeenAt) >= s.cfg.TouchEvery {
		err := s.db.UpdateAccounts(ctx, func(tx *store.Tx) error { return tx.TouchSession(ctx, row.ID, now) })
		if err != nil {
			return User{}, Session{}, fmt.Errorf("authenticate: %w", err)
		}
		row.LastSeenAt = now
	}
	return userFrom(u), sessionFrom(row, token), nil
}

// SignOut ends the session a token belongs to. Signing out twice, or with
// an unknown token, is not an error.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" || len(token) > maxTokenLen {
		return nil
	}
	h := hashToken(token)
	_, u, err := s.db.SessionByTokenHash(ctx, h)
	if signpost.ErrorCode(err) == signpost.EUNAUTHORIZED {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return s.db.UpdateAccounts(ctx, func(tx *store.Tx) error {
		gone, err := tx.DeleteSession(ctx, h)
		if err != nil || !gone {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: "user:" + u.Email, Action: audit.SignOut, Target: "user:" + u.Email})
		return err
	})
}

// CheckCSRF reports whether token is the session's CSRF token, comparing
// in constant time. An empty token never matches.
func CheckCSRF(sess Session, token string) bool {
	if sess.CSRFToken == "" || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(sess.CSRFToken), []byte(token)) == 1
}

// Prune deletes ended sessions and throttle rows no longer counting, and
// returns how many sessions went. Run it from time to time (hourly is
// plenty); Authenticate refuses ended sessions either way.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	now := s.now()
	var n int64
	err := s.db.UpdateAccounts(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DeleteSessionsIdleOrExpired(ctx, now, now.Add(-s.cfg.IdleTimeout), now.Add(-s.cfg.FailWindow))
		return err
	})
	return n, err
}
