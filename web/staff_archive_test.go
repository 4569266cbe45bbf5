package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/store"
)

var archiveQueryAll = store.ArchiveQuery{}

func TestArchivePages(t *testing.T) {
	f := newFixture(t)
	addStaff(t, f)
	ctx := context.Background()
	viewer := sessionCookie(signIn(t, f, auth.Viewer))
	approver := sessionCookie(signIn(t, f, auth.Approver))

	all := get(t, f.srv, "/staff/archive", "Cookie", viewer)
	if all.status != 200 || !strings.Contains(all.body, "govuk-summary-card") || !strings.Contains(all.body, `rel="next"`) {
		t.Fatalf("archive: %d %.400s", all.status, all.body)
	}
	if strings.Contains(all.body, "/staff/archive.csv") {
		t.Errorf("a viewer is offered an export they may not make")
	}
	total, err := f.db.CountArchive(ctx, archiveQueryAll)
	if err != nil || total <= archivePerPage {
		t.Fatalf("the demo should fill more than one page: %d, %v", total, err)
	}
	if !strings.Contains(all.body, itoa(int64(total))+" revisions, page 1 of") {
		t.Errorf("no count of %d revisions on the page", total)
	}
	// The next page keeps the search.
	search := get(t, f.srv, "/staff/archive?category=schools&text=closed", "Cookie", viewer)
	if search.status != 200 || strings.Contains(search.body, ">roads, ") {
		t.Errorf("schools search: %d, shows roads notices", search.status)
	}
	bad := get(t, f.srv, "/staff/archive?from=2026-01-31&to=2026-01-01", "Cookie", viewer)
	if bad.status != 400 || !strings.Contains(bad.body, "govuk-error-summary") || !strings.Contains(bad.body, `href="#to"`) {
		t.Errorf("end before start: %d %.300s", bad.status, bad.body)
	}

	page := get(t, f.srv, "/staff/archive?category=roads", "Cookie", approver)
	if !strings.Contains(page.body, `href="/staff/archive.csv?category=roads"`) {
		t.Errorf("approver has no export link for the search")
	}
	dl := get(t, f.srv, "/staff/archive.csv?category=roads", "Cookie", approver)
	if dl.status != 200 || !strings.HasPrefix(dl.header.Get("Content-Type"), "text/csv") || !strings.Contains(dl.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", dl.status, dl.header)
	}
	recs, err := csv.NewReader(strings.NewReader(dl.body)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}
	for _, rec := range recs[1:] {
		if rec[6] != "roads" {
			t.Errorf("csv row of category %q in a roads export", rec[6])
		}
	}
	jl := get(t, f.srv, "/staff/archive.jsonl", "Cookie", approver)
	lines := strings.Split(strings.TrimSpace(jl.body), "\n")
	if jl.status != 200 || len(lines) != total {
		t.Errorf("jsonl: %d, %d lines, want %d", jl.status, len(lines), total)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first["headline"] == "" {
		t.Errorf("jsonl line: %v %v", first, err)
	}
	if r := get(t, f.srv, "/staff/archive.jsonl", "Cookie", viewer); r.status != 403 {
		t.Errorf("viewer export: %d, want 403", r.status)
	}

	entries, err := audit.List(ctx, f.db, audit.Filter{Action: string(audit.Export)})
	if err != nil || len(entries) != 2 {
		t.Fatalf("export audit entries: %d, %v", len(entries), err)
	}
	if entries[0].Actor != "user:"+staffEmail(auth.Approver) || !strings.Contains(string(entries[0].After), `"category":"roads"`) {
		t.Errorf("export audit entry: %s %s", entries[0].Actor, entries[0].After)
	}
}
