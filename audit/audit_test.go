package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// appendN appends n entries, one transaction each, and returns them.
func appendN(t *testing.T, db *store.DB, n int) []audit.Entry {
	t.Helper()
	ctx := context.Background()
	var out []audit.Entry
	for i := range n {
		err := db.UpdateAccounts(ctx, func(tx *store.Tx) error {
			e, err := audit.Append(ctx, tx, audit.Record{
				Actor: "user:officer@northdale.gov.uk", Action: audit.Edit, Target: fmt.Sprintf("notice:%d", i),
				Before: map[string]any{"headline": fmt.Sprintf("Before %d", i)},
				After:  map[string]any{"headline": fmt.Sprintf("After %d", i)},
			})
			out = append(out, e)
			return err
		})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	return out
}

func verify(t *testing.T, db *store.DB) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), db)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func TestAppendChainsAndLists(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 1, 6, 4, 0, 0, 123456789, time.UTC)
		db.SetClock(func() time.Time { return clock })
		entries := appendN(t, db, 3)
		prev := audit.Genesis
		for i, e := range entries {
			if e.Seq != int64(i+1) || e.PrevHash != prev || len(e.Hash) != 64 {
				t.Errorf("entry %d: seq %d prev %q hash %q; want seq %d prev %q", i, e.Seq, e.PrevHash, e.Hash, i+1, prev)
			}
			prev = e.Hash
		}
		got, err := audit.List(ctx, db, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("listed %d entries, want 3", len(got))
		}
		for i := range got {
			if got[i].Hash != entries[i].Hash || !got[i].At.Equal(clock.Truncate(time.Microsecond)) {
				t.Errorf("listed entry %d = %+v, appended %+v", i, got[i], entries[i])
			}
			var after map[string]string
			if err := json.Unmarshal(got[i].After, &after); err != nil || after["headline"] != fmt.Sprintf("After %d", i) {
				t.Errorf("entry %d after = %s (%v)", i, got[i].After, err)
			}
		}
		rep := verify(t, db)
		if rep.Broken != nil || rep.Entries != 3 || rep.HeadHash != entries[2].Hash {
			t.Errorf("verify = %+v, want 3 intact entries ending at %s", rep, entries[2].Hash)
		}
		filtered, err := audit.List(ctx, db, audit.Filter{Target: "notice:1"})
		if err != nil || len(filtered) != 1 || filtered[0].Seq != 2 {
			t.Errorf("filter by target = %+v, %v; want entry 2", filtered, err)
		}
	})
}

func TestAppendRejectsIncompleteRecords(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	for _, r := range []audit.Record{
		{Action: audit.Edit, Target: "notice:1"},
		{Actor: "cli:root", Target: "notice:1"},
		{Actor: "cli:root", Action: audit.Edit},
		{Actor: "cli:root", Action: audit.Edit, Target: "notice:1", Before: json.RawMessage(`{not json`)},
	} {
		err := db.UpdateAccounts(ctx, func(tx *store.Tx) error {
			_, err := audit.Append(ctx, tx, r)
			return err
		})
		if err == nil {
			t.Errorf("Append(%+v) succeeded, want an error", r)
		}
	}
	if rep := verify(t, db); rep.Entries != 0 || rep.Broken != nil {
		t.Errorf("after rejected appends verify = %+v, want an empty intact log", rep)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name    string
		tamper  []string // SQL run against a log of 5 entries
		rehash  int64    // then recompute this entry's hash, as a careful forger would
		wantSeq int64
		reason  string
	}{
		{"edited after", []string{`UPDATE audit_log SET after_json = '{"headline":"Nothing happened"}' WHERE seq = 3`}, 0, 3, "edited"},
		{"edited before", []string{`UPDATE audit_log SET before_json = '' WHERE seq = 2`}, 0, 2, "edited"},
		{"edited actor", []string{`UPDATE audit_log SET actor = 'user:someone-else@northdale.gov.uk' WHERE seq = 1`}, 0, 1, "edited"},
		{"edited time", []string{`UPDATE audit_log SET at = at + INTERVAL '1 hour' WHERE seq = 4`}, 0, 4, "edited"},
		{"rehashed entry", []string{`UPDATE audit_log SET action = 'approve' WHERE seq = 2`}, 2, 3, "previous-entry hash"},
		{"deleted middle", []string{`DELETE FROM audit_log WHERE seq = 3`}, 0, 3, "missing"},
		{"deleted two", []string{`DELETE FROM audit_log WHERE seq IN (2, 3)`}, 0, 2, "entries 2 to 3 are missing"},
		{"deleted newest", []string{`DELETE FROM audit_log WHERE seq = 5`}, 0, 5, "deleted from the end"},
		{"deleted newest and head moved back", []string{`DELETE FROM audit_log WHERE seq = 5`, `UPDATE audit_head SET seq = 4`}, 0, 4, "chain head"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				appendN(t, db, 5)
				if rep := verify(t, db); rep.Broken != nil || rep.Entries != 5 {
					t.Fatalf("before tampering verify = %+v, want 5 intact entries", rep)
				}
				err := db.UpdateAccounts(ctx, func(tx *store.Tx) error {
					for _, q := range tc.tamper {
						if tx.Engine() == store.SQLite {
							q = strings.ReplaceAll(q, "at + INTERVAL '1 hour'", "datetime(at, '+1 hour')")
						}
						if _, err := tx.Exec(ctx, q); err != nil {
							return fmt.Errorf("%s: %w", q, err)
						}
					}
					if tc.rehash == 0 {
						return nil
					}
					rows, err := db.AuditEntries(ctx, store.AuditFilter{AfterSeq: tc.rehash - 1, Limit: 1})
					if err != nil || len(rows) != 1 {
						return fmt.Errorf("read entry %d: %v", tc.rehash, err)
					}
					r := rows[0]
					r.Action = "approve"
					_, err = tx.Exec(ctx, `UPDATE audit_log SET hash = ? WHERE seq = ?`, audit.Hash(r), r.Seq)
					return err
				})
				if err != nil {
					t.Fatalf("tamper: %v", err)
				}
				rep := verify(t, db)
				if rep.Broken == nil {
					t.Fatalf("verify after %v found nothing wrong: %+v", tc.tamper, rep)
				}
				if rep.Broken.Seq != tc.wantSeq || !strings.Contains(rep.Broken.Reason, tc.reason) {
					t.Errorf("broken at %d (%s), want %d (%s)", rep.Broken.Seq, rep.Broken.Reason, tc.wantSeq, tc.reason)
				}
			})
		})
	}
}

// TestConcurrentAppendsKeepTheChain appends from many goroutines at once:
// each must see its predecessor's committed hash, so the chain must verify
// and the numbers must run without a gap.
func TestConcurrentAppendsKeepTheChain(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const workers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					errs <- db.UpdateAccounts(ctx, func(tx *store.Tx) error {
						_, err := audit.Append(ctx, tx, audit.Record{
							Actor: fmt.Sprintf("user:w%d@northdale.gov.uk", w), Action: audit.Publish, Target: fmt.Sprintf("notice:%d", i),
						})
						return err
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		rep := verify(t, db)
		if rep.Broken != nil || rep.Entries != workers*each {
			t.Errorf("verify = %+v (broken %v), want %d intact entries", rep, rep.Broken, workers*each)
		}
	})
}

// TestAppendRollsBackWithItsTransaction: an action that fails leaves no
// audit entry and no hole in the chain.
func TestAppendRollsBackWithItsTransaction(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		appendN(t, db, 1)
		err := db.UpdateAccounts(ctx, func(tx *store.Tx) error {
			if _, err := audit.Append(ctx, tx, audit.Record{Actor: "cli:root", Action: audit.Purge, Target: "archive"}); err != nil {
				return err
			}
			return fmt.Errorf("the purge failed")
		})
		if err == nil {
			t.Fatal("the failing transaction committed")
		}
		appendN(t, db, 1)
		if rep := verify(t, db); rep.Broken != nil || rep.Entries != 2 {
			t.Errorf("verify = %+v, want 2 intact entries", rep)
		}
	})
}

func TestHashCoversEveryField(t *testing.T) {
	base := store.AuditRow{Seq: 7, At: time.Date(2026, 1, 6, 4, 0, 0, 0, time.UTC), Actor: "a", Action: "edit",
		Target: "notice:1", Before: `{}`, After: `{"x":1}`, PrevHash: audit.Genesis}
	h := audit.Hash(base)
	for name, change := range map[string]func(*store.AuditRow){
		"seq":        func(r *store.AuditRow) { r.Seq++ },
		"at":         func(r *store.AuditRow) { r.At = r.At.Add(time.Microsecond) },
		"actor":      func(r *store.AuditRow) { r.Actor = "b" },
		"action":     func(r *store.AuditRow) { r.Action = "approve" },
		"target":     func(r *store.AuditRow) { r.Target = "notice:2" },
		"before":     func(r *store.AuditRow) { r.Before = `{"x":0}` },
		"after":      func(r *store.AuditRow) { r.After = `{"x":2}` },
		"prev":       func(r *store.AuditRow) { r.PrevHash = strings.Repeat("1", 64) },
		"split":      func(r *store.AuditRow) { r.Actor, r.Action = "ae", "dit" },
		"moved json": func(r *store.AuditRow) { r.Before, r.After = r.After, r.Before },
	} {
		r := base
		change(&r)
		if audit.Hash(r) == h {
			t.Errorf("changing %s left the hash unchanged", name)
		}
	}
	if audit.Hash(base) != h {
		t.Error("Hash is not deterministic")
	}
}
