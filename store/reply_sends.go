package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// ReplySend is what is known about sending one reply to a network.
type ReplySend struct {
	Key        string
	Channel    string
	Attempts   int       // including the one just begun
	FirstAt    time.Time // when the first attempt began
	ExternalID string    // the network's id once sent, else ""
}

// BeginReplySend records an attempt to send the reply with this key and
// returns its history: the first attempt's time, how many attempts there
// have been, and the network's id if an earlier attempt finished.
func (db *DB) BeginReplySend(ctx context.Context, key, channelName string) (ReplySend, error) {
	if strings.TrimSpace(key) == "" {
		return ReplySend{}, signpost.Errorf(signpost.EINVALID, "reply: idempotency key is required")
	}
	s := ReplySend{Key: key}
	err := db.Update(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO reply_sends (key, channel, attempts, first_at) VALUES (?, ?, 1, ?)
			ON CONFLICT (key) DO UPDATE SET attempts = reply_sends.attempts + 1`, key, channelName, tx.Now())
		if err != nil {
			return fmt.Errorf("begin reply %s: %w", key, err)
		}
		err = tx.QueryRow(ctx, `SELECT channel, attempts, external_id, first_at FROM reply_sends WHERE key = ?`, key).
			Scan(&s.Channel, &s.Attempts, &s.ExternalID, &s.FirstAt)
		if err != nil {
			return fmt.Errorf("begin reply %s: %w", key, err)
		}
		return nil
	})
	s.FirstAt = s.FirstAt.UTC()
	return s, err
}

// FinishReplySend records the network's id of a sent reply.
func (db *DB) FinishReplySend(ctx context.Context, key, externalID string) error {
	return db.Update(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE reply_sends SET external_id = ?, sent_at = ? WHERE key = ?`, externalID, tx.Now(), key)
		if err != nil {
			return fmt.Errorf("finish reply %s: %w", key, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("finish reply %s: %w", key, sql.ErrNoRows)
		}
		return nil
	})
}
