// Package desk is where the council works its inbox: what staff do to
// conversations (answer, approve, assign, change status, note, redact,
// export), each change written to the audit log in the same transaction;
// the triage of new messages and the escalation of safeguarding concerns
// to the duty officer; the River worker that sends replies exactly once;
// and the retention rule for residents' personal data.
//
// Nothing here logs message text: logs and audit entries carry ids,
// channels, categories and counts.
package desk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/risk"
	"github.com/signpost-uk/signpost/store"
)

// Audit actions of the inbox.
const (
	ActionReply       audit.Action = "inbox-reply"
	ActionApprove     audit.Action = "inbox-reply-approve"
	ActionReject      audit.Action = "inbox-reply-reject"
	ActionAssign      audit.Action = "inbox-assign"
	ActionStatus      audit.Action = "inbox-status"
	ActionCategory    audit.Action = "inbox-category"
	ActionNote        audit.Action = "inbox-note"
	ActionSavedReply  audit.Action = "inbox-saved-reply"
	ActionRedact      audit.Action = "inbox-redact"
	ActionExport      audit.Action = audit.Export
	ActionPurge       audit.Action = audit.Purge
	maxReplyBytes                  = 5000
	triageBatch                    = 50
	triageClaimExpiry              = time.Minute
)

// Config wires a Desk.
type Config struct {
	DB       *store.DB
	Places   signpost.PlaceStore
	Notices  signpost.NoticeStore
	Screener *risk.Screener
	// Enqueue queues the reply worker's job inside the transaction that
	// stores (or approves) the reply, so the job exists exactly when the
	// reply does; EnqueueWith makes one from the serve command's queue.
	// Nil leaves replies queued and unsent.
	Enqueue func(ctx context.Context, tx *store.Tx, replyID int64) error
	// Mailer sends the duty officer's alerts; nil means no alerts are
	// sent (and the serve command refuses a duty officer without it).
	Mailer Mailer
	// DutyOfficer is the address told at once about safeguarding concerns.
	DutyOfficer string
	// BaseURL is the public address, for links to notices and the console.
	BaseURL  string
	Location *time.Location
	Logger   *slog.Logger
}

// Desk is the inbox's service layer.
type Desk struct {
	cfg Config
	log *slog.Logger
}

// New returns a Desk.
func New(cfg Config) (*Desk, error) {
	if cfg.DB == nil || cfg.Places == nil || cfg.Notices == nil || cfg.Screener == nil {
		return nil, fmt.Errorf("desk: DB, Places, Notices and Screener are required")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Desk{cfg: cfg, log: cfg.Logger}, nil
}

// DB is the store the desk works on, for the console's reads.
func (d *Desk) DB() *store.DB { return d.cfg.DB }

// NoticeURL is the residents' page of a notice.
func (d *Desk) NoticeURL(id int64) string { return fmt.Sprintf("%s/notices/%d", d.cfg.BaseURL, id) }

func conversationTarget(id int64) string { return fmt.Sprintf("inbox-conversation:%d", id) }

// ReplyRule is the rule replies follow, as the console states it.
const ReplyRule = "Every reply is screened like any outgoing post. A reply with a high-risk finding cannot be sent. " +
	"A reply with a medium-risk finding waits until a different person with the approver role approves it. " +
	"A reply may never repeat words flagged as abuse or a threat in the resident's message."

// Reply screens text and stores it as an answer to the conversation's
// latest message: blocked if the screener finds anything high-risk or it
// repeats flagged words; held for another person's approval if risky;
// otherwise queued for sending at once. noticeID names the notice a
// one-click reply quotes.
func (d *Desk) Reply(ctx context.Context, actor string, conversationID int64, text string, noticeID *int64) (inbox.Reply, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	switch {
	case text == "":
		return inbox.Reply{}, signpost.Errorf(signpost.EINVALID, "Write a reply before sending it")
	case len(text) > maxReplyBytes:
		return inbox.Reply{}, signpost.Errorf(signpost.ETOOLARGE, "The reply is %d characters; keep it under %d", len(text), maxReplyBytes)
	}
	msgs, err := d.cfg.DB.Messages(ctx, conversationID)
	if err != nil {
		return inbox.Reply{}, err
	}
	if len(msgs) == 0 {
		return inbox.Reply{}, signpost.Errorf(signpost.ENOTFOUND, "no conversation %d", conversationID)
	}
	last := msgs[len(msgs)-1]
	for _, m := range msgs {
		if m.Flagged() && m.Text != "" && inbox.RepeatsFlagged(text, d.cfg.Screener.Screen(ctx, m.Text, risk.Options{Context: risk.Incoming})) {
			return inbox.Reply{}, signpost.Errorf(signpost.EINVALID, "The reply repeats words flagged as abuse or a threat in the resident's message. Remove them before sending.")
		}
	}
	rep := d.cfg.Screener.Screen(ctx, text, risk.Options{Context: risk.Outgoing})
	if rep.Level >= risk.High {
		return inbox.Reply{}, signpost.Errorf(signpost.EINVALID, "This reply cannot be sent: the screener found a high risk (%s). Rewrite it.", joinCategories(rep.Categories))
	}
	r := inbox.Reply{ConversationID: conversationID, MessageID: last.ID, Text: text, Author: actor, State: inbox.ReplyQueued, NoticeID: noticeID}
	if rep.Risky {
		r.State = inbox.ReplyApproval
		for _, c := range rep.Categories {
			r.Flags = append(r.Flags, string(c))
		}
	}
	err = d.cfg.DB.UpdateInbox(ctx, func(tx *store.Tx) error {
		if _, err := tx.Conversation(ctx, conversationID); err != nil {
			return err
		}
		if err := tx.AddReply(ctx, &r); err != nil {
			return err
		}
		if r.State == inbox.ReplyQueued {
			if err := d.enqueue(ctx, tx, r.ID); err != nil {
				return err
			}
		}
		_, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: ActionReply, Target: conversationTarget(conversationID),
			After: map[string]any{"reply": r.ID, "state": r.State, "flags": r.Flags, "notice": noticeID, "length": len(text)}})
		return err
	})
	if err != nil {
		return inbox.Reply{}, err
	}
	return r, nil
}

func joinCategories(cs []risk.Category) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return strings.Join(out, ", ")
}

func (d *Desk) enqueue(ctx context.Context, tx *store.Tx, id int64) error {
	if d.cfg.Enqueue == nil {
		return nil
	}
	if err := d.cfg.Enqueue(ctx, tx, id); err != nil {
		return fmt.Errorf("queue reply %d: %w", id, err)
	}
	return nil
}

// Decide approves or rejects a reply held for approval. The person who
// wrote it cannot decide on it.
func (d *Desk) Decide(ctx context.Context, actor string, replyID int64, approve bool) (inbox.Reply, error) {
	var r inbox.Reply
	err := d.cfg.DB.UpdateInbox(ctx, func(tx *store.Tx) error {
		var err error
		if r, err = tx.Reply(ctx, replyID); err != nil {
			return err
		}
		if r.Author == actor {
			return signpost.Errorf(signpost.EFORBIDDEN, "Another person must approve or reject a reply you wrote")
		}
		if err := tx.DecideReply(ctx, replyID, approve, actor); err != nil {
			return err
		}
		if approve {
			if err := d.enqueue(ctx, tx, replyID); err != nil {
				return err
			}
		}
		action := ActionReject
		if approve {
			action = ActionApprove
		}
		before := r.State
		if r, err = tx.Reply(ctx, replyID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: action, Target: conversationTarget(r.ConversationID),
			Before: map[string]any{"reply": replyID, "state": before}, After: map[string]any{"reply": replyID, "state": r.State}})
		return err
	})
	if err != nil {
		return inbox.Reply{}, err
	}
	return r, nil
}

// change runs one audited change to a conversation: apply does it inside
// the transaction and returns what to record before and after.
func (d *Desk) change(ctx context.Context, actor string, id int64, action audit.Action, apply func(tx *store.Tx, c inbox.Conversation) (before, after any, err error)) error {
	return d.cfg.DB.UpdateInbox(ctx, func(tx *store.Tx) error {
		c, err := tx.Conversation(ctx, id)
		if err != nil {
			return err
		}
		before, after, err := apply(tx, c)
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: action, Target: conversationTarget(id), Before: before, After: after})
		return err
	})
}

// Assign gives a conversation to a person ("user:<e-mail>"), a team
// ("team:<name>") or nobody ("").
func (d *Desk) Assign(ctx context.Context, actor string, id int64, assignee string) error {
	return d.change(ctx, actor, id, ActionAssign, func(tx *store.Tx, c inbox.Conversation) (any, any, error) {
		assignee = strings.TrimSpace(assignee)
		return map[string]string{"assignee": c.Assignee}, map[string]string{"assignee": assignee}, tx.AssignConversation(ctx, id, assignee)
	})
}

// SetStatus moves a conversation to open, waiting or closed.
func (d *Desk) SetStatus(ctx context.Context, actor string, id int64, status inbox.Status) error {
	return d.change(ctx, actor, id, ActionStatus, func(tx *store.Tx, c inbox.Conversation) (any, any, error) {
		return map[string]string{"status": string(c.Status)}, map[string]string{"status": string(status)}, tx.SetConversationStatus(ctx, id, status)
	})
}

// SetCategory records the category staff settled on.
func (d *Desk) SetCategory(ctx context.Context, actor string, id int64, category signpost.Category) error {
	return d.change(ctx, actor, id, ActionCategory, func(tx *store.Tx, c inbox.Conversation) (any, any, error) {
		return map[string]string{"category": c.Category}, map[string]string{"category": string(category)}, tx.SetConversationCategory(ctx, id, category)
	})
}

// AddNote adds an internal note, which is never sent.
func (d *Desk) AddNote(ctx context.Context, actor string, id int64, text string) error {
	return d.change(ctx, actor, id, ActionNote, func(tx *store.Tx, c inbox.Conversation) (any, any, error) {
		n := inbox.Note{ConversationID: id, Author: actor, Text: text}
		err := tx.AddNote(ctx, &n)
		return nil, map[string]any{"note": n.ID, "length": len(n.Text)}, err
	})
}

// PutSavedReply adds (ID 0) or changes a saved reply.
func (d *Desk) PutSavedReply(ctx context.Context, actor string, s inbox.SavedReply) (inbox.SavedReply, error) {
	err := d.cfg.DB.UpdateInbox(ctx, func(tx *store.Tx) error {
		if err := tx.PutSavedReply(ctx, &s); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: ActionSavedReply, Target: fmt.Sprintf("inbox-saved-reply:%d", s.ID),
			After: map[string]string{"title": s.Title, "body": s.Body}})
		return err
	})
	return s, err
}

// DeleteSavedReply removes a saved reply.
func (d *Desk) DeleteSavedReply(ctx context.Context, actor string, id int64) error {
	return d.cfg.DB.UpdateInbox(ctx, func(tx *store.Tx) error {
		s, err := tx.DeleteSavedReply(ctx, id)
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: ActionSavedReply, Target: fmt.Sprintf("inbox-saved-reply:%d", id),
			Before: map[string]string{"title": s.Title, "body": s.Body}})
		return err
	})
}

// Redact blanks a message's text for good. The audit entry records that
// it was done and how long the text was, never the text.
func (d *Desk) Redact(ctx context.Context, actor string, messageID int64) error {
	return d.cfg.DB.UpdateInbox(ctx, func(tx *store.Tx) error {
		m, err := tx.RedactMessage(ctx, messageID)
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: ActionRedact, Target: fmt.Sprintf("inbox-message:%d", messageID),
			Before: map[string]any{"conversation": m.ConversationID, "length": len(m.Text)}, After: map[string]any{"redacted": true}})
		return err
	})
}

// SubjectKey identifies a data subject in the audit log without writing
// their handle or address there: the first 16 hex digits of the SHA-256
// of the lower-cased identifier. Anyone holding the identifier can check
// the entry; the log alone does not reveal it.
func SubjectKey(who string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(who))))
	return hex.EncodeToString(sum[:8])
}

// Export gathers everything held about a handle or e-mail address for a
// subject-access request, and audits that it was done.
func (d *Desk) Export(ctx context.Context, actor, who string) (store.SubjectData, error) {
	data, err := d.cfg.DB.SubjectData(ctx, who)
	if err != nil {
		return data, err
	}
	err = d.cfg.DB.UpdateInbox(ctx, func(tx *store.Tx) error {
		_, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: ActionExport, Target: "inbox-subject:" + SubjectKey(who),
			After: map[string]int{"conversations": len(data.Conversations), "messages": len(data.Messages), "replies": len(data.Replies), "notes": len(data.Notes)}})
		return err
	})
	return data, err
}

// Purge applies the retention period: conversations (not open) whose
// last message is older than keep are deleted, or anonymised if
// anonymise is set. It audits and logs the counts only.
func (d *Desk) Purge(ctx context.Context, actor string, keep time.Duration, anonymise bool, now time.Time) (store.PurgeCounts, error) {
	if keep <= 0 {
		return store.PurgeCounts{}, signpost.Errorf(signpost.EINVALID, "the retention period must be positive")
	}
	cutoff := now.Add(-keep)
	var pc store.PurgeCounts
	err := d.cfg.DB.UpdateInbox(ctx, func(tx *store.Tx) error {
		var err error
		if pc, err = tx.PurgeConversations(ctx, cutoff, anonymise); err != nil {
			return err
		}
		if pc == (store.PurgeCounts{}) {
			return nil
		}
		mode := "delete"
		if anonymise {
			mode = "anonymise"
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: ActionPurge, Target: "inbox",
			After: map[string]any{"mode": mode, "before": cutoff.UTC().Format(time.RFC3339), "counts": pc}})
		return err
	})
	if err != nil {
		return pc, err
	}
	d.log.Info("inbox retention applied", "anonymise", anonymise, "cutoff", cutoff.UTC().Format(time.RFC3339),
		"conversations", pc.Conversations, "messages", pc.Messages, "replies", pc.Replies, "notes", pc.Notes)
	return pc, nil
}

// Gazetteer builds the place index triage uses from the current places.
func (d *Desk) Gazetteer(ctx context.Context) (*inbox.Gazetteer, error) {
	var p inbox.Places
	var err error
	if p.Schools, err = d.cfg.Places.Schools(ctx); err != nil {
		return nil, err
	}
	if p.Wards, err = d.cfg.Places.Wards(ctx); err != nil {
		return nil, err
	}
	if p.Routes, err = d.cfg.Places.Routes(ctx); err != nil {
		return nil, err
	}
	if p.Rounds, err = d.cfg.Places.Rounds(ctx); err != nil {
		return nil, err
	}
	p.Postcode = func(pc string) (signpost.Postcode, bool) {
		got, err := d.cfg.Places.LookupPostcode(ctx, pc)
		return got, err == nil
	}
	return inbox.NewGazetteer(p), nil
}

// TriageOnce triages the messages waiting for it and retries any
// safeguarding alert that could not be sent, reporting how many messages
// it triaged. Each message is claimed first, so two servers never triage
// or alert about one message twice.
func (d *Desk) TriageOnce(ctx context.Context) (int, error) {
	msgs, err := d.cfg.DB.ClaimUntriaged(ctx, triageBatch, triageClaimExpiry)
	if err != nil {
		return 0, err
	}
	if len(msgs) > 0 {
		g, err := d.Gazetteer(ctx)
		if err != nil {
			return 0, err
		}
		current, err := d.cfg.Notices.Notices(ctx, signpost.NoticeFilter{})
		if err != nil {
			return 0, err
		}
		for _, m := range msgs {
			t := inbox.TriageMessage(ctx, m.Text, g, current, d.cfg.Screener)
			if err := d.cfg.DB.SaveTriage(ctx, m.ID, t); err != nil {
				return 0, err
			}
			if t.Urgent {
				d.escalate(ctx, m)
			}
		}
	}
	pending, err := d.cfg.DB.ClaimEscalations(ctx, triageClaimExpiry)
	if err != nil {
		return len(msgs), err
	}
	for _, m := range pending {
		d.escalate(ctx, m)
	}
	return len(msgs), nil
}

// escalate tells the duty officer, by e-mail, that a message suggests
// someone is at risk. The e-mail links to the conversation and does not
// carry the message, which stays out of mailboxes. A failure is logged
// and retried by a later TriageOnce once the claim expires.
func (d *Desk) escalate(ctx context.Context, m inbox.Message) {
	if d.cfg.Mailer == nil || d.cfg.DutyOfficer == "" {
		d.log.Warn("inbox: safeguarding concern not e-mailed: no duty officer set", "message", m.ID, "channel", m.Channel)
		return
	}
	link := fmt.Sprintf("%s/staff/inbox/%d", d.cfg.BaseURL, m.ConversationID)
	err := d.cfg.Mailer.Send(ctx, Mail{
		To:        d.cfg.DutyOfficer,
		Subject:   fmt.Sprintf("Urgent: a resident may be at risk (inbox conversation %d)", m.ConversationID),
		MessageID: fmt.Sprintf("signpost-escalation-%d@signpost.invalid", m.ID),
		Body: fmt.Sprintf("A message that arrived on %s at %s suggests someone may be at risk.\n\n"+
			"It is at the top of the inbox. Open it here:\n%s\n\n"+
			"The message itself is not in this e-mail, to keep it out of mailboxes.\n",
			m.Channel, m.ReceivedAt.In(d.cfg.Location).Format("15:04 on 2 January 2006"), link),
	})
	if err != nil {
		d.log.Error("inbox: safeguarding alert not sent; will retry", "message", m.ID, "err", err)
		return
	}
	if err := d.cfg.DB.MarkEscalated(ctx, m.ID); err != nil {
		d.log.Error("inbox: safeguarding alert sent but not recorded", "message", m.ID, "err", err)
		return
	}
	d.log.Info("inbox: safeguarding concern sent to the duty officer", "message", m.ID, "conversation", m.ConversationID)
}

// Run triages new messages every interval and applies the retention
// period once an hour (when keep > 0), until ctx ends.
func (d *Desk) Run(ctx context.Context, interval, keep time.Duration, anonymise bool) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	housekeeping := func() {
		if keep <= 0 {
			return
		}
		if _, err := d.Purge(ctx, "system:inbox-retention", keep, anonymise, time.Now()); err != nil && ctx.Err() == nil {
			d.log.Error("inbox: retention failed", "err", err)
		}
	}
	housekeeping()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if _, err := d.TriageOnce(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn("inbox: triage failed", "err", err)
			}
		case <-hourly.C:
			housekeeping()
		}
	}
}

// contactCategory maps a conversation's category onto the contact
// centre's categories used by the channel-shift report.
func contactCategory(c string) string {
	return signpost.Category(c).ContactCategory()
}
