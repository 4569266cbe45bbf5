package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/signpost-uk/signpost"
)

// Channel is a configured destination for notices, as stored. Credentials
// are sealed by the caller (package secret) before they reach the store.
type Channel struct {
	ID          int64
	Name        string
	Type        string
	Config      json.RawMessage // non-secret settings
	Credentials string          // sealed; empty for channels without secrets
	Healthy     bool
	LastError   string
	CheckedAt   *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// channelName keeps names usable on the command line and in URLs.
var channelName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidChannelName reports whether name can name a channel: 1–63
// lower-case letters, digits, '-' or '_', starting with a letter or digit.
func ValidChannelName(name string) bool { return channelName.MatchString(name) }

// CreateChannel stores a new channel. A name already in use is ECONFLICT.
func (db *DB) CreateChannel(ctx context.Context, c Channel) (Channel, error) {
	var out Channel
	err := db.Update(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.CreateChannel(ctx, c)
		return err
	})
	return out, err
}

// CreateChannel stores a new channel in the transaction, so a caller can
// audit it in the same one.
func (tx *Tx) CreateChannel(ctx context.Context, c Channel) (Channel, error) {
	if !ValidChannelName(c.Name) {
		return Channel{}, signpost.Errorf(signpost.EINVALID, "channel name %q: use 1–63 lower-case letters, digits, '-' or '_', starting with a letter or digit", c.Name)
	}
	if c.Type == "" {
		return Channel{}, signpost.Errorf(signpost.EINVALID, "channel %q has no type", c.Name)
	}
	if len(c.Config) == 0 {
		c.Config = json.RawMessage(`{}`)
	}
	if !json.Valid(c.Config) {
		return Channel{}, signpost.Errorf(signpost.EINVALID, "channel %q: configuration is not valid JSON", c.Name)
	}
	now := tx.Now()
	c.CreatedAt, c.UpdatedAt, c.Healthy = now, now, true
	err := tx.QueryRow(ctx, `INSERT INTO channels (name, type, config, credentials, healthy, last_error, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, '', ?, ?) RETURNING id`,
		c.Name, c.Type, string(c.Config), c.Credentials, true, now, now).Scan(&c.ID)
	if err != nil && isUniqueViolation(err) {
		return Channel{}, signpost.Errorf(signpost.ECONFLICT, "a channel named %q already exists", c.Name)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("create channel: %w", err)
	}
	return c, nil
}

const channelColumns = `id, name, type, config, credentials, healthy, last_error, checked_at, created_at, updated_at`

func scanChannel(row interface{ Scan(...any) error }) (Channel, error) {
	var c Channel
	var config string
	var checked sql.NullTime
	if err := row.Scan(&c.ID, &c.Name, &c.Type, &config, &c.Credentials, &c.Healthy, &c.LastError, &checked, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return Channel{}, err
	}
	c.Config = json.RawMessage(config)
	c.CheckedAt = timePtr(checked)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// Channel returns the channel with the given name, or ENOTFOUND.
func (db *DB) Channel(ctx context.Context, name string) (Channel, error) {
	c, err := scanChannel(db.queryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, signpost.Errorf(signpost.ENOTFOUND, "no channel named %q", name)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("read channel %s: %w", name, err)
	}
	return c, nil
}

// Channel reads a channel in the transaction, locking its row on
// PostgreSQL so a change based on what was read cannot lose a concurrent
// one.
func (tx *Tx) Channel(ctx context.Context, name string) (Channel, error) {
	c, err := scanChannel(tx.QueryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE name = ?`+tx.forUpdate(), name))
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, signpost.Errorf(signpost.ENOTFOUND, "no channel named %q", name)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("read channel %s: %w", name, err)
	}
	return c, nil
}

// Channels returns every channel, by name.
func (db *DB) Channels(ctx context.Context) ([]Channel, error) {
	rows, err := db.query(ctx, `SELECT `+channelColumns+` FROM channels ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	defer rows.Close()
	var out []Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("list channels: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteChannel removes a channel, or returns ENOTFOUND.
func (db *DB) DeleteChannel(ctx context.Context, name string) error {
	return db.Update(ctx, func(tx *Tx) error { return tx.DeleteChannel(ctx, name) })
}

// DeleteChannel removes a channel in the transaction, or returns
// ENOTFOUND.
func (tx *Tx) DeleteChannel(ctx context.Context, name string) error {
	res, err := tx.Exec(ctx, `DELETE FROM channels WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete channel %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return signpost.Errorf(signpost.ENOTFOUND, "no channel named %q", name)
	}
	return nil
}

// SetChannelConfig replaces a channel's non-secret settings.
func (tx *Tx) SetChannelConfig(ctx context.Context, name string, config json.RawMessage) error {
	if !json.Valid(config) {
		return signpost.Errorf(signpost.EINVALID, "channel %q: configuration is not valid JSON", name)
	}
	res, err := tx.Exec(ctx, `UPDATE channels SET config = ?, updated_at = ? WHERE name = ?`, string(config), tx.Now(), name)
	if err != nil {
		return fmt.Errorf("set configuration of channel %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return signpost.Errorf(signpost.ENOTFOUND, "no channel named %q", name)
	}
	return nil
}

// SetChannelCredentials replaces a channel's sealed credentials.
func (tx *Tx) SetChannelCredentials(ctx context.Context, name, sealed string) error {
	res, err := tx.Exec(ctx, `UPDATE channels SET credentials = ?, updated_at = ? WHERE name = ?`, sealed, tx.Now(), name)
	if err != nil {
		return fmt.Errorf("set credentials of channel %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return signpost.Errorf(signpost.ENOTFOUND, "no channel named %q", name)
	}
	return nil
}

// SetChannelHealth records the outcome of a health check or a delivery:
// a permanent failure marks the channel unhealthy with its message, a
// success clears it. Going from healthy to unhealthy starts a new outage,
// which ClaimChannelAlerts then hands out once.
func (db *DB) SetChannelHealth(ctx context.Context, name string, healthy bool, lastError string) error {
	if len(lastError) > 1000 {
		lastError = lastError[:1000]
	}
	return db.UpdateQuietly(ctx, func(tx *Tx) error {
		now := tx.Now()
		// The right-hand sides read the row as it was before this update.
		res, err := tx.Exec(ctx, `UPDATE channels SET healthy = ?, last_error = ?, checked_at = ?, updated_at = ?,
				outages = CASE WHEN healthy AND NOT ? THEN outages + 1 ELSE outages END
			WHERE name = ?`,
			healthy, lastError, now, now, healthy, name)
		if err != nil {
			return fmt.Errorf("set channel health %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return signpost.Errorf(signpost.ENOTFOUND, "no channel named %q", name)
		}
		return nil
	})
}

// UnhealthyChannels names the channels whose last check or delivery
// failed permanently, by name.
func (db *DB) UnhealthyChannels(ctx context.Context) ([]string, error) {
	rows, err := db.query(ctx, `SELECT name FROM channels WHERE NOT healthy ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list unhealthy channels: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list unhealthy channels: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// ChannelAlert is an outage of a channel the administrators have not yet
// been told about.
type ChannelAlert struct {
	Name      string
	Type      string
	LastError string
	Since     time.Time // when the failure was recorded
	Outage    int       // the channel's outage number, for MarkChannelAlerted
}

// ClaimChannelAlerts returns the unhealthy channels whose current outage
// has not been alerted, marking each claimed so that another server skips
// it; a claim older than stale (its server died, or sending failed) is
// handed out again.
func (db *DB) ClaimChannelAlerts(ctx context.Context, stale time.Duration) ([]ChannelAlert, error) {
	cutoff := utc(db.now().Add(-stale))
	const due = `NOT healthy AND outages > alerted_outage AND (alert_claimed_at IS NULL OR alert_claimed_at < ?)`
	rows, err := db.query(ctx, `SELECT name, type, last_error, checked_at, outages FROM channels WHERE `+due+` ORDER BY name`, cutoff)
	if err != nil {
		return nil, fmt.Errorf("find channel alerts: %w", err)
	}
	var candidates []ChannelAlert
	for rows.Next() {
		var a ChannelAlert
		var checked sql.NullTime
		if err := rows.Scan(&a.Name, &a.Type, &a.LastError, &checked, &a.Outage); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find channel alerts: %w", err)
		}
		if checked.Valid {
			a.Since = checked.Time.UTC()
		}
		candidates = append(candidates, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(candidates) == 0 {
		return nil, err
	}
	var claimed []ChannelAlert
	err = db.UpdateQuietly(ctx, func(tx *Tx) error {
		claimed = claimed[:0]
		for _, a := range candidates {
			res, err := tx.Exec(ctx, `UPDATE channels SET alert_claimed_at = ? WHERE name = ? AND outages = ? AND `+due, tx.Now(), a.Name, a.Outage, cutoff)
			if err != nil {
				return fmt.Errorf("claim alert for channel %s: %w", a.Name, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				claimed = append(claimed, a)
			}
		}
		return nil
	})
	return claimed, err
}

// MarkChannelAlerted records that the administrators were told about a
// channel's outage (or that there was nobody to tell).
func (db *DB) MarkChannelAlerted(ctx context.Context, name string, outage int) error {
	return db.UpdateQuietly(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE channels SET alerted_outage = ?, alert_claimed_at = NULL WHERE name = ? AND alerted_outage < ?`, outage, name, outage)
		if err != nil {
			return fmt.Errorf("mark channel %s alerted: %w", name, err)
		}
		return nil
	})
}

// RotateChannelCredentials re-seals every channel's credentials with
// reseal (secret.Keyring.Rotate, bound to the channel's name) in one
// transaction, and reports how many changed.
func (db *DB) RotateChannelCredentials(ctx context.Context, reseal func(name, sealed string) (string, error)) (int, error) {
	changed := 0
	err := db.Update(ctx, func(tx *Tx) error {
		changed = 0
		rows, err := tx.Query(ctx, `SELECT name, credentials FROM channels WHERE credentials <> ''`)
		if err != nil {
			return fmt.Errorf("rotate credentials: %w", err)
		}
		type pair struct{ name, sealed string }
		var all []pair
		for rows.Next() {
			var p pair
			if err := rows.Scan(&p.name, &p.sealed); err != nil {
				rows.Close()
				return err
			}
			all = append(all, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, p := range all {
			fresh, err := reseal(p.name, p.sealed)
			if err != nil {
				return fmt.Errorf("channel %s: %w", p.name, err)
			}
			if fresh == p.sealed {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE channels SET credentials = ?, updated_at = ? WHERE name = ?`, fresh, tx.Now(), p.name); err != nil {
				return fmt.Errorf("rotate credentials of %s: %w", p.name, err)
			}
			changed++
		}
		return nil
	})
	return changed, err
}

// Delivery is the last revision of a notice delivered to a channel.
type Delivery struct {
	NoticeID    int64
	Channel     string
	Revision    int
	Action      string // publish, update or delete
	Receipt     json.RawMessage
	DeliveredAt time.Time
}

// Delivery returns the last delivery of a notice to a channel; ok is false
// when there has been none.
func (db *DB) Delivery(ctx context.Context, noticeID int64, channelName string) (d Delivery, ok bool, err error) {
	var receipt string
	err = db.queryRow(ctx, `SELECT notice_id, channel, revision, action, receipt, delivered_at FROM deliveries WHERE notice_id = ? AND channel = ?`,
		noticeID, channelName).Scan(&d.NoticeID, &d.Channel, &d.Revision, &d.Action, &receipt, &d.DeliveredAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, false, nil
	}
	if err != nil {
		return Delivery{}, false, fmt.Errorf("read delivery of notice %d to %s: %w", noticeID, channelName, err)
	}
	d.Receipt, d.DeliveredAt = json.RawMessage(receipt), d.DeliveredAt.UTC()
	return d, true, nil
}

// RecordDelivery stores a delivery unless a later revision is already
// recorded, so a late retry of an old revision cannot hide a newer one,
// and appends it to the delivery log either way.
func (db *DB) RecordDelivery(ctx context.Context, d Delivery) error {
	if len(d.Receipt) == 0 {
		d.Receipt = json.RawMessage(`{}`)
	}
	return db.Update(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO deliveries (notice_id, channel, revision, action, receipt, delivered_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (notice_id, channel) DO UPDATE SET revision = excluded.revision, action = excluded.action,
				receipt = excluded.receipt, delivered_at = excluded.delivered_at
			WHERE deliveries.revision <= excluded.revision`,
			d.NoticeID, d.Channel, d.Revision, d.Action, string(d.Receipt), tx.Now())
		if err != nil {
			return fmt.Errorf("record delivery of notice %d to %s: %w", d.NoticeID, d.Channel, err)
		}
		// The archive's record of where each revision went.
		return tx.LogDelivery(ctx, DeliveryAttempt{NoticeID: d.NoticeID, Revision: d.Revision, Channel: d.Channel,
			Action: d.Action, Outcome: DeliveryDelivered, Detail: string(d.Receipt)})
	})
}
