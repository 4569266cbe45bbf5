package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
)

// Subscriber is one resident's address with what it asked for. Only the
// address, the topics and the consent timestamps are kept.
type Subscriber struct {
	ID    int64
	Email string
	// Request numbers the address's latest subscribe request; its
	// confirmation link names it.
	Request     int
	RequestedAt time.Time
	ConfirmedAt *time.Time // first confirmation; nil until then
	Topics      []SubscriptionTopic
}

// SubscriptionTopic is one thing a subscriber asked to hear about.
type SubscriptionTopic struct {
	Topic       string // "ward:NDW01", "school:142316", "round:ND-R001", "category:schools"
	Request     int
	RequestedAt time.Time
	ConfirmedAt *time.Time // nil while unconfirmed: nothing is sent for it
}

// Confirmed lists the confirmed topics.
func (s Subscriber) Confirmed() []string {
	var out []string
	for _, t := range s.Topics {
		if t.ConfirmedAt != nil {
			out = append(out, t.Topic)
		}
	}
	return out
}

// RequestSubscription records an unconfirmed request for topics by an
// address (lower-cased by the caller) and returns the subscriber with the
// request's number. Topics already confirmed stay confirmed; the rest
// wait for the link of this request. It bumps no change version: the
// residents' pages do not show subscriptions.
func (db *DB) RequestSubscription(ctx context.Context, email string, topics []string) (Subscriber, error) {
	if email == "" || len(topics) == 0 {
		return Subscriber{}, signpost.Errorf(signpost.EINVALID, "a subscription needs an address and at least one topic")
	}
	var sub Subscriber
	err := db.transact(ctx, false, func(tx *Tx) error {
		now := tx.Now()
		var id int64
		var request int
		err := tx.QueryRow(ctx, `INSERT INTO subscribers (email, request, requested_at) VALUES (?, 1, ?)
			ON CONFLICT (email) DO UPDATE SET request = subscribers.request + 1, requested_at = excluded.requested_at
			RETURNING id, request`, email, now).Scan(&id, &request)
		if err != nil {
			return fmt.Errorf("record subscription request: %w", err)
		}
		for _, t := range topics {
			_, err := tx.Exec(ctx, `INSERT INTO subscription_topics (subscriber_id, topic, request, requested_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (subscriber_id, topic) DO UPDATE SET request = excluded.request, requested_at = excluded.requested_at
				WHERE subscription_topics.confirmed_at IS NULL`, id, t, request, now)
			if err != nil {
				return fmt.Errorf("record subscription topic: %w", err)
			}
		}
		sub, err = tx.subscriber(ctx, id)
		return err
	})
	return sub, err
}

// ConfirmSubscription confirms the topics of one request. Confirming
// again changes nothing; a request that expired is ENOTFOUND.
func (db *DB) ConfirmSubscription(ctx context.Context, id int64, request int) (Subscriber, error) {
	var sub Subscriber
	err := db.transact(ctx, false, func(tx *Tx) error {
		now := tx.Now()
		cur, err := tx.subscriber(ctx, id)
		if err != nil {
			return err
		}
		pending, confirmed := false, false
		for _, t := range cur.Topics {
			if t.Request == request {
				pending = pending || t.ConfirmedAt == nil
				confirmed = confirmed || t.ConfirmedAt != nil
			}
		}
		if !pending && !confirmed {
			return signpost.Errorf(signpost.ENOTFOUND, "this subscription request has expired or was replaced; subscribe again")
		}
		if _, err := tx.Exec(ctx, `UPDATE subscription_topics SET confirmed_at = ? WHERE subscriber_id = ? AND request = ? AND confirmed_at IS NULL`, now, id, request); err != nil {
			return fmt.Errorf("confirm subscription: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE subscribers SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL`, now, id); err != nil {
			return fmt.Errorf("confirm subscription: %w", err)
		}
		sub, err = tx.subscriber(ctx, id)
		return err
	})
	return sub, err
}

// Subscriber reads one subscriber and its topics.
func (db *DB) Subscriber(ctx context.Context, id int64) (Subscriber, error) {
	var sub Subscriber
	err := db.transact(ctx, false, func(tx *Tx) error {
		var err error
		sub, err = tx.subscriber(ctx, id)
		return err
	})
	return sub, err
}

func (tx *Tx) subscriber(ctx context.Context, id int64) (Subscriber, error) {
	s := Subscriber{ID: id}
	var confirmed sql.NullTime
	err := tx.QueryRow(ctx, `SELECT email, request, requested_at, confirmed_at FROM subscribers WHERE id = ?`, id).
		Scan(&s.Email, &s.Request, &s.RequestedAt, &confirmed)
	if errors.Is(err, sql.ErrNoRows) {
		return s, signpost.Errorf(signpost.ENOTFOUND, "this subscription no longer exists")
	}
	if err != nil {
		return s, fmt.Errorf("read subscriber: %w", err)
	}
	s.RequestedAt, s.ConfirmedAt = s.RequestedAt.UTC(), timePtr(confirmed)
	rows, err := tx.Query(ctx, `SELECT topic, request, requested_at, confirmed_at FROM subscription_topics WHERE subscriber_id = ? ORDER BY topic`, id)
	if err != nil {
		return s, fmt.Errorf("read subscription topics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t SubscriptionTopic
		var c sql.NullTime
		if err := rows.Scan(&t.Topic, &t.Request, &t.RequestedAt, &c); err != nil {
			return s, fmt.Errorf("read subscription topics: %w", err)
		}
		t.RequestedAt, t.ConfirmedAt = t.RequestedAt.UTC(), timePtr(c)
		s.Topics = append(s.Topics, t)
	}
	return s, rows.Err()
}

// Unsubscribe deletes a subscriber, its topics and its send records.
// Unsubscribing twice is not an error: the second finds nothing to do.
func (db *DB) Unsubscribe(ctx context.Context, id int64) error {
	return db.transact(ctx, false, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM subscribers WHERE id = ?`, id); err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
		return nil
	})
}

// RemoveSubscriptionTopic drops one topic; a subscriber left with none
// is deleted, as if it had unsubscribed.
func (db *DB) RemoveSubscriptionTopic(ctx context.Context, id int64, topic string) error {
	return db.transact(ctx, false, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM subscription_topics WHERE subscriber_id = ? AND topic = ?`, id, topic); err != nil {
			return fmt.Errorf("remove subscription topic: %w", err)
		}
		return tx.dropEmptySubscribers(ctx)
	})
}

// ExpireSubscriptionRequests deletes topics requested before cutoff and
// never confirmed, and addresses left with nothing. It returns how many
// topics it deleted.
func (db *DB) ExpireSubscriptionRequests(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := db.transact(ctx, false, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM subscription_topics WHERE confirmed_at IS NULL AND requested_at < ?`, cutoff.UTC())
		if err != nil {
			return fmt.Errorf("expire subscription requests: %w", err)
		}
		n, _ = res.RowsAffected()
		return tx.dropEmptySubscribers(ctx)
	})
	return int(n), err
}

func (tx *Tx) dropEmptySubscribers(ctx context.Context) error {
	_, err := tx.Exec(ctx, `DELETE FROM subscribers WHERE NOT EXISTS (SELECT 1 FROM subscription_topics t WHERE t.subscriber_id = subscribers.id)`)
	if err != nil {
		return fmt.Errorf("delete empty subscriptions: %w", err)
	}
	return nil
}

// RevisionRef names one published revision of a notice.
type RevisionRef struct {
	NoticeID int64
	Revision int
}

// UnfannedRevisions lists published revisions not yet fanned out to
// subscribers, oldest first.
func (db *DB) UnfannedRevisions(ctx context.Context, limit int) ([]RevisionRef, error) {
	rows, err := db.query(ctx, `SELECT r.notice_id, r.revision FROM notice_revisions r
		WHERE NOT EXISTS (SELECT 1 FROM subscription_fanouts f WHERE f.notice_id = r.notice_id AND f.revision = r.revision)
		ORDER BY r.updated_at, r.notice_id, r.revision LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list revisions to send: %w", err)
	}
	defer rows.Close()
	var out []RevisionRef
	for rows.Next() {
		var r RevisionRef
		if err := rows.Scan(&r.NoticeID, &r.Revision); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Fanout says who a revision goes to.
type Fanout struct {
	Ref RevisionRef
	// Topics are the subscription topics the revision matches.
	Topics []string
	// AnyPlace matches every place topic (ward, school, round): the
	// notice is about the whole council area.
	AnyPlace bool
	// OnlyEarlierRecipients sends only to those sent an earlier revision
	// (a retraction); otherwise they are added to the topics' subscribers,
	// so an update or closure reaches everyone who had the notice.
	OnlyEarlierRecipients bool
}

// FanOut records one send per subscriber of a revision and, in the same
// transaction, calls enqueue with the subscriber ids in ascending order
// so the caller can queue the jobs that send them: either all of it
// happens or none. A revision already fanned out (by this process or
// another) is skipped, returning done=false.
func (db *DB) FanOut(ctx context.Context, f Fanout, enqueue func(tx *Tx, subscribers []int64) error) (recipients int, done bool, err error) {
	err = db.transact(ctx, false, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO subscription_fanouts (notice_id, revision, recipients, fanned_at) VALUES (?, ?, 0, ?)
			ON CONFLICT (notice_id, revision) DO NOTHING`, f.Ref.NoticeID, f.Ref.Revision, tx.Now())
		if err != nil {
			return fmt.Errorf("claim revision: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		earlier := `SELECT DISTINCT subscriber_id FROM subscription_sends WHERE notice_id = ? AND revision < ? AND sent_at IS NOT NULL`
		args := []any{f.Ref.NoticeID, f.Ref.Revision}
		sel := earlier
		if !f.OnlyEarlierRecipients {
			var match []string
			if f.AnyPlace {
				match = append(match, `topic NOT LIKE 'category:%'`)
			}
			if len(f.Topics) > 0 {
				match = append(match, `topic IN (?`+strings.Repeat(`, ?`, len(f.Topics)-1)+`)`)
			}
			if len(match) > 0 {
				// Only topics confirmed by the time the revision was
				// published: a new subscriber does not get old news.
				sel = `SELECT subscriber_id FROM subscription_topics WHERE confirmed_at <= (SELECT updated_at FROM notice_revisions WHERE notice_id = ? AND revision = ?)
					AND (` + strings.Join(match, ` OR `) + `) UNION ` + earlier
				topicArgs := []any{f.Ref.NoticeID, f.Ref.Revision}
				for _, t := range f.Topics {
					topicArgs = append(topicArgs, t)
				}
				args = append(topicArgs, args...)
			}
		}
		q := `INSERT INTO subscription_sends (notice_id, revision, subscriber_id) SELECT CAST(? AS BIGINT), CAST(? AS INTEGER), subscriber_id FROM (` + sel + `) s`
		res, err = tx.Exec(ctx, q, append([]any{f.Ref.NoticeID, f.Ref.Revision}, args...)...)
		if err != nil {
			return fmt.Errorf("record sends of notice %d revision %d: %w", f.Ref.NoticeID, f.Ref.Revision, err)
		}
		n, _ := res.RowsAffected()
		recipients = int(n)
		if _, err := tx.Exec(ctx, `UPDATE subscription_fanouts SET recipients = ? WHERE notice_id = ? AND revision = ?`, recipients, f.Ref.NoticeID, f.Ref.Revision); err != nil {
			return err
		}
		if recipients == 0 {
			return nil
		}
		ids := make([]int64, 0, recipients)
		rows, err := tx.Query(ctx, `SELECT subscriber_id FROM subscription_sends WHERE notice_id = ? AND revision = ? ORDER BY subscriber_id`, f.Ref.NoticeID, f.Ref.Revision)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return enqueue(tx, ids)
	})
	return recipients, done, err
}

// Recipient is one address a send goes to.
type Recipient struct {
	SubscriberID int64
	Email        string
}

// PendingSends lists the unsent sends of a revision to subscribers with
// ids in [from, to], in id order. Unsubscribed addresses are gone.
func (db *DB) PendingSends(ctx context.Context, ref RevisionRef, from, to int64) ([]Recipient, error) {
	rows, err := db.query(ctx, `SELECT s.subscriber_id, b.email FROM subscription_sends s JOIN subscribers b ON b.id = s.subscriber_id
		WHERE s.notice_id = ? AND s.revision = ? AND s.subscriber_id BETWEEN ? AND ? AND s.sent_at IS NULL
		ORDER BY s.subscriber_id`, ref.NoticeID, ref.Revision, from, to)
	if err != nil {
		return nil, fmt.Errorf("read sends: %w", err)
	}
	defer rows.Close()
	var out []Recipient
	for rows.Next() {
		var r Recipient
		if err := rows.Scan(&r.SubscriberID, &r.Email); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReceivedEarlier reports which of the subscribers were sent an earlier
// revision of the notice.
func (db *DB) ReceivedEarlier(ctx context.Context, ref RevisionRef, subscribers []int64) (map[int64]bool, error) {
	got := map[int64]bool{}
	for chunk := range chunks(subscribers, 500) {
		rows, err := db.query(ctx, `SELECT DISTINCT subscriber_id FROM subscription_sends WHERE notice_id = ? AND revision < ? AND sent_at IS NOT NULL
			AND subscriber_id IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)`, append([]any{ref.NoticeID, ref.Revision}, int64Args(chunk)...)...)
		if err != nil {
			return nil, fmt.Errorf("read earlier sends: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			got[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return got, nil
}

// MarkSent records that the SMTP server accepted these sends.
func (db *DB) MarkSent(ctx context.Context, ref RevisionRef, subscribers []int64) error {
	return db.sendsWhere(ctx, `UPDATE subscription_sends SET sent_at = ?`, true, ref, subscribers)
}

// DropSends deletes sends that will not be made: refused addresses, or
// a notice retracted before they went.
func (db *DB) DropSends(ctx context.Context, ref RevisionRef, subscribers []int64) error {
	return db.sendsWhere(ctx, `DELETE FROM subscription_sends`, false, ref, subscribers)
}

func (db *DB) sendsWhere(ctx context.Context, stmt string, stamp bool, ref RevisionRef, subscribers []int64) error {
	if len(subscribers) == 0 {
		return nil
	}
	return db.transact(ctx, false, func(tx *Tx) error {
		for chunk := range chunks(subscribers, 500) {
			var args []any
			if stamp {
				args = append(args, tx.Now())
			}
			args = append(args, ref.NoticeID, ref.Revision)
			args = append(args, int64Args(chunk)...)
			q := stmt + ` WHERE notice_id = ? AND revision = ? AND subscriber_id IN (?` + strings.Repeat(`, ?`, len(chunk)-1) + `)`
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return fmt.Errorf("record sends: %w", err)
			}
		}
		return nil
	})
}

// SendCounts reports a revision's sends: how many were made and how many
// wait.
func (db *DB) SendCounts(ctx context.Context, ref RevisionRef) (sent, pending int, err error) {
	err = db.queryRow(ctx, `SELECT COUNT(sent_at), COUNT(*) - COUNT(sent_at) FROM subscription_sends WHERE notice_id = ? AND revision = ?`,
		ref.NoticeID, ref.Revision).Scan(&sent, &pending)
	return sent, pending, err
}

// chunks yields s in pieces of at most n, keeping statements under the
// engines' parameter limits.
func chunks[T any](s []T, n int) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
