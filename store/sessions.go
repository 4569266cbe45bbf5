package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/signpost-uk/signpost"
)

// Session is a signed-in staff session as stored. TokenHash is the SHA-256
// (hex) of the token the browser holds; the token itself is never stored.
type Session struct {
	ID         int64
	TokenHash  string
	UserID     int64
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry; idle expiry is the caller's rule
}

// InsertSession stores a new session and sets s.ID.
func (tx *Tx) InsertSession(ctx context.Context, s *Session) error {
	err := tx.QueryRow(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		s.TokenHash, s.UserID, s.CSRFToken, utc(s.CreatedAt), utc(s.LastSeenAt), utc(s.ExpiresAt)).Scan(&s.ID)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByTokenHash reads a session and its account together, which is
// what every staff request needs. A missing session is EUNAUTHORIZED.
func (db *DB) SessionByTokenHash(ctx context.Context, tokenHash string) (Session, User, error) {
	var s Session
	row := db.queryRow(ctx, `SELECT s.id, s.token_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, `+
		userColumnsOf("u")+` FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, tokenHash)
	u, err := scanUser(row, &s.ID, &s.TokenHash, &s.UserID, &s.CSRFToken, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, signpost.Errorf(signpost.EUNAUTHORIZED, "you are not signed in")
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("read session: %w", err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return s, u, nil
}

// TouchSession records activity on a session, for idle expiry.
func (tx *Tx) TouchSession(ctx context.Context, id int64, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, utc(at), id); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession revokes one session by its token hash and reports whether
// there was one.
func (tx *Tx) DeleteSession(ctx context.Context, tokenHash string) (bool, error) {
	res, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	if err != nil {
		return false, fmt.Errorf("delete session: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DeleteUserSessions revokes every session of an account and returns how
// many there were.
func (tx *Tx) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	res, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of account %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteSessionsIdleOrExpired removes sessions past their absolute expiry
// or not seen since idleBefore, and throttle rows whose window and lock are
// both over, so neither table grows without bound.
func (tx *Tx) DeleteSessionsIdleOrExpired(ctx context.Context, now, idleBefore, throttleBefore time.Time) (int64, error) {
	res, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?`, utc(now), utc(idleBefore))
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	_, err = tx.Exec(ctx, `DELETE FROM login_throttle WHERE window_start < ? AND (locked_until IS NULL OR locked_until <= ?)`,
		utc(throttleBefore), utc(now))
	if err != nil {
		return 0, fmt.Errorf("prune sign-in throttle: %w", err)
	}
	return n, nil
}

// Throttle counts failed sign-ins for one key (a hash of a client or of an
// address no account has).
type Throttle struct {
	Key         string
	Failures    int
	WindowStart time.Time
	LockedUntil *time.Time
}

// ThrottleByKey reads and locks a throttle row; a key never seen returns a
// zero Throttle with the key set, and no error.
func (tx *Tx) ThrottleByKey(ctx context.Context, key string) (Throttle, error) {
	return scanThrottle(key, tx.QueryRow(ctx, throttleQuery+tx.forUpdate(), key))
}

const throttleQuery = `SELECT failures, window_start, locked_until FROM login_throttle WHERE key = ?`

func scanThrottle(key string, row rowScanner) (Throttle, error) {
	t := Throttle{Key: key}
	var locked sql.NullTime
	err := row.Scan(&t.Failures, &t.WindowStart, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return t, nil
	}
	if err != nil {
		return Throttle{}, fmt.Errorf("read sign-in throttle: %w", err)
	}
	t.WindowStart = t.WindowStart.UTC()
	t.LockedUntil = timePtr(locked)
	return t, nil
}

// PutThrottle writes a throttle row, inserting or replacing it.
func (tx *Tx) PutThrottle(ctx context.Context, t Throttle) error {
	_, err := tx.Exec(ctx, `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
		locked_until = excluded.locked_until`,
		t.Key, t.Failures, utc(t.WindowStart), nullTime(utcPtr(t.LockedUntil)))
	if err != nil {
		return fmt.Errorf("write sign-in throttle: %w", err)
	}
	return nil
}

func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// ThrottleByKey reads a throttle row outside any transaction, for a cheap
// refusal before any password is hashed.
func (db *DB) ThrottleByKey(ctx context.Context, key string) (Throttle, error) {
	return scanThrottle(key, db.queryRow(ctx, throttleQuery, key))
}
