package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/signpost-uk/signpost"
)

// newFlagSet returns a flag set for a subcommand whose --help prints its
// usage line and flags, each with the SIGNPOST_* variable that also sets it.
func newFlagSet(name, usageLine string, env *environment) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: signpost %s %s\n\nFlags:\n", name, usageLine)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(env.stderr, "  --%s (env %s)\n    \t%s", f.Name, envName(f.Name), f.Usage)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
				fmt.Fprintf(env.stderr, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(env.stderr)
		})
	}
	return fs
}

// parseFlags parses args, then fills every flag not given on the command line
// from its SIGNPOST_* environment variable, so that the command line wins.
// Flags may come before or after positional arguments ("import wards
// file.csv --db x" works); everything after "--" is positional.
func parseFlags(fs *flag.FlagSet, args []string, env *environment) error {
	var positional, rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return signpost.Errorf(signpost.EINVALID, "%s: %v", fs.Name(), err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	// Leave the positional arguments where fs.Args expects them.
	if err := fs.Parse(append([]string{"--"}, append(positional, rest...)...)); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v := env.getenv(envName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = signpost.Errorf(signpost.EINVALID, "%s=%q: %v", envName(f.Name), v, e)
			}
		}
	})
	return err
}

func envName(flagName string) string {
	return "SIGNPOST_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// stringList is a repeatable string flag; from the environment it takes a
// comma-separated list.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// flagGiven reports whether a flag was set on the command line or from its
// SIGNPOST_* variable.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
