// Command signpost runs Signpost: the residents' service-disruption hub, its
// importers and its command-line tools. main only wires dependencies; run is
// the testable entry point.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/signpost-uk/signpost"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &environment{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	if err := run(ctx, os.Args[1:], env); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "signpost:", signpost.ErrorMessage(err))
			if signpost.ErrorCode(err) == signpost.EINTERNAL {
				fmt.Fprintln(os.Stderr, "  detail:", err)
			}
		}
		os.Exit(exitCode(err))
	}
}

// environment is everything a subcommand may touch outside its arguments,
// so tests can run the real commands with their own streams and variables.
type environment struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env *environment) error
}

func commands() []command {
	return []command{
		{"serve", "serve the residents' site, feeds and API", runServe},
		{"migrate", "apply database migrations", runMigrate},
		{"import", "import places or contact-centre data from CSV/GeoJSON", runImport},
		{"notice", "create, update, close and list notices", runNotice},
		{"channel", "add, list, test and remove publishing channels", runChannel},
		{"inbox", "poll channels for residents' messages", runInbox},
		{"check", "screen text for publishing risks", runCheck},
		{"shift", "channel-shift reports", runShift},
		{"user", "add, list, disable and change staff accounts", runUser},
		{"audit", "verify and list the audit log", runAudit},
		{"archive", "export the archive of published notices; retention and purge", runArchive},
		{"version", "print the version", runVersion},
	}
}

func run(ctx context.Context, args []string, env *environment) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr)
		if len(args) == 0 {
			return signpost.Errorf(signpost.EINVALID, "no command given")
		}
		return flag.ErrHelp
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], env)
		}
	}
	usage(env.stderr)
	return signpost.Errorf(signpost.EINVALID, "unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: signpost <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'signpost <command> --help' for a command's flags. Every flag can also be set\nwith an environment variable: --db is SIGNPOST_DB, --addr is SIGNPOST_ADDR, and so on.")
}

func exitCode(err error) int {
	var ec interface{ ExitCode() int }
	switch {
	case errors.As(err, &ec):
		return ec.ExitCode() // e.g. check --fail-risky exits 3 when a text is risky
	case errors.Is(err, flag.ErrHelp):
		return 0
	case signpost.ErrorCode(err) == signpost.EINVALID:
		return 2
	}
	return 1
}

func runVersion(_ context.Context, args []string, env *environment) error {
	fs := newFlagSet("version", "", env)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, "signpost", version)
	return nil
}
