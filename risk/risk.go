// Package risk screens short texts — a draft post, a reply, a message from a
// resident — for the things that make a council's worst social-media day:
// abuse, discrimination, swearing, threats, personal data, confidential
// material, party politics, staff disaffection, and (on incoming messages)
// someone at risk. Every finding carries byte offsets into the original text,
// a plain-English reason and a suggestion, so staff see why a phrase is risky
// rather than being blocked.
//
// The package is pure: its word lists and default policy are embedded, it does
// no I/O, and a Screener is safe for concurrent use. Text is normalised once
// (case, NFKC, look-alike letters, leetspeak, masking, spacing, repeated
// letters) into a reused buffer that keeps a map back to the original bytes,
// and words are looked up in a trie rather than with hundreds of regular
// expressions.
package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Category is one kind of publishing risk.
type Category string

// The nine categories.
const (
	Abuse          Category = "abuse"          // insulting, demeaning or mocking people
	Discrimination Category = "discrimination" // slurs or derogatory generalisations about protected characteristics
	Profanity      Category = "profanity"      // swearing, including disguised spellings
	Threat         Category = "threat"         // threats of violence or harm, or incitement
	PersonalData   Category = "personal-data"  // identifies a private individual
	Confidential   Category = "confidential"   // protective markings, internal or embargoed material, passwords and codes
	Political      Category = "political"      // party promotion; before an election also named councillors and candidates
	Disaffection   Category = "disaffection"   // staff contempt for employer or colleagues, or lack of motivation
	Safeguarding   Category = "safeguarding"   // an incoming message suggesting someone is at risk: escalate, never block
)

var categoryOrder = [...]Category{Abuse, Discrimination, Profanity, Threat, PersonalData, Confidential, Political, Disaffection, Safeguarding}

// Categories lists every category in report order.
func Categories() []Category { return categoryOrder[:] }

func categoryIndex(c Category) int {
	for i, k := range categoryOrder {
		if k == c {
			return i
		}
	}
	return 0
}

func validCategory(c Category) bool {
	for _, k := range Categories() {
		if k == c {
			return true
		}
	}
	return false
}

// Severity orders findings and reports. A report is risky at Medium or above.
type Severity int

// Severities, lowest first.
const (
	None Severity = iota
	Low
	Medium
	High
)

var severityNames = [...]string{"none", "low", "medium", "high"}

func (s Severity) String() string {
	if s < None || s > High {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads "none", "low", "medium" or "high".
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if n == s {
			return Severity(i), nil
		}
	}
	return None, fmt.Errorf("unknown severity %q (want none, low, medium or high)", s)
}

// MarshalText writes the severity's name, so JSON shows "medium" not 2.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Direction says who wrote the text: staff about to publish (outgoing, the
// default) or a resident writing in (incoming). Safeguarding applies only to
// incoming messages; publishing rules only make sense for outgoing ones, but
// threats and abuse are reported either way.
type Direction string

// Directions.
const (
	Outgoing Direction = "outgoing"
	Incoming Direction = "incoming"
)

// ParseDirection accepts "", "outgoing" or "incoming".
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "", "outgoing":
		return Outgoing, nil
	case "incoming":
		return Incoming, nil
	}
	return "", fmt.Errorf("unknown context %q (want outgoing or incoming)", s)
}

// Options tune one screening.
type Options struct {
	// Context is who wrote the text; empty means Outgoing.
	Context Direction
	// PreElection forces the pre-election (purdah) rules on.
	PreElection bool
	// Now is compared with the policy's pre-election periods and used to
	// judge whether a date looks like a date of birth; zero means time.Now.
	Now time.Time
}

// Finding is one risky span.
type Finding struct {
	Category   Category `json:"category"`
	Severity   Severity `json:"severity"`
	Start      int      `json:"start"` // byte offset into the original text
	End        int      `json:"end"`   // exclusive byte offset
	Text       string   `json:"text"`  // the original text[Start:End]
	Reason     string   `json:"reason"`
	Suggestion string   `json:"suggestion"`
}

// Report is the result of screening one text.
type Report struct {
	Level Severity `json:"level"`
	Risky bool     `json:"risky"` // Level is Medium or High
	// Categories lists those with at least one medium or high finding;
	// low findings are notes and do not make a category.
	Categories []Category `json:"categories"`
	Findings   []Finding  `json:"findings"`
	// Escalate is set for safeguarding findings: the message should go to
	// whoever handles people at risk. It is never a reason to block.
	Escalate bool `json:"escalate,omitempty"`
}

// Screener screens texts against one policy. Build it once with New and share
// it: Screen is safe for concurrent use.
type Screener struct {
	policy  *Policy
	lex     *lexicon
	periods []period
	learned *model    // nil screens with rules alone
	scratch sync.Pool // *scanState, so steady-state screening allocates little
}

// New compiles the embedded lexicons with the policy's extra terms. A nil
// policy means the embedded default.
func New(p *Policy) (*Screener, error) {
	learned, err := loadModel()
	if err != nil {
		return nil, err
	}
	return newScreener(p, learned)
}

// newScreener builds a screener with the given learned model, or with rules
// alone when it is nil.
func newScreener(p *Policy, learned *model) (*Screener, error) {
	if p == nil {
		d, err := DefaultPolicy()
		if err != nil {
			return nil, err
		}
		p = d
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	lex, err := compileLexicon(p)
	if err != nil {
		return nil, err
	}
	s := &Screener{policy: p, lex: lex, learned: learned}
	s.periods, err = p.periods()
	if err != nil {
		return nil, err
	}
	s.scratch.New = func() any { return newScanState() }
	return s, nil
}

// Policy returns the policy the screener was built with; callers must not
// change it.
func (s *Screener) Policy() *Policy { return s.policy }

// Screen reports the risky spans in text. It never fails: the worst a bad
// input can do is produce no findings. ctx is accepted so callers can pass
// deadlines through; screening a post takes microseconds, so it is only
// checked before work starts.
func (s *Screener) Screen(ctx context.Context, text string, opts Options) Report {
	if ctx.Err() != nil {
		return Report{Level: None, Categories: []Category{}, Findings: []Finding{}}
	}
	st := s.scratch.Get().(*scanState)
	st.reset(text)
	if opts.Context == "" {
		opts.Context = Outgoing
	}
	st.opts = opts
	st.now = opts.Now
	// The clock is read only when something needs it: a dated
	// pre-election period here, or a date found in the text.
	if st.now.IsZero() && len(s.periods) > 0 {
		st.now = time.Now()
	}
	st.preElection = opts.PreElection || (len(s.periods) > 0 && s.inPeriod(st.now))
	s.scan(st)
	rep := s.report(st)
	s.scratch.Put(st)
	return rep
}

func (s *Screener) inPeriod(now time.Time) bool {
	for _, p := range s.periods {
		if !now.Before(p.from) && now.Before(p.to) {
			return true
		}
	}
	return false
}

// report turns raw findings into a Report: severities from the policy,
// disabled categories dropped, overlapping duplicates merged.
func (s *Screener) report(st *scanState) Report {
	rep := Report{Categories: []Category{}, Findings: []Finding{}}
	fs := st.findings
	if len(fs) == 0 {
		return rep
	}
	// One allocation: there are never more findings than raw ones.
	rep.Findings = make([]Finding, 0, len(fs))
	slices.SortStableFunc(fs, func(a, b rawFinding) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	var seen [len(categoryOrder)]bool
	for i, f := range fs {
		cp, ok := s.policy.Categories[f.cat]
		if !ok || !cp.isEnabled() {
			continue
		}
		if dupOf(fs[:i], f) {
			continue
		}
		sev := cp.Severity
		switch f.strength {
		case weak:
			sev = Low
		case strong:
			if sev < High {
				sev++
			}
		}
		if sev == None {
			continue
		}
		rep.Findings = append(rep.Findings, Finding{
			Category: f.cat, Severity: sev, Start: f.start, End: f.end,
			Text: st.text[f.start:f.end], Reason: f.reason, Suggestion: f.suggestion,
		})
		if sev > rep.Level {
			rep.Level = sev
		}
		if sev >= Medium {
			seen[categoryIndex(f.cat)] = true
		}
		if f.cat == Safeguarding && sev >= Medium {
			rep.Escalate = true
		}
	}
	for i, c := range categoryOrder {
		if seen[i] {
			rep.Categories = append(rep.Categories, c)
		}
	}
	rep.Risky = rep.Level >= Medium
	return rep
}

// dupOf reports whether an earlier finding of the same category already
// covers f's span, so one phrase is explained once.
func dupOf(prev []rawFinding, f rawFinding) bool {
	for _, p := range prev {
		if p.cat == f.cat && p.start <= f.start && p.end >= f.end && p.strength >= f.strength {
			return true
		}
	}
	return false
}

// String renders a report as JSON, handy in test failures.
func (r Report) String() string {
	b, _ := json.Marshal(r)
	return string(b)
}
