package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/signpost-uk/signpost/risk"
)

// checkView is the "Before you post" page's data.
type checkView struct {
	Text        string
	Context     string // "outgoing" or "incoming"
	PreElection bool
	TextError   string
	Checked     bool // a report follows the form
	Level       string
	LevelTag    string
	Risky       bool
	Escalate    bool
	Pieces      []markPiece
	Findings    []findingView
}

// markPiece is a run of the checked text: plain, a line break, or a
// highlighted finding (N counts from 1 and matches the list below it).
type markPiece struct {
	Text  string
	Break bool
	N     int
	Label string // "abuse, high", read out after the number
	Ref   bool   // the mark's last piece: the number linking to the finding follows it
}

type findingView struct {
	N          int
	Category   string
	Severity   string
	Tag        string // govuk-tag modifier; the label carries the meaning
	Text       string
	Reason     string
	Suggestion string
}

func severityTag(s risk.Severity) string {
	switch s {
	case risk.High:
		return "govuk-tag--red"
	case risk.Medium:
		return "govuk-tag--orange"
	case risk.Low:
		return "govuk-tag--yellow"
	}
	return "govuk-tag--green"
}

// handleCheckPage serves GET and POST /staff/check. It is guidance, not
// surveillance: the draft is screened in memory and shown back; nothing is
// stored and nothing about the text is logged (the request log line has
// the route and status only).
func (s *Server) handleCheckPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := checkView{Context: string(risk.Outgoing)}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			v.Text = strings.ReplaceAll(r.PostFormValue("text"), "\r\n", "\n")
			// In the pre-election period the rules apply whatever the box says.
			v.PreElection = r.PostFormValue("pre_election") != "" || s.preElectionNow(r.Context())
			dir, err := risk.ParseDirection(r.PostFormValue("context"))
			if err != nil {
				dir = risk.Outgoing
			}
			v.Context = string(dir)
			switch {
			case strings.TrimSpace(v.Text) == "":
				v.TextError = "Enter the text you want to check"
			case !utf8.ValidString(v.Text):
				v.TextError = "The text must be plain text"
				v.Text = strings.ToValidUTF8(v.Text, "\uFFFD")
			case utf8.RuneCountInString(v.Text) > maxCheckText:
				v.TextError = "The text must be " + strconv.Itoa(maxCheckText) + " characters or fewer"
			}
			if v.TextError != "" {
				status = http.StatusBadRequest
			} else {
				rep := s.deps.Screener.Screen(r.Context(), v.Text, risk.Options{Context: dir, PreElection: v.PreElection, Now: s.now()})
				v.fill(rep)
			}
		}
		s.staffPage(w, r, status, "staff_check", &page{Title: "Before you post", Error: v.TextError != "", Staff: staffFrom(r), StaffPath: "/staff/check", Data: v})
	})
}

// fill puts a report into the view, findings in text order.
func (v *checkView) fill(rep risk.Report) {
	v.Checked = true
	v.Level = rep.Level.String()
	v.LevelTag = severityTag(rep.Level)
	v.Risky = rep.Risky
	v.Escalate = rep.Escalate
	fs := append([]risk.Finding(nil), rep.Findings...)
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Start != fs[j].Start {
			return fs[i].Start < fs[j].Start
		}
		return fs[i].End > fs[j].End
	})
	for i, f := range fs {
		v.Findings = append(v.Findings, findingView{N: i + 1, Category: string(f.Category), Severity: f.Severity.String(),
			Tag: severityTag(f.Severity), Text: f.Text, Reason: f.Reason, Suggestion: f.Suggestion})
	}
	v.Pieces = highlight(v.Text, fs)
}

// highlight cuts text into plain and marked pieces, one mark per finding in
// fs (sorted by start). A finding inside an earlier one is listed but not
// marked again; one that overlaps an earlier one is marked from where the
// earlier ends. Spans that are out of range or not on UTF-8 boundaries are
// not marked at all, so a bad offset can never split a character. The
// template escapes every piece.
func highlight(text string, fs []risk.Finding) []markPiece {
	var out []markPiece
	// add appends s as pieces like p, with a line break piece at each
	// newline (a mark across lines becomes one mark per line).
	add := func(s string, p markPiece) {
		for i, line := range strings.Split(s, "\n") {
			if i > 0 {
				out = append(out, markPiece{Break: true})
			}
			if line != "" {
				p.Text = line
				out = append(out, p)
			}
		}
	}
	plain := func(s string) { add(s, markPiece{}) }
	cursor := 0
	for i, f := range fs {
		if !validSpan(text, f.Start, f.End) || f.End <= cursor {
			continue
		}
		start := max(f.Start, cursor)
		plain(text[cursor:start])
		n := len(out)
		add(text[start:f.End], markPiece{N: i + 1, Label: string(f.Category) + ", " + f.Severity.String()})
		for j := len(out) - 1; j >= n; j-- {
			if out[j].N > 0 {
				out[j].Ref = true
				break
			}
		}
		cursor = f.End
	}
	plain(text[cursor:])
	return out
}

func validSpan(text string, start, end int) bool {
	boundary := func(i int) bool { return i == len(text) || utf8.RuneStart(text[i]) }
	return 0 <= start && start < end && end <= len(text) && boundary(start) && boundary(end)
}
