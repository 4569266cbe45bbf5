package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/store"
)

func runUser(ctx context.Context, args []string, env *environment) error {
	subs := map[string]func(context.Context, []string, *environment) error{
		"add": userAdd, "list": userList, "disable": userDisable, "enable": userEnable,
		"reset-password": userResetPassword, "role": userRole,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(env.stderr, "Usage: signpost user add|list|disable|enable|reset-password|role [flags]\n\n"+
			"Passwords are read from SIGNPOST_PASSWORD or standard input, never from the command line.\n"+
			"Run 'signpost user <action> --help' for an action's flags.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return signpost.Errorf(signpost.EINVALID, "user needs an action: add, list, disable, enable, reset-password or role")
	}
	return subs[args[0]](ctx, args[1:], env)
}

// cliActor names whoever runs the command for the audit log. The
// operating system's account comes first because $USER is easier to fake.
func cliActor(env *environment) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	if u := env.getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli:unknown"
}

// readPassword takes a new password from SIGNPOST_PASSWORD, or asks for it
// twice without echo on a terminal, or reads the first line of standard
// input. It is never a flag: arguments show in ps and shell history.
func readPassword(env *environment, email string) (string, error) {
	if p := env.getenv("SIGNPOST_PASSWORD"); p != "" {
		return p, auth.CheckPassword(p, email)
	}
	if f, ok := env.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(prompt string) (string, error) {
			fmt.Fprint(env.stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(env.stderr)
			return string(b), err
		}
		p, err := ask("New password for " + email + ": ")
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if err := auth.CheckPassword(p, email); err != nil {
			return "", err
		}
		again, err := ask("Again: ")
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if again != p {
			return "", signpost.Errorf(signpost.EINVALID, "the two passwords differ")
		}
		return p, nil
	}
	line, err := bufio.NewReader(io.LimitReader(env.stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	p := strings.TrimRight(line, "\r\n")
	if p == "" {
		return "", signpost.Errorf(signpost.EINVALID, "no password given: set SIGNPOST_PASSWORD or pipe it on standard input")
	}
	return p, auth.CheckPassword(p, email)
}

func withAuth(ctx context.Context, dsn string, fn func(*auth.Service, *store.DB) error) error {
	return withDB(ctx, dsn, func(db *store.DB) error {
		svc, err := auth.NewService(db, auth.Config{})
		if err != nil {
			return err
		}
		return fn(svc, db)
	})
}

func userAdd(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("user add", "--email E --name N --role viewer|author|approver|admin\n\n"+
		"Creates a local account. The password comes from SIGNPOST_PASSWORD or standard input\n"+
		"(at least 12 characters, not a common one).", env)
	dsn := addDBFlag(fs)
	email := fs.String("email", "", "the person's e-mail address, which they sign in with")
	name := fs.String("name", "", "the person's name, as colleagues know it")
	role := fs.String("role", "", "viewer, author, approver or admin")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return signpost.Errorf(signpost.EINVALID, "user add takes flags only; unexpected %q", fs.Arg(0))
	}
	if *email == "" || *name == "" || *role == "" {
		fs.Usage()
		return signpost.Errorf(signpost.EINVALID, "user add needs --email, --name and --role")
	}
	norm, err := auth.NormaliseEmail(*email)
	if err != nil {
		return err
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return err
	}
	password, err := readPassword(env, norm)
	if err != nil {
		return err
	}
	return withAuth(ctx, *dsn, func(svc *auth.Service, _ *store.DB) error {
		u, err := svc.CreateUser(ctx, cliActor(env), auth.NewUser{Email: norm, Name: *name, Role: r, Password: password})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "added %s (%s) as %s\n", u.Email, u.Name, u.Role)
		return nil
	})
}

func userList(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("user list", "[--format text|json]", env)
	dsn := addDBFlag(fs)
	format := fs.String("format", "text", "text or json")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return signpost.Errorf(signpost.EINVALID, "--format %q: want text or json", *format)
	}
	return withAuth(ctx, *dsn, func(svc *auth.Service, _ *store.DB) error {
		users, err := svc.Users(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		if *format == "json" {
			enc := json.NewEncoder(env.stdout)
			for _, u := range users {
				if err := enc.Encode(map[string]any{"email": u.Email, "name": u.Name, "role": u.Role,
					"disabled": u.Disabled, "locked": u.Locked(now), "password": u.HasPassword, "sso": u.SSO,
					"last_sign_in": u.LastSignIn, "created": u.CreatedAt}); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATE\tLAST SIGN-IN")
		for _, u := range users {
			state := "active"
			switch {
			case u.Disabled:
				state = "disabled"
			case u.Locked(now):
				state = "locked until " + u.LockedUntil.Local().Format("15:04")
			}
			if u.SSO {
				state += ", sso"
			}
			last := "never"
			if u.LastSignIn != nil {
				last = u.LastSignIn.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, state, last)
		}
		return tw.Flush()
	})
}

// userChange runs a one-account action given as "<action> EMAIL [ARG]".
func userChange(ctx context.Context, args []string, env *environment, name, usage string, nargs int,
	do func(svc *auth.Service, actor string, args []string) (string, error)) error {
	fs := newFlagSet("user "+name, usage, env)
	dsn := addDBFlag(fs)
	// Positional arguments come first, so flags may follow them.
	var pos []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") && len(pos) < nargs {
		pos, args = append(pos, args[0]), args[1:]
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if len(pos) != nargs || fs.NArg() > 0 {
		fs.Usage()
		return signpost.Errorf(signpost.EINVALID, "usage: signpost user %s %s", name, strings.SplitN(usage, "\n", 2)[0])
	}
	return withAuth(ctx, *dsn, func(svc *auth.Service, _ *store.DB) error {
		msg, err := do(svc, cliActor(env), pos)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.stdout, msg)
		return nil
	})
}

func userDisable(ctx context.Context, args []string, env *environment) error {
	return userChange(ctx, args, env, "disable", "EMAIL\n\nStops the account signing in and ends its sessions at once.", 1,
		func(svc *auth.Service, actor string, a []string) (string, error) {
			u, err := svc.Disable(ctx, actor, a[0])
			return "disabled " + u.Email + " and ended its sessions", err
		})
}

func userEnable(ctx context.Context, args []string, env *environment) error {
	return userChange(ctx, args, env, "enable", "EMAIL\n\nLets a disabled account sign in again.", 1,
		func(svc *auth.Service, actor string, a []string) (string, error) {
			u, err := svc.Enable(ctx, actor, a[0])
			return "enabled " + u.Email, err
		})
}

func userRole(ctx context.Context, args []string, env *environment) error {
	return userChange(ctx, args, env, "role", "EMAIL viewer|author|approver|admin\n\nChanges the account's role from its next request.", 2,
		func(svc *auth.Service, actor string, a []string) (string, error) {
			r, err := auth.ParseRole(a[1])
			if err != nil {
				return "", err
			}
			u, err := svc.SetRole(ctx, actor, a[0], r)
			return fmt.Sprintf("%s is now %s", u.Email, u.Role), err
		})
}

func userResetPassword(ctx context.Context, args []string, env *environment) error {
	return userChange(ctx, args, env, "reset-password", "EMAIL\n\nSets a new password from SIGNPOST_PASSWORD or standard input, lifts any\nlock-out and ends the account's sessions.", 1,
		func(svc *auth.Service, actor string, a []string) (string, error) {
			norm, err := auth.NormaliseEmail(a[0])
			if err != nil {
				return "", err
			}
			password, err := readPassword(env, norm)
			if err != nil {
				return "", err
			}
			u, err := svc.ResetPassword(ctx, actor, norm, password)
			return "reset the password of " + u.Email + " and ended its sessions", err
		})
}
