package audit

import (
	"context"
	"fmt"

	"github.com/signpost-uk/signpost/store"
)

// Genesis is the previous hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Break is the first place the chain does not hold.
type Break struct {
	Seq    int64  // the entry at which the chain breaks
	Reason string // what is wrong, for a person
}

func (b *Break) Error() string {
	return fmt.Sprintf("audit log broken at entry %d: %s", b.Seq, b.Reason)
}

// Report is what Verify found.
type Report struct {
	Entries  int64  // entries checked
	HeadHash string // the newest entry's hash: record it elsewhere to detect a rewritten chain later
	Broken   *Break // nil when the chain holds
}

// verifyPage is how many entries Verify reads at a time, so a long log
// never sits in memory whole.
const verifyPage = 1000

// Verify walks the whole chain in order and reports the first broken link:
// a missing entry, an entry whose contents no longer match its hash, an
// entry that does not point at its predecessor's hash, or a head that does
// not match the newest entry (entries deleted from the end). Entries
// appended while it runs are left for the next run. The error is for
// failing to read, not for a broken chain.
func Verify(ctx context.Context, db *store.DB) (Report, error) {
	head, err := db.AuditHead(ctx)
	if err != nil {
		return Report{}, err
	}
	rep := Report{HeadHash: head.Hash}
	prev, next := Genesis, int64(1)
	for next <= head.Seq {
		rows, err := db.AuditEntries(ctx, store.AuditFilter{AfterSeq: next - 1, Limit: verifyPage})
		if err != nil {
			return Report{}, err
		}
		for _, r := range rows {
			if r.Seq > head.Seq {
				break
			}
			if br := checkLink(r, next, prev); br != nil {
				rep.Broken = br
				return rep, nil
			}
			rep.Entries++
			prev, next = r.Hash, r.Seq+1
		}
		if len(rows) == 0 || rows[len(rows)-1].Seq > head.Seq || len(rows) < verifyPage {
			break
		}
	}
	switch {
	case next <= head.Seq:
		rep.Broken = &Break{Seq: next, Reason: fmt.Sprintf("entries %d to %d are missing (deleted from the end of the log)", next, head.Seq)}
	case prev != head.Hash:
		rep.Broken = &Break{Seq: head.Seq, Reason: "the newest entry's hash does not match the chain head"}
	}
	return rep, nil
}

// checkLink checks one entry against the number and hash the chain expects.
func checkLink(r store.AuditRow, wantSeq int64, wantPrev string) *Break {
	switch {
	case r.Seq != wantSeq:
		if wantSeq == r.Seq-1 {
			return &Break{Seq: wantSeq, Reason: fmt.Sprintf("entry %d is missing (deleted)", wantSeq)}
		}
		return &Break{Seq: wantSeq, Reason: fmt.Sprintf("entries %d to %d are missing (deleted)", wantSeq, r.Seq-1)}
	case r.PrevHash != wantPrev:
		return &Break{Seq: r.Seq, Reason: "its previous-entry hash does not match the entry before it (an earlier entry was rewritten or removed)"}
	case Hash(r) != r.Hash:
		return &Break{Seq: r.Seq, Reason: "its contents do not match its hash (the entry was edited)"}
	}
	return nil
}
