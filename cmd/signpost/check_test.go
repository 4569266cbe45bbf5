package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
)

func TestCheckText(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  []string // substrings of stdout
		exit  int
	}{
		{"argument", "", []string{"check", "Roads", "are", "f*cked", "today"}, []string{"RISKY (medium): profanity", "Roads are [[f*cked]] today", "Suggestion:"}, 0},
		{"stdin", "Email winter@northdale.gov.uk with questions", []string{"check"}, []string{"OK: nothing found"}, 0},
		{"fail risky", "", []string{"check", "--fail-risky", "Vote Labour on Thursday"}, []string{"political"}, 3},
		{"fail risky but safe", "", []string{"check", "--fail-risky", "Bins are collected on Tuesday"}, []string{"OK"}, 0},
		{"incoming", "", []string{"check", "--context", "incoming", "My gran hasn't answered the phone for two days"}, []string{"safeguarding", "ESCALATE"}, 0},
		{"pre-election", "", []string{"check", "--pre-election", "Cllr Price opened the brilliant new depot"}, []string{"political"}, 0},
		{"not pre-election", "", []string{"check", "Cllr Price opened the brilliant new depot"}, []string{"OK"}, 0},
		{"json", "", []string{"check", "--format", "json", "sh1te"}, []string{`"risky": true`, `"category": "profanity"`, `"start": 0`, `"end": 5`}, 0},
		{"print policy", "", []string{"check", "--print-policy"}, []string{"categories:", "pre_election:", "abuse:"}, 0},
		{"bad format", "", []string{"check", "--format", "xml", "x"}, nil, 2},
		{"bad context", "", []string{"check", "--context", "sideways", "x"}, nil, 2},
		{"missing policy", "", []string{"check", "--policy", "/nonexistent/policy.yaml", "x"}, nil, 2},
	}
	for _, tt := range tests {
		stdout, stderr, err := c.run(tt.stdin, tt.args...)
		if got := exitCode(err); err != nil && got != tt.exit || err == nil && tt.exit != 0 {
			t.Errorf("%s: exit %d (%v), want %d\n%s", tt.name, got, err, tt.exit, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s: stdout lacks %q:\n%s", tt.name, w, stdout)
			}
		}
	}
}

func TestCheckPolicyFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("categories:\n  profanity: {enabled: false}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := c.must("check", "--policy", path, "what the fuck")
	if !strings.Contains(out, "OK") {
		t.Errorf("profanity disabled by policy, got:\n%s", out)
	}
	if err := os.WriteFile(path, []byte("categories: {profanity: {severity: extreme}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.run("", "check", "--policy", path, "x"); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("bad policy: %v", err)
	}
}

func TestCheckJSONL(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	in := `{"id": "a", "text": "sh1t roads"}
not json at all
{"id": 7, "text": "I want to end it all", "context": "incoming"}

{"id": "b"}
{"id": "c", "text": "x", "context": "sideways"}
{"id": "d", "text": "Cllr Price opened the brilliant new depot", "pre_election": true}
{"text": "Bins on Tuesday"}
`
	stdout, stderr, err := c.run(in, "check", "--jsonl")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 7 {
		t.Fatalf("%d output lines, want 7 (one per non-blank input):\n%s", len(lines), stdout)
	}
	check := func(i int, key string, want any) {
		t.Helper()
		b1, _ := json.Marshal(lines[i][key])
		b2, _ := json.Marshal(want)
		if string(b1) != string(b2) {
			t.Errorf("line %d %s = %s, want %s", i, key, b1, b2)
		}
	}
	check(0, "id", "a")
	check(0, "risky", true)
	check(0, "categories", []string{"profanity"})
	check(1, "line", 2)
	check(1, "error", map[string]string{"code": "invalid", "message": lines[1]["error"].(map[string]any)["message"].(string)})
	check(2, "id", 7)
	check(2, "categories", []string{"safeguarding"})
	check(3, "line", 5)
	check(3, "id", "b")
	check(4, "line", 6)
	check(5, "id", "d")
	check(5, "categories", []string{"political"})
	check(6, "risky", false)
	check(6, "level", "none")

	if _, _, err := c.run(in, "check", "--jsonl", "--fail-risky"); exitCode(err) != 3 {
		t.Errorf("--jsonl --fail-risky: exit %d", exitCode(err))
	}
}

func TestCheckEval(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := filepath.Join(t.TempDir(), "eval.jsonl")
	data := `{"id": "e1", "text": "what the fuck", "risky": true, "categories": ["profanity"], "context": "outgoing"}
{"id": "e2", "text": "Bins on Tuesday", "risky": false, "categories": [], "context": "outgoing"}
{"id": "e3", "text": "Lovely weather for ducks", "risky": true, "categories": ["abuse"], "context": "outgoing"}
`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out := c.must("check", "--eval", path)
	for _, w := range []string{"3 examples", "risky", "1.000   0.500", "Misclassified (1)", "e3 want [abuse] got []"} {
		if !strings.Contains(out, w) {
			t.Errorf("eval output lacks %q:\n%s", w, out)
		}
	}
	js := c.must("check", "--eval", path, "--format", "json")
	var res struct {
		Examples int `json:"examples"`
		Risky    struct {
			Precision, Recall float64
		} `json:"risky"`
		Misses []struct{ ID string } `json:"misclassified"`
	}
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatal(err)
	}
	if res.Examples != 3 || res.Risky.Precision != 1 || res.Risky.Recall != 0.5 || len(res.Misses) != 1 || res.Misses[0].ID != "e3" {
		t.Errorf("eval json: %+v", res)
	}
	if err := os.WriteFile(path, []byte("{broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.run("", "check", "--eval", path); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("broken eval file: %v", err)
	}
}

func TestHighlightMergesOverlaps(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	out := c.must("check", "Who's the twat who left the keys")
	if !strings.Contains(out, "Who's the [[twat]] who left") {
		t.Errorf("overlapping findings should be marked once:\n%s", out)
	}
}

func FuzzReadJSONL(f *testing.F) {
	f.Add("{\"id\":\"a\",\"text\":\"x\"}\n")
	f.Add("not json\n\n{\"text\":null}\n")
	f.Add("{\"id\":1,\"text\":\"y\",\"context\":\"incoming\",\"pre_election\":true}")
	f.Add("{\"text\":\"a\"} {\"text\":\"b\"}\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		nonBlank := 0
		for _, l := range strings.Split(in, "\n") {
			if strings.TrimSpace(l) != "" {
				nonBlank++
			}
		}
		calls, last := 0, 0
		err := readJSONL(strings.NewReader(in), func(line int, req jsonlRequest, perr error) error {
			calls++
			if line <= last {
				t.Fatalf("line numbers not increasing: %d after %d", line, last)
			}
			last = line
			if perr == nil && req.Text == nil {
				t.Fatalf("line %d accepted without text", line)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("reading from a string failed: %v", err)
		}
		if calls != nonBlank {
			t.Fatalf("%d calls for %d non-blank lines", calls, nonBlank)
		}
	})
}
