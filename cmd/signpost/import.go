package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/importer"
)

func runImport(ctx context.Context, args []string, env *environment) error {
	var kinds []string
	for _, k := range importer.Kinds() {
		kinds = append(kinds, fmt.Sprintf("  %-10s %s", k[0], k[1]))
	}
	fs := newFlagSet("import", "<kind> <file|->\n\nKinds:\n"+strings.Join(kinds, "\n")+"\n\nA file with any bad row imports nothing; every bad row is listed.", env)
	dsn := addDBFlag(fs)
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return signpost.Errorf(signpost.EINVALID, "import needs a kind and a file")
	}
	kind, path := fs.Arg(0), fs.Arg(1)
	var r io.Reader = env.stdin
	size := int64(-1)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return signpost.Errorf(signpost.EINVALID, "cannot open %s: %v", path, err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		r = f
	}
	if !*quiet && isTerminal(env.stderr) {
		bar := progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(env.stderr),
			progressbar.OptionSetDescription("importing "+kind),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100_000_000),
			progressbar.OptionClearOnFinish(),
		)
		defer bar.Close()
		pr := progressbar.NewReader(r, bar)
		r = &pr
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := importer.Import(ctx, db, kind, &importer.Source{Name: path, Reader: r})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "imported %d %s from %s\n", res.Rows, res.Kind, path)
	return nil
}

// isTerminal reports whether w is a terminal, where progress bars and
// colour help; in pipes and CI logs they are noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
