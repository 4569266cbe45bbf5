package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
)

// StaffAccounts is what the users page needs of *auth.Service: the same
// operations as 'signpost user …', each audited by the service.
type StaffAccounts interface {
	Users(ctx context.Context) ([]auth.User, error)
	User(ctx context.Context, email string) (auth.User, error)
	CreateUser(ctx context.Context, actor string, in auth.NewUser) (auth.User, error)
	SetRole(ctx context.Context, actor, email string, role auth.Role) (auth.User, error)
	Disable(ctx context.Context, actor, email string) (auth.User, error)
	Enable(ctx context.Context, actor, email string) (auth.User, error)
	ResetPassword(ctx context.Context, actor, email, password string) (auth.User, error)
}

const usersPath = "/staff/admin/users"

// formErrors are a form's problems in the order the fields appear.
type formErrors []formError

// For is the message for one field, or "".
func (e formErrors) For(field string) string {
	for _, f := range e {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// fieldFor guesses which field a service's message is about, so that the
// error summary links to it; fallback when the message names none.
func fieldFor(msg, fallback string, fields ...string) string {
	low := strings.ToLower(msg)
	for _, f := range fields {
		if strings.Contains(low, f) {
			return f
		}
	}
	return fallback
}

// usersView is the users page's data.
type usersView struct {
	Users  []auth.User
	Roles  []auth.Role
	Done   string // what just succeeded, for the banner
	Errors formErrors
	// The add form as typed (never the password).
	Email, Name, Role string
}

// userView is the page for one account.
type userView struct {
	User   auth.User
	Roles  []auth.Role
	Done   string
	Errors formErrors
	Self   bool // the admin's own account
}

// accountDone are the banners after a change, keyed by the redirect's
// done parameter, so that no text from the request is echoed into them.
var accountDone = map[string]string{
	"added":    "The account was added.",
	"role":     "The role was changed. It applies from the person's next request.",
	"disabled": "The account was disabled and its sessions ended.",
	"enabled":  "The account was enabled.",
	"password": "The password was reset, any lock-out lifted and the account's sessions ended.",
}

// handleUsers serves GET /staff/admin/users (the list and the add form)
// and POST /staff/admin/users (add an account).
func (s *Server) handleUsers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.deps.Accounts == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, "Account management is not set up on this server.")
			return
		}
		v := usersView{Roles: auth.Roles(), Done: accountDone[r.URL.Query().Get("done")], Role: string(auth.Viewer)}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			v.Email, v.Name, v.Role = strings.TrimSpace(r.PostFormValue("email")), strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role")
			password := r.PostFormValue("password")
			if v.Name == "" {
				v.Errors = append(v.Errors, formError{"name", "Enter the person's name"})
			}
			if v.Email == "" {
				v.Errors = append(v.Errors, formError{"email", "Enter the person's e-mail address"})
			}
			role, err := auth.ParseRole(v.Role)
			if err != nil {
				v.Errors = append(v.Errors, formError{"role", "Choose a role"})
			}
			if len(v.Errors) == 0 {
				u, _, _ := auth.FromContext(r.Context())
				_, err = s.deps.Accounts.CreateUser(r.Context(), u.Actor(), auth.NewUser{Email: v.Email, Name: v.Name, Role: role, Password: password})
				switch signpost.ErrorCode(err) {
				case "":
					http.Redirect(w, r, usersPath+"?done=added", http.StatusSeeOther)
					return
				case signpost.EINVALID, signpost.ECONFLICT:
					msg := signpost.ErrorMessage(err)
					v.Errors = append(v.Errors, formError{fieldFor(msg, "email", "name", "password", "role"), upperFirst(msg)})
				default:
					s.fail(w, r, err)
					return
				}
			}
			status = http.StatusBadRequest
		}
		users, err := s.deps.Accounts.Users(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Users = users
		s.staffPage(w, r, status, "staff_users", &page{Title: "Staff accounts", Error: len(v.Errors) > 0, Staff: staffFrom(r), StaffPath: usersPath, Data: &v})
	})
}

// handleUser serves GET /staff/admin/users/account?email=…: one account,
// with the forms that change it.
func (s *Server) handleUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.showUser(w, r, r.URL.Query().Get("email"), http.StatusOK, accountDone[r.URL.Query().Get("done")], nil)
	})
}

func (s *Server) showUser(w http.ResponseWriter, r *http.Request, email string, status int, done string, errs formErrors) {
	if s.deps.Accounts == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "Account management is not set up on this server.")
		return
	}
	target, err := s.deps.Accounts.User(r.Context(), email)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	me, _, _ := auth.FromContext(r.Context())
	v := userView{User: target, Roles: auth.Roles(), Done: done, Errors: errs, Self: me.ID == target.ID}
	s.staffPage(w, r, status, "staff_user", &page{Title: target.Name, Error: len(errs) > 0, Staff: staffFrom(r), StaffPath: usersPath, Data: &v})
}

// handleUserChange serves the POST forms on an account's page: change
// role, disable, enable and reset password. Each goes through the auth
// service, which audits it and refuses to leave no enabled admin.
func (s *Server) handleUserChange(change string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.deps.Accounts == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, "Account management is not set up on this server.")
			return
		}
		me, _, _ := auth.FromContext(r.Context())
		email := r.PostFormValue("email")
		var err error
		field := ""
		switch change {
		case "role":
			field = "role"
			var role auth.Role
			if role, err = auth.ParseRole(r.PostFormValue("role")); err == nil {
				_, err = s.deps.Accounts.SetRole(r.Context(), me.Actor(), email, role)
			}
		case "disabled":
			_, err = s.deps.Accounts.Disable(r.Context(), me.Actor(), email)
		case "enabled":
			_, err = s.deps.Accounts.Enable(r.Context(), me.Actor(), email)
		case "password":
			field = "password"
			if r.PostFormValue("password") == "" {
				err = signpost.Errorf(signpost.EINVALID, "Enter a new password")
			} else {
				_, err = s.deps.Accounts.ResetPassword(r.Context(), me.Actor(), email, r.PostFormValue("password"))
			}
		}
		switch code := signpost.ErrorCode(err); code {
		case "":
			http.Redirect(w, r, usersPath+"/account?"+url.Values{"email": {email}, "done": {change}}.Encode(), http.StatusSeeOther)
		case signpost.EINVALID, signpost.ECONFLICT:
			if field == "" {
				field = "actions"
			}
			s.showUser(w, r, email, httpStatus(code), "", formErrors{{field, upperFirst(signpost.ErrorMessage(err))}})
		default:
			s.fail(w, r, err)
		}
	})
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
