package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/risk"
)

const checkUsage = `[--policy FILE] [--pre-election] [--context outgoing|incoming] [--format text|json] [--fail-risky] [TEXT…]
       signpost check --jsonl [--policy FILE] < posts.jsonl
       signpost check --eval FILE [--policy FILE] [--format text|json]
       signpost check --print-policy

Screens text for publishing risks (abuse, discrimination, profanity, threat,
personal-data, confidential, political, disaffection, safeguarding) and
explains each risky phrase. TEXT arguments are joined with spaces; with none,
the text is read from standard input.

--jsonl reads JSON Lines from standard input, {"id", "text", "context",
"pre_election"} (context and pre_election optional), and writes one line per
input: {"id", "level", "risky", "categories", "findings"}. A malformed line
gives {"line", "id", "error": {"code", "message"}} and processing continues.

--eval scores a labelled file in the development-set format and prints
precision, recall and F1 for "risky" and per category, and the texts it got
wrong.

Exit status: 0 when screening ran, whatever it found; with --fail-risky, 3
when any text screened is risky (level medium or high), for scripts and CI;
2 for usage errors; 1 for other failures.`

// maxJSONLLine bounds one batch input line; longer lines are reported and
// skipped rather than read into memory.
const maxJSONLLine = 1 << 20

func runCheck(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("check", checkUsage, env)
	policyFile := fs.String("policy", "", "policy file (YAML); default: the embedded policy")
	preElection := fs.Bool("pre-election", false, "apply the pre-election (purdah) rules")
	direction := fs.String("context", "outgoing", "who wrote the text: outgoing (staff) or incoming (a resident)")
	format := fs.String("format", "text", "output format: text or json")
	printPolicy := fs.Bool("print-policy", false, "print the default policy file and exit")
	jsonl := fs.Bool("jsonl", false, "batch mode: JSON Lines in on stdin, one result line out per input")
	evalFile := fs.String("eval", "", "score a labelled JSONL file (development-set format)")
	failRisky := fs.Bool("fail-risky", false, "exit with status 3 when any text is risky")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if *printPolicy {
		_, err := env.stdout.Write(risk.DefaultPolicyYAML())
		return err
	}
	if *format != "text" && *format != "json" {
		return signpost.Errorf(signpost.EINVALID, "check: --format must be text or json, not %q", *format)
	}
	dir, err := risk.ParseDirection(*direction)
	if err != nil {
		return signpost.Errorf(signpost.EINVALID, "check: %v", err)
	}
	s, err := loadScreener(*policyFile)
	if err != nil {
		return err
	}
	switch {
	case *evalFile != "":
		return runEval(ctx, s, *evalFile, *format, env)
	case *jsonl:
		risky, err := checkJSONL(ctx, s, env.stdin, env.stdout, risk.Options{Context: dir, PreElection: *preElection})
		if err != nil {
			return err
		}
		if *failRisky && risky > 0 {
			return riskyError{n: risky}
		}
		return nil
	}
	var text string
	if fs.NArg() > 0 {
		text = strings.Join(fs.Args(), " ")
	} else {
		b, err := io.ReadAll(io.LimitReader(env.stdin, 16<<20))
		if err != nil {
			return fmt.Errorf("check: read stdin: %w", err)
		}
		text = string(b)
	}
	rep := s.Screen(ctx, text, risk.Options{Context: dir, PreElection: *preElection})
	if *format == "json" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("check: encode report: %w", err)
		}
		fmt.Fprintf(env.stdout, "%s\n", b)
	} else {
		writeReport(env.stdout, text, rep, isTerminal(env.stdout))
	}
	if *failRisky && rep.Risky {
		return riskyError{n: 1}
	}
	return nil
}

// riskyError makes `check --fail-risky` exit with status 3.
type riskyError struct{ n int }

func (e riskyError) Error() string {
	if e.n == 1 {
		return "the text is risky"
	}
	return fmt.Sprintf("%d texts are risky", e.n)
}

// ExitCode is read by exitCode in main.go.
func (riskyError) ExitCode() int { return 3 }

// Unwrap gives main a user-facing message to print.
func (e riskyError) Unwrap() error { return signpost.Errorf("risky", "%s", e.Error()) }

func loadScreener(path string) (*risk.Screener, error) {
	var p *risk.Policy
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, signpost.Errorf(signpost.EINVALID, "check: read policy: %v", err)
		}
		p, err = risk.ParsePolicy(b)
		if err != nil {
			return nil, signpost.Errorf(signpost.EINVALID, "check: %s: %v", path, err)
		}
	}
	s, err := risk.New(p)
	if err != nil {
		return nil, signpost.Errorf(signpost.EINVALID, "check: policy: %v", err)
	}
	return s, nil
}

// ANSI colours per severity, used only when writing to a terminal.
var severityColour = map[risk.Severity]string{risk.Low: "\x1b[36m", risk.Medium: "\x1b[33m", risk.High: "\x1b[1;31m"}

const ansiReset = "\x1b[0m"

// writeReport prints the verdict, the text with risky spans highlighted
// (colour on a terminal, [[…]] otherwise) and one line per finding.
func writeReport(w io.Writer, text string, rep risk.Report, colour bool) {
	switch {
	case rep.Risky:
		fmt.Fprintf(w, "RISKY (%s): %s\n", rep.Level, joinCategories(rep.Categories))
	case rep.Level == risk.Low:
		fmt.Fprintln(w, "OK, with notes (low)")
	default:
		fmt.Fprintln(w, "OK: nothing found")
	}
	if rep.Escalate {
		fmt.Fprintln(w, "ESCALATE: someone may be at risk. Pass this to the safeguarding or duty team now.")
	}
	if len(rep.Findings) == 0 {
		return
	}
	fmt.Fprintf(w, "\n  %s\n\n", highlight(text, rep.Findings, colour))
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "  - %s, %s: %q\n    %s\n    Suggestion: %s\n", f.Category, f.Severity, f.Text, f.Reason, f.Suggestion)
	}
}

func joinCategories(cs []risk.Category) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// highlight marks the union of the findings' spans, each merged span taking
// the highest severity inside it.
func highlight(text string, fs []risk.Finding, colour bool) string {
	type span struct {
		start, end int
		sev        risk.Severity
	}
	spans := make([]span, 0, len(fs))
	for _, f := range fs {
		spans = append(spans, span{f.Start, f.End, f.Severity})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var merged []span
	for _, s := range spans {
		if n := len(merged); n > 0 && s.start <= merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, s.end)
			merged[n-1].sev = max(merged[n-1].sev, s.sev)
			continue
		}
		merged = append(merged, s)
	}
	var b strings.Builder
	pos := 0
	for _, s := range merged {
		b.WriteString(text[pos:s.start])
		if colour {
			b.WriteString(severityColour[s.sev])
			b.WriteString(text[s.start:s.end])
			b.WriteString(ansiReset)
		} else {
			b.WriteString("[[")
			b.WriteString(text[s.start:s.end])
			b.WriteString("]]")
		}
		pos = s.end
	}
	b.WriteString(text[pos:])
	return b.String()
}

// jsonlRequest is one input line of --jsonl.
type jsonlRequest struct {
	ID          json.RawMessage `json:"id"`
	Text        *string         `json:"text"`
	Context     string          `json:"context"`
	PreElection *bool           `json:"pre_election"`
}

type jsonlResult struct {
	ID         json.RawMessage `json:"id"`
	Level      risk.Severity   `json:"level"`
	Risky      bool            `json:"risky"`
	Categories []risk.Category `json:"categories"`
	Findings   []risk.Finding  `json:"findings"`
	Escalate   bool            `json:"escalate,omitempty"`
}

type jsonlError struct {
	Line  int             `json:"line"`
	ID    json.RawMessage `json:"id,omitempty"`
	Error jsonlErrorBody  `json:"error"`
}

type jsonlErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// readJSONL calls fn for every non-blank line of r with its 1-based line
// number and either the parsed request or what is wrong with the line. Only
// a failure to read r stops it.
func readJSONL(r io.Reader, fn func(line int, req jsonlRequest, err error) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br, maxJSONLLine)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read line %d: %w", n, err)
		}
		if len(bytes.TrimSpace(line)) > 0 || tooLong {
			var req jsonlRequest
			var perr error
			switch {
			case tooLong:
				perr = signpost.Errorf(signpost.ETOOLARGE, "line is longer than %d bytes", maxJSONLLine)
			default:
				perr = parseJSONLLine(line, &req)
			}
			if ferr := fn(n, req, perr); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

// readLine reads one line without its newline; a line longer than limit is
// consumed and reported as too long instead of being kept.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, isPrefix, err := br.ReadLine()
		if !tooLong {
			line = append(line, chunk...)
			if len(line) > limit {
				tooLong, line = true, nil
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) && (len(line) > 0 || tooLong) {
				return line, tooLong, nil
			}
			return line, tooLong, err
		}
		if !isPrefix {
			return line, tooLong, nil
		}
	}
}

func parseJSONLLine(line []byte, req *jsonlRequest) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(req); err != nil {
		// Keep the id if the line at least has one, so the error can
		// name it.
		var partial struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(line, &partial) == nil {
			req.ID = partial.ID
		}
		return signpost.Errorf(signpost.EINVALID, "not a JSON object with a text: %v", err)
	}
	if dec.More() {
		return signpost.Errorf(signpost.EINVALID, "more than one JSON value on the line")
	}
	if req.Text == nil {
		return signpost.Errorf(signpost.EINVALID, "\"text\" is missing")
	}
	if _, err := risk.ParseDirection(req.Context); err != nil {
		return signpost.Errorf(signpost.EINVALID, "%v", err)
	}
	return nil
}

// checkJSONL screens every line of in and writes one result or error line
// per input line; it returns how many texts were risky.
func checkJSONL(ctx context.Context, s *risk.Screener, in io.Reader, out io.Writer, defaults risk.Options) (int, error) {
	bw := bufio.NewWriter(out)
	enc := json.NewEncoder(bw)
	risky := 0
	err := readJSONL(in, func(line int, req jsonlRequest, perr error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if perr != nil {
			return enc.Encode(jsonlError{Line: line, ID: req.ID, Error: jsonlErrorBody{Code: signpost.ErrorCode(perr), Message: signpost.ErrorMessage(perr)}})
		}
		opts := defaults
		if req.Context != "" {
			opts.Context, _ = risk.ParseDirection(req.Context)
		}
		if req.PreElection != nil {
			opts.PreElection = *req.PreElection
		}
		rep := s.Screen(ctx, *req.Text, opts)
		if rep.Risky {
			risky++
		}
		id := req.ID
		if len(id) == 0 {
			id = json.RawMessage("null")
		}
		return enc.Encode(jsonlResult{ID: id, Level: rep.Level, Risky: rep.Risky, Categories: rep.Categories, Findings: rep.Findings, Escalate: rep.Escalate})
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return risky, fmt.Errorf("check --jsonl: %w", err)
	}
	return risky, nil
}

// labelled is one line of a labelled evaluation file.
type labelled struct {
	ID          string          `json:"id"`
	Text        string          `json:"text"`
	Risky       bool            `json:"risky"`
	Categories  []risk.Category `json:"categories"`
	Context     string          `json:"context"`
	PreElection bool            `json:"pre_election"`
}

type evalMiss struct {
	ID   string          `json:"id"`
	Text string          `json:"text"`
	Want []risk.Category `json:"want"`
	Got  []risk.Category `json:"got"`
}

type evalMetric struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
}

func metric(c risk.Counts) evalMetric {
	return evalMetric{Precision: c.Precision(), Recall: c.Recall(), F1: c.F1(), TP: c.TP, FP: c.FP, FN: c.FN}
}

func runEval(ctx context.Context, s *risk.Screener, path, format string, env *environment) error {
	f, err := os.Open(path)
	if err != nil {
		return signpost.Errorf(signpost.EINVALID, "check --eval: %v", err)
	}
	defer f.Close()
	var want, got []risk.Labels
	var misses []evalMiss
	err = readLabelled(f, func(line int, ex labelled) error {
		dir, err := risk.ParseDirection(ex.Context)
		if err != nil {
			return signpost.Errorf(signpost.EINVALID, "check --eval: %s line %d: %v", path, line, err)
		}
		rep := s.Screen(ctx, ex.Text, risk.Options{Context: dir, PreElection: ex.PreElection})
		want = append(want, risk.Labels{Risky: ex.Risky, Categories: ex.Categories})
		got = append(got, risk.Labels{Risky: rep.Risky, Categories: rep.Categories})
		if rep.Risky != ex.Risky || !sameCategories(rep.Categories, ex.Categories) {
			misses = append(misses, evalMiss{ID: ex.ID, Text: ex.Text, Want: ex.Categories, Got: rep.Categories})
		}
		return nil
	})
	if err != nil {
		return err
	}
	sc := risk.Score(want, got)
	if format == "json" {
		cats := map[risk.Category]evalMetric{}
		for _, c := range risk.Categories() {
			cats[c] = metric(sc.Category[c])
		}
		b, err := json.MarshalIndent(struct {
			Examples   int                          `json:"examples"`
			Risky      evalMetric                   `json:"risky"`
			Categories map[risk.Category]evalMetric `json:"categories"`
			Misses     []evalMiss                   `json:"misclassified"`
		}{len(want), metric(sc.Risky), cats, misses}, "", "  ")
		if err != nil {
			return fmt.Errorf("check --eval: encode: %w", err)
		}
		fmt.Fprintf(env.stdout, "%s\n", b)
		return nil
	}
	w := env.stdout
	fmt.Fprintf(w, "%d examples from %s\n\n%-16s %9s %7s %7s %5s %5s %5s\n", len(want), path, "", "precision", "recall", "F1", "TP", "FP", "FN")
	row := func(name string, c risk.Counts) {
		fmt.Fprintf(w, "%-16s %9.3f %7.3f %7.3f %5d %5d %5d\n", name, c.Precision(), c.Recall(), c.F1(), c.TP, c.FP, c.FN)
	}
	row("risky", sc.Risky)
	for _, c := range risk.Categories() {
		row(string(c), sc.Category[c])
	}
	if len(misses) > 0 {
		fmt.Fprintf(w, "\nMisclassified (%d):\n", len(misses))
		for _, m := range misses {
			fmt.Fprintf(w, "  %s want [%s] got [%s]: %s\n", m.ID, joinCategories(m.Want), joinCategories(m.Got), m.Text)
		}
	}
	return nil
}

// readLabelled reads a labelled JSONL file; unlike --jsonl a bad line stops
// the evaluation, since scores over a half-read file would mislead.
func readLabelled(r io.Reader, fn func(line int, ex labelled) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxJSONLLine)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var ex labelled
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
			return signpost.Errorf(signpost.EINVALID, "check --eval: line %d: %v", n, err)
		}
		if err := fn(n, ex); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return signpost.Errorf(signpost.EINVALID, "check --eval: %v", err)
	}
	return nil
}

func sameCategories(a, b []risk.Category) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[risk.Category]bool{}
	for _, c := range a {
		seen[c] = true
	}
	for _, c := range b {
		if !seen[c] {
			return false
		}
	}
	return true
}
