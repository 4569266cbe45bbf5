package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// User is a staff account as stored. The auth package owns its rules (what
// a role means, how a password is hashed); this is the row.
type User struct {
	ID           int64
	Email        string // normalised by the caller
	Name         string
	Role         string
	Disabled     bool
	PasswordHash string // a PHC string, or "" for single-sign-on-only accounts
	OIDCIssuer   string // "" unless linked to an identity provider
	OIDCSubject  string
	FailedLogins int
	LastFailedAt *time.Time
	LockedUntil  *time.Time
	LastSignIn   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// UpdateAccounts runs fn in one writing transaction, like Update, for
// changes to accounts, sessions, sign-in throttling and the audit log only.
// Those change nothing residents see, so it leaves the change version
// alone: otherwise every staff request and every failed sign-in would make
// the residents' site rebuild its snapshot.
func (db *DB) UpdateAccounts(ctx context.Context, fn func(tx *Tx) error) error {
	return db.transact(ctx, false, fn)
}

const userColumns = `id, email, name, role, disabled, password_hash, oidc_issuer, oidc_subject,
	failed_logins, last_failed_at, locked_until, last_sign_in, created_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

// userColumnsOf is userColumns qualified by a table alias, for joins.
func userColumnsOf(alias string) string {
	cols := strings.Split(userColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// scanUser reads userColumns; before are destinations for columns selected
// ahead of them.
func scanUser(r rowScanner, before ...any) (User, error) {
	var u User
	var issuer, subject sql.NullString
	var failed, locked, last sql.NullTime
	err := r.Scan(append(before, &u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &u.PasswordHash, &issuer, &subject,
		&u.FailedLogins, &failed, &locked, &last, &u.CreatedAt, &u.UpdatedAt)...)
	if err != nil {
		return User{}, err
	}
	u.OIDCIssuer, u.OIDCSubject = issuer.String, subject.String
	u.LastFailedAt, u.LockedUntil, u.LastSignIn = timePtr(failed), timePtr(locked), timePtr(last)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, nil
}

// forUpdate locks the rows a query reads until the transaction ends. SQLite
// needs no lock: its writing transactions already run one at a time.
func (tx *Tx) forUpdate() string {
	if tx.db.engine == Postgres {
		return ` FOR UPDATE`
	}
	return ""
}

// InsertUser stores a new account and sets u.ID. An address already in use
// is ECONFLICT.
func (tx *Tx) InsertUser(ctx context.Context, u *User) error {
	now := tx.Now()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	u.CreatedAt = u.CreatedAt.UTC().Truncate(time.Microsecond)
	u.UpdatedAt = u.CreatedAt
	err := tx.QueryRow(ctx, `INSERT INTO users (email, name, role, disabled, password_hash, oidc_issuer, oidc_subject,
		failed_logins, last_failed_at, locked_until, last_sign_in, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Email, u.Name, u.Role, u.Disabled, u.PasswordHash, nullString(u.OIDCIssuer), nullString(u.OIDCSubject),
		u.FailedLogins, nullTime(utcPtr(u.LastFailedAt)), nullTime(utcPtr(u.LockedUntil)), nullTime(utcPtr(u.LastSignIn)),
		u.CreatedAt, u.UpdatedAt).Scan(&u.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return signpost.Errorf(signpost.ECONFLICT, "an account with that e-mail address or sign-on identity already exists")
		}
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// UpdateUser writes every changeable field of u (all but ID and CreatedAt).
func (tx *Tx) UpdateUser(ctx context.Context, u *User) error {
	u.UpdatedAt = tx.Now()
	res, err := tx.Exec(ctx, `UPDATE users SET email = ?, name = ?, role = ?, disabled = ?, password_hash = ?,
		oidc_issuer = ?, oidc_subject = ?, failed_logins = ?, last_failed_at = ?, locked_until = ?, last_sign_in = ?,
		updated_at = ? WHERE id = ?`,
		u.Email, u.Name, u.Role, u.Disabled, u.PasswordHash, nullString(u.OIDCIssuer), nullString(u.OIDCSubject),
		u.FailedLogins, nullTime(utcPtr(u.LastFailedAt)), nullTime(utcPtr(u.LockedUntil)), nullTime(utcPtr(u.LastSignIn)),
		u.UpdatedAt, u.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return signpost.Errorf(signpost.ECONFLICT, "an account with that e-mail address or sign-on identity already exists")
		}
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return signpost.Errorf(signpost.ENOTFOUND, "no such account")
	}
	return nil
}

// UserByEmail reads an account by its normalised address and, on
// PostgreSQL, locks it until the transaction ends so that concurrent
// sign-ins cannot lose a failure count.
func (tx *Tx) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`+tx.forUpdate(), email))
	return u, userErr(err, "read account")
}

// UserByID reads and locks an account by id.
func (tx *Tx) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`+tx.forUpdate(), id))
	return u, userErr(err, "read account")
}

// UserByOIDC reads and locks the account linked to an identity provider's
// subject.
func (tx *Tx) UserByOIDC(ctx context.Context, issuer, subject string) (User, error) {
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE oidc_issuer = ? AND oidc_subject = ?`+tx.forUpdate(), issuer, subject))
	return u, userErr(err, "read account")
}

// UserByEmail reads an account outside any transaction.
func (db *DB) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	return u, userErr(err, "read account")
}

// Users lists every account by address.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := db.query(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

func userErr(err error, doing string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return signpost.Errorf(signpost.ENOTFOUND, "no such account")
	}
	return fmt.Errorf("%s: %w", doing, err)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// isUniqueViolation recognises a UNIQUE constraint failure on either
// engine without importing their driver packages' error types.
func isUniqueViolation(err error) bool {
	var coder interface{ SQLState() string }
	if errors.As(err, &coder) {
		return coder.SQLState() == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// CountEnabledUsersWithRole counts enabled accounts with a role, so that
// the last administrator cannot be demoted or disabled. It locks the rows it
// counts, so two administrators demoting each other at once cannot both
// succeed on PostgreSQL.
func (tx *Tx) CountEnabledUsersWithRole(ctx context.Context, role string) (int, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM users WHERE role = ? AND disabled = ? ORDER BY id`+tx.forUpdate(), role, false)
	if err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}
