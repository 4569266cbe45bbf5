package store

import (
	"context"
	"fmt"
	"time"
)

// AuditRow is one audit log entry as stored. The audit package decides what
// goes in it and how it is hashed; the store keeps the chain in order.
type AuditRow struct {
	Seq      int64
	At       time.Time
	Actor    string
	Action   string
	Target   string
	Before   string // JSON, or "" for nothing
	After    string
	PrevHash string
	Hash     string
}

// AuditHead is the newest entry's number and hash (0 and the genesis hash
// for an empty log).
type AuditHead struct {
	Seq  int64
	Hash string
}

// AppendAudit adds row to the end of the audit chain. It fills in Seq and
// PrevHash, then calls hash for the entry's own hash. The first statement
// updates the head row, which locks it until the transaction ends on both
// engines, so concurrent appends take turns and each sees the hash its
// predecessor committed.
func (tx *Tx) AppendAudit(ctx context.Context, row *AuditRow, hash func(AuditRow) string) error {
	err := tx.QueryRow(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).
		Scan(&row.Seq, &row.PrevHash)
	if err != nil {
		return fmt.Errorf("audit: lock chain head: %w", err)
	}
	row.At = utc(row.At)
	row.Hash = hash(*row)
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, action, target, before_json, after_json, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		row.Seq, row.At, row.Actor, row.Action, row.Target, row.Before, row.After, row.PrevHash, row.Hash)
	if err != nil {
		return fmt.Errorf("audit: append entry %d: %w", row.Seq, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET hash = ? WHERE id = 1`, row.Hash); err != nil {
		return fmt.Errorf("audit: move chain head: %w", err)
	}
	return nil
}

// AuditHead reads the chain head.
func (db *DB) AuditHead(ctx context.Context) (AuditHead, error) {
	var h AuditHead
	if err := db.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash); err != nil {
		return AuditHead{}, fmt.Errorf("audit: read chain head: %w", err)
	}
	return h, nil
}

// AuditFilter selects audit entries. Zero values select everything.
type AuditFilter struct {
	AfterSeq int64     // only entries with a larger seq
	Since    time.Time // only entries at or after this time
	Actor    string
	Action   string
	Target   string
	Limit    int // at most this many; 0 means 1000
}

// AuditEntries returns entries in chain order.
func (db *DB) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditRow, error) {
	q := `SELECT seq, at, actor, action, target, before_json, after_json, prev_hash, hash FROM audit_log WHERE seq > ?`
	args := []any{f.AfterSeq}
	if !f.Since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, utc(f.Since))
	}
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []AuditRow
	for rows.Next() {
		var r AuditRow
		if err := rows.Scan(&r.Seq, &r.At, &r.Actor, &r.Action, &r.Target, &r.Before, &r.After, &r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("audit: list: %w", err)
		}
		r.At = r.At.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return out, nil
}
