package risk

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// defaultPolicyYAML is the embedded default, documented in its comments.
//
//go:embed policy.yaml
var defaultPolicyYAML []byte

// DefaultPolicyYAML returns the default policy file, comments included, for
// `signpost check --print-policy`.
func DefaultPolicyYAML() []byte { return bytes.Clone(defaultPolicyYAML) }

// Policy is an organisation's screening policy; the file format is described
// in policy.yaml.
type Policy struct {
	Categories  map[Category]CategoryPolicy `yaml:"categories" json:"categories"`
	Allow       Allow                       `yaml:"allow" json:"allow"`
	Terms       map[Category][]string       `yaml:"terms" json:"terms"`
	PreElection []Period                    `yaml:"pre_election" json:"pre_election"`

	phones map[string]bool // allow-listed numbers as bare digits starting 0
}

// CategoryPolicy switches a category on or off and sets its severity.
type CategoryPolicy struct {
	Enabled  *bool    `yaml:"enabled" json:"enabled"`
	Severity Severity `yaml:"severity" json:"severity"`
}

func (c CategoryPolicy) isEnabled() bool { return c.Enabled == nil || *c.Enabled }

// Allow lists the organisation's own contact points and officials.
type Allow struct {
	Phones       []string `yaml:"phones" json:"phones"`
	EmailDomains []string `yaml:"email_domains" json:"email_domains"`
	Officials    []string `yaml:"officials" json:"officials"`
}

// Period is an inclusive range of dates, YYYY-MM-DD.
type Period struct {
	From string `yaml:"from" json:"from"`
	To   string `yaml:"to" json:"to"`
}

type period struct{ from, to time.Time }

// DefaultPolicy parses the embedded default.
func DefaultPolicy() (*Policy, error) {
	var p Policy
	if err := decodeStrict(defaultPolicyYAML, &p); err != nil {
		return nil, fmt.Errorf("embedded default policy: %w", err)
	}
	return &p, p.validate()
}

// ParsePolicy reads a policy file over the defaults: categories, keys and
// lists not given keep their default values.
func ParsePolicy(b []byte) (*Policy, error) {
	p, err := DefaultPolicy()
	if err != nil {
		return nil, err
	}
	var over Policy
	if err := decodeStrict(b, &over); err != nil {
		return nil, err
	}
	for c, cp := range over.Categories {
		if !validCategory(c) {
			return nil, fmt.Errorf("categories: unknown category %q", c)
		}
		d := p.Categories[c]
		if cp.Enabled != nil {
			d.Enabled = cp.Enabled
		}
		if cp.Severity != None {
			d.Severity = cp.Severity
		}
		p.Categories[c] = d
	}
	p.Allow.Phones = append(p.Allow.Phones, over.Allow.Phones...)
	p.Allow.EmailDomains = append(p.Allow.EmailDomains, over.Allow.EmailDomains...)
	p.Allow.Officials = append(p.Allow.Officials, over.Allow.Officials...)
	if p.Terms == nil {
		p.Terms = map[Category][]string{}
	}
	for c, ts := range over.Terms {
		p.Terms[c] = append(p.Terms[c], ts...)
	}
	p.PreElection = append(p.PreElection, over.PreElection...)
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeStrict(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("policy: %w", err)
	}
	return nil
}

// validate checks everything New relies on and precomputes lookups.
func (p *Policy) validate() error {
	for c := range p.Categories {
		if !validCategory(c) {
			return fmt.Errorf("policy categories: unknown category %q", c)
		}
	}
	for _, c := range Categories() {
		if _, ok := p.Categories[c]; !ok {
			return fmt.Errorf("policy categories: %q is missing", c)
		}
	}
	for c, ts := range p.Terms {
		if !validCategory(c) {
			return fmt.Errorf("policy terms: unknown category %q", c)
		}
		for _, t := range ts {
			if _, err := parseEntry(t); err != nil {
				return fmt.Errorf("policy terms %s %q: %w", c, t, err)
			}
		}
	}
	for _, o := range p.Allow.Officials {
		if _, err := parseEntry(o); err != nil {
			return fmt.Errorf("policy officials %q: %w", o, err)
		}
	}
	p.phones = map[string]bool{}
	for _, ph := range p.Allow.Phones {
		d := phoneDigits(ph)
		if len(d) < 3 {
			return fmt.Errorf("policy phones: %q is not a phone number", ph)
		}
		p.phones[d] = true
	}
	for i, d := range p.Allow.EmailDomains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d == "" || strings.ContainsAny(d, " @") {
			return fmt.Errorf("policy email_domains: %q is not a domain", p.Allow.EmailDomains[i])
		}
		p.Allow.EmailDomains[i] = d
	}
	_, err := p.periods()
	return err
}

func phoneDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	d := b.String()
	if strings.HasPrefix(strings.TrimSpace(s), "+44") {
		d = "0" + strings.TrimPrefix(d, "44")
	}
	return d
}

func (p *Policy) periods() ([]period, error) {
	var out []period
	for _, r := range p.PreElection {
		from, err := time.Parse(time.DateOnly, r.From)
		if err != nil {
			return nil, fmt.Errorf("policy pre_election from %q: want YYYY-MM-DD", r.From)
		}
		to, err := time.Parse(time.DateOnly, r.To)
		if err != nil {
			return nil, fmt.Errorf("policy pre_election to %q: want YYYY-MM-DD", r.To)
		}
		if to.Before(from) {
			return nil, fmt.Errorf("policy pre_election: %s is before %s", r.To, r.From)
		}
		// Inclusive of the last day, in UK local time near enough: a day
		// of slack either way matters less than missing the period.
		out = append(out, period{from: from.Add(-time.Hour), to: to.AddDate(0, 0, 1).Add(time.Hour)})
	}
	return out, nil
}

func (p *Policy) allowsPhone(d []byte) bool { return p.phones[string(d)] }

func (p *Policy) ownDomain(d string) bool {
	for _, o := range p.Allow.EmailDomains {
		if d == o || strings.HasSuffix(d, "."+o) {
			return true
		}
	}
	return false
}
