package auth

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/store"
)

// NewUser is what an administrator gives to create an account.
type NewUser struct {
	Email    string
	Name     string
	Role     Role
	Password string // "" for an account that signs in only through single sign-on
}

const maxNameLen = 200

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", signpost.Errorf(signpost.EINVALID, "give the person's name")
	}
	if utf8.RuneCountInString(name) > maxNameLen || strings.ContainsAny(name, "\r\n\x00") {
		return "", signpost.Errorf(signpost.EINVALID, "the name must be one line of at most %d characters", maxNameLen)
	}
	return name, nil
}

// CreateUser adds an account. actor is who is doing it, as the audit log
// names them ("user:<e-mail>", "cli:<os user>").
func (s *Service) CreateUser(ctx context.Context, actor string, in NewUser) (User, error) {
	email, err := NormaliseEmail(in.Email)
	if err != nil {
		return User{}, err
	}
	name, err := checkName(in.Name)
	if err != nil {
		return User{}, err
	}
	if !in.Role.Valid() {
		return User{}, signpost.Errorf(signpost.EINVALID, "%q is not a role: use viewer, author, approver or admin", in.Role)
	}
	var hash string
	if in.Password != "" {
		if err := CheckPassword(in.Password, email); err != nil {
			return User{}, err
		}
		if hash, err = HashPassword(in.Password, s.cfg.Params); err != nil {
			return User{}, err
		}
	}
	row := store.User{Email: email, Name: name, Role: string(in.Role), PasswordHash: hash, CreatedAt: s.now()}
	err = s.db.UpdateAccounts(ctx, func(tx *store.Tx) error {
		if err := tx.InsertUser(ctx, &row); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.UserCreate, Target: "user:" + email,
			After: userAudit(row)})
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("create account: %w", err)
	}
	return userFrom(row), nil
}

// userAudit is what the audit log records of an account: never its hash.
func userAudit(u store.User) map[string]any {
	return map[string]any{"email": u.Email, "name": u.Name, "role": u.Role, "disabled": u.Disabled,
		"password": u.PasswordHash != "", "sso": u.OIDCSubject != ""}
}

// User returns the account with the given address.
func (s *Service) User(ctx context.Context, email string) (User, error) {
	norm, err := NormaliseEmail(email)
	if err != nil {
		return User{}, err
	}
	u, err := s.db.UserByEmail(ctx, norm)
	if err != nil {
		return User{}, err
	}
	return userFrom(u), nil
}

// Users lists every account by address.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = userFrom(r)
	}
	return out, nil
}

// change reads the account by address inside a transaction, lets fn change
// it, refuses a change that would leave no enabled admin, writes it and
// audits it.
func (s *Service) change(ctx context.Context, actor, email string, action audit.Action,
	fn func(tx *store.Tx, u *store.User) (extra map[string]any, err error)) (User, error) {
	norm, err := NormaliseEmail(email)
	if err != nil {
		return User{}, err
	}
	var out store.User
	err = s.db.UpdateAccounts(ctx, func(tx *store.Tx) error {
		// Count (and on PostgreSQL lock, in id order) the admins before
		// touching the account: every change takes the locks in the same
		// order, so two admins demoting each other wait rather than
		// deadlock, and the second sees the first's change.
		admins, err := tx.CountEnabledUsersWithRole(ctx, string(Admin))
		if err != nil {
			return err
		}
		u, err := tx.UserByEmail(ctx, norm)
		if err != nil {
			return err
		}
		before := userAudit(u)
		wasAdmin := Role(u.Role) == Admin && !u.Disabled
		extra, err := fn(tx, &u)
		if err != nil {
			return err
		}
		if wasAdmin && (Role(u.Role) != Admin || u.Disabled) && admins <= 1 {
			return signpost.Errorf(signpost.ECONFLICT, "%s is the only enabled admin: make someone else an admin first", norm)
		}
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		after := userAudit(u)
		for k, v := range extra {
			after[k] = v
		}
		out = u
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: action, Target: "user:" + norm, Before: before, After: after})
		return err
	})
	if err != nil {
		return User{}, err
	}
	return userFrom(out), nil
}

// SetRole changes an account's role. It takes effect on the account's next
// request: sessions read the role afresh each time.
func (s *Service) SetRole(ctx context.Context, actor, email string, role Role) (User, error) {
	if !role.Valid() {
		return User{}, signpost.Errorf(signpost.EINVALID, "%q is not a role: use viewer, author, approver or admin", role)
	}
	return s.change(ctx, actor, email, audit.RoleChange, func(_ *store.Tx, u *store.User) (map[string]any, error) {
		u.Role = string(role)
		return nil, nil
	})
}

// Disable stops an account signing in and ends its sessions at once.
func (s *Service) Disable(ctx context.Context, actor, email string) (User, error) {
	return s.change(ctx, actor, email, audit.UserDisable, func(tx *store.Tx, u *store.User) (map[string]any, error) {
		u.Disabled = true
		n, err := tx.DeleteUserSessions(ctx, u.ID)
		return map[string]any{"sessions_ended": n}, err
	})
}

// Enable lets a disabled account sign in again.
func (s *Service) Enable(ctx context.Context, actor, email string) (User, error) {
	return s.change(ctx, actor, email, audit.UserEnable, func(_ *store.Tx, u *store.User) (map[string]any, error) {
		u.Disabled = false
		return nil, nil
	})
}

// ResetPassword sets a new password, lifts any lock-out and ends every
// session of the account, since whoever knew the old password may hold one.
func (s *Service) ResetPassword(ctx context.Context, actor, email, password string) (User, error) {
	norm, err := NormaliseEmail(email)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword(password, norm); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(password, s.cfg.Params)
	if err != nil {
		return User{}, err
	}
	return s.change(ctx, actor, norm, audit.PasswordReset, func(tx *store.Tx, u *store.User) (map[string]any, error) {
		u.PasswordHash, u.FailedLogins, u.LastFailedAt, u.LockedUntil = hash, 0, nil, nil
		n, err := tx.DeleteUserSessions(ctx, u.ID)
		return map[string]any{"sessions_ended": n}, err
	})
}
