package main

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost"
)

func TestArchiveCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	gritting := strings.TrimSpace(c.must("notice", "create", "--category", "roads", "--status", "gritting-in-progress", "--place", "all", "--headline", "Gritting all routes"))
	c.must("notice", "create", "--category", "schools", "--status", "closed", "--place", "all", "--headline", "Schools closed")
	c.must("notice", "close", gritting)

	out := c.must("archive", "export", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][0] != "notice_id" {
		t.Fatalf("csv export: %d records, %v\n%s", len(recs), err, out)
	}
	if recs[1][0] != gritting || recs[1][2] != "closed" {
		t.Errorf("newest first should be the closure of %s: %v", gritting, recs[1])
	}
	out = c.must("archive", "export", "--format", "jsonl", "--category", "roads", "--text", "GRITTING", "--from", "2000-01-01", "--to", "2999-12-31")
	if n := strings.Count(out, "\n"); n != 2 || !strings.Contains(out, `"kind":"published"`) {
		t.Errorf("jsonl export of roads: %d lines\n%s", n, out)
	}
	if out := c.must("archive", "export", "--from", "2999-01-01"); strings.Count(out, "\n") != 1 {
		t.Errorf("export of the future should be the header only:\n%s", out)
	}
	for _, bad := range [][]string{
		{"archive", "export", "--format", "xml"},
		{"archive", "export", "--from", "yesterday"},
		{"archive", "export", "--from", "2026-02-01", "--to", "2026-01-01"},
		{"archive", "export", "--category", "snow"},
		{"archive", "retention", "--keep-days", "99999999"},
		{"archive"},
	} {
		if _, _, err := c.run("", bad...); signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("%v: %v, want %s", bad, err, signpost.EINVALID)
		}
	}

	if out := c.must("archive", "purge", "--dry-run"); !strings.Contains(out, "everything is kept") {
		t.Errorf("purge without retention: %q", out)
	}
	if out := c.must("archive", "retention", "--keep-days", "30"); !strings.Contains(out, "kept for 30 days") {
		t.Errorf("retention: %q", out)
	}
	if out := c.must("archive", "purge", "--dry-run"); !strings.HasPrefix(out, "would purge 0 notices") {
		t.Errorf("purge --dry-run: %q", out)
	}
	if out := c.must("archive", "purge"); !strings.HasPrefix(out, "purged 0 notices") {
		t.Errorf("purge: %q", out)
	}
	log := c.must("audit", "list")
	if strings.Count(log, " export ") != 3 || strings.Count(log, " purge ") != 1 || strings.Count(log, "policy-change") != 1 {
		t.Errorf("audit log after exports, a retention change and one purge:\n%s", log)
	}
	if out := c.must("audit", "verify"); !strings.HasPrefix(out, "audit log intact") {
		t.Errorf("audit verify: %q", out)
	}
}
