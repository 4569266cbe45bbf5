package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/risk"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/workflow"
)

// Audit actions the workflow adds to package audit's list.
const (
	AuditSchedule   audit.Action = "schedule"
	AuditUnschedule audit.Action = "unschedule"
	AuditUrgent     audit.Action = "publish-urgent" // published before approval; review follows
	AuditReview     audit.Action = "review"
	AuditWithdraw   audit.Action = "withdraw"
	AuditSettings   audit.Action = audit.PolicyChange
)

// Scheduler is how the audit log names the scheduled-publishing loop.
const Scheduler = "system:scheduler"

// Desk carries out the workflow: every method reads the item, applies the
// rules, writes the item (and, when it publishes, the notice revision) and
// appends the audit entries in one transaction.
type Desk struct {
	db       *store.DB
	screener *risk.Screener
	loc      *time.Location
	log      *slog.Logger
}

// NewDesk returns a Desk over db. loc is the council's time zone, which
// decides the days of the pre-election period.
func NewDesk(db *store.DB, screener *risk.Screener, loc *time.Location, log *slog.Logger) *Desk {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Desk{db: db, screener: screener, loc: loc, log: log}
}

// Assessment is the screener's report on some content and the rules'
// verdict on it.
type Assessment struct {
	Text        string
	Report      risk.Report
	Requirement workflow.Requirement
	PreElection bool
}

// Settings reads the workflow rules.
func (d *Desk) Settings(ctx context.Context) (workflow.Settings, error) {
	return d.db.WorkflowSettings(ctx)
}

// PreElection reports whether the pre-election period is on now.
func (d *Desk) PreElection(ctx context.Context) (bool, error) {
	s, err := d.db.WorkflowSettings(ctx)
	if err != nil {
		return false, err
	}
	return s.PreElection(d.now(), d.loc), nil
}

// Assess screens content as it would be screened on submission.
func (d *Desk) Assess(s workflow.Settings, in signpost.NoticeInput) Assessment {
	now := d.now()
	a := Assessment{Text: workflow.Text(in), PreElection: s.PreElection(now, d.loc)}
	if strings.TrimSpace(a.Text) != "" {
		a.Report = d.screener.Screen(context.Background(), a.Text, risk.Options{Context: risk.Outgoing, PreElection: a.PreElection, Now: now})
	}
	a.Requirement = workflow.Assess(s, a.Report, a.PreElection)
	return a
}

// now is the store's clock, so that tests move one clock for both.
func (d *Desk) now() time.Time { return d.db.Now() }

// Create starts a new item as a draft: a new notice (noticeID 0), or an
// update or close of a published notice. For a close, in is ignored and the
// notice's current content is kept.
func (d *Desk) Create(ctx context.Context, actor workflow.Actor, action workflow.Action, noticeID int64, in signpost.NoticeInput) (workflow.Item, error) {
	if !actor.Role.AtLeast(workflow.Author) {
		return workflow.Item{}, signpost.Errorf(signpost.EFORBIDDEN, "Only authors, approvers and admins can write notices.")
	}
	it := workflow.Item{Action: action, State: workflow.Draft, AuthorID: actor.ID, Content: in}
	err := d.db.Update(ctx, func(tx *store.Tx) error {
		switch action {
		case workflow.Create:
			if noticeID != 0 {
				return signpost.Errorf(signpost.EINVALID, "a new notice has no notice id")
			}
		case workflow.Update, workflow.Close:
			cur, err := tx.Notice(ctx, noticeID)
			if err != nil {
				return err
			}
			if cur.Retracted() {
				return signpost.Errorf(signpost.ECONFLICT, "Notice %d was retracted and cannot be changed.", noticeID)
			}
			if action == workflow.Close {
				if cur.Closed() {
					return signpost.Errorf(signpost.ECONFLICT, "Notice %d is already closed.", noticeID)
				}
				it.Content = InputOf(cur)
			}
			it.NoticeID, it.BaseRevision = cur.ID, cur.Revision
		default:
			return signpost.Errorf(signpost.EINVALID, "unknown kind of change %q", action)
		}
		if err := tx.CheckNoticeInput(ctx, it.Content); err != nil {
			return err
		}
		s, err := tx.WorkflowSettings(ctx)
		if err != nil {
			return err
		}
		d.assessInto(s, &it)
		if err := tx.InsertWorkflowItem(ctx, &it); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor.Name, Action: audit.Create, Target: ItemTarget(it.ID), After: recordOfItem(it)})
		return err
	})
	return it, err
}

// assessInto records the rules' verdict on the item's content. A close or
// retraction publishes no new words, so it is screened as empty.
func (d *Desk) assessInto(s workflow.Settings, it *workflow.Item) workflow.Requirement {
	in := it.Content
	if it.Action == workflow.Close || it.Action == workflow.Retract {
		in = signpost.NoticeInput{}
	}
	a := d.Assess(s, in)
	it.Risk, it.Political = a.Report.Level, workflow.Political(a.Report)
	it.NeedsApproval, it.RequiredRole = a.Requirement.NeedsApproval, a.Requirement.Role
	return a.Requirement
}

// InputOf is a notice's current content as an author would edit it.
func InputOf(n signpost.Notice) signpost.NoticeInput {
	return signpost.NoticeInput{Category: n.Category, Status: n.Status, Places: n.Places, Headline: n.Headline,
		Body: n.Body, Starts: n.Starts, Ends: n.Ends, Channels: n.Channels}
}

// Edit replaces an unpublished item's content; it goes back to draft and
// loses any approval or schedule. version is the item's version the form
// was built from.
func (d *Desk) Edit(ctx context.Context, actor workflow.Actor, id int64, version int, in signpost.NoticeInput) (workflow.Item, error) {
	return d.transition(ctx, actor, id, version, workflow.OpEdit, audit.Edit, func(tx *store.Tx, it *workflow.Item) error {
		if it.Action == workflow.Close || it.Action == workflow.Retract {
			return signpost.Errorf(signpost.EINVALID, "A close or retraction has no text to edit.")
		}
		if err := tx.CheckNoticeInput(ctx, in); err != nil {
			return err
		}
		it.Content = in
		return nil
	})
}

// Submit asks for approval.
func (d *Desk) Submit(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error) {
	return d.transition(ctx, actor, id, version, workflow.OpSubmit, audit.Submit, nil)
}

// Approve approves someone else's submitted item.
func (d *Desk) Approve(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error) {
	return d.transition(ctx, actor, id, version, workflow.OpApprove, audit.Approve, nil)
}

// Return sends a submitted item back to its author with a comment.
func (d *Desk) Return(ctx context.Context, actor workflow.Actor, id int64, version int, comment string) (workflow.Item, error) {
	comment = strings.TrimSpace(comment)
	return d.transition(ctx, actor, id, version, workflow.OpReturn, audit.Return, func(_ *store.Tx, it *workflow.Item) error {
		switch {
		case comment == "":
			return signpost.Errorf(signpost.EINVALID, "Enter a comment saying what the author should change")
		case len(comment) > 2000:
			return signpost.Errorf(signpost.EINVALID, "The comment must be 2000 characters or fewer")
		}
		it.Comment = comment
		return nil
	})
}

// Publish publishes an approved item, or one that needs no approval, now.
func (d *Desk) Publish(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error) {
	return d.transition(ctx, actor, id, version, workflow.OpPublish, audit.Publish, nil)
}

// Urgent publishes a low-risk disruption notice now and queues it for an
// approver to review afterwards.
func (d *Desk) Urgent(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error) {
	return d.transition(ctx, actor, id, version, workflow.OpUrgent, AuditUrgent, nil)
}

// Schedule sets an item to publish itself at a time.
func (d *Desk) Schedule(ctx context.Context, actor workflow.Actor, id int64, version int, at time.Time) (workflow.Item, error) {
	return d.transition(ctx, actor, id, version, workflow.OpSchedule, AuditSchedule, func(_ *store.Tx, it *workflow.Item) error {
		at := at.UTC().Truncate(time.Second)
		it.PublishAt = &at
		return nil
	})
}

// Unschedule takes a scheduled item back before it publishes.
func (d *Desk) Unschedule(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error) {
	return d.transition(ctx, actor, id, version, workflow.OpUnschedule, AuditUnschedule, nil)
}

// Review records that an approver has looked at an urgent item.
func (d *Desk) Review(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error) {
	return d.transition(ctx, actor, id, version, workflow.OpReview, AuditReview, nil)
}

// Withdraw abandons an unpublished item.
func (d *Desk) Withdraw(ctx context.Context, actor workflow.Actor, id int64, version int) (workflow.Item, error) {
	return d.transition(ctx, actor, id, version, workflow.OpWithdraw, AuditWithdraw, nil)
}

// Retract withdraws a published notice at once, with a reason that the
// audit log keeps.
func (d *Desk) Retract(ctx context.Context, actor workflow.Actor, noticeID int64, reason string) (workflow.Item, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return workflow.Item{}, signpost.Errorf(signpost.EINVALID, "Enter why the notice is being retracted")
	case len(reason) > 2000:
		return workflow.Item{}, signpost.Errorf(signpost.EINVALID, "The reason must be 2000 characters or fewer")
	case !actor.Role.AtLeast(workflow.Approver):
		return workflow.Item{}, signpost.Errorf(signpost.EFORBIDDEN, "Only approvers and admins can retract a notice. Ask one to retract it.")
	}
	var it workflow.Item
	err := d.db.Update(ctx, func(tx *store.Tx) error {
		cur, err := tx.Notice(ctx, noticeID)
		if err != nil {
			return err
		}
		it = workflow.Item{Action: workflow.Retract, State: workflow.Draft, AuthorID: actor.ID, NoticeID: cur.ID,
			BaseRevision: cur.Revision, Content: InputOf(cur), Comment: reason}
		if err := tx.InsertWorkflowItem(ctx, &it); err != nil {
			return err
		}
		s, err := tx.WorkflowSettings(ctx)
		if err != nil {
			return err
		}
		return d.apply(ctx, tx, actor, &it, workflow.OpRetract, audit.Retract, s, nil)
	})
	return it, err
}

// transition runs one operation on an item in one transaction. change, if
// given, alters the item before the rules are applied (new content, a
// publishing time, a comment).
func (d *Desk) transition(ctx context.Context, actor workflow.Actor, id int64, version int, op workflow.Op, action audit.Action,
	change func(*store.Tx, *workflow.Item) error) (workflow.Item, error) {
	var it workflow.Item
	err := d.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		if it, err = tx.WorkflowItem(ctx, id); err != nil {
			return err
		}
		if version != 0 && it.Version != version {
			return signpost.Errorf(signpost.ECONFLICT, "Someone else changed this notice while you were working on it. Open it again to see their changes.")
		}
		s, err := tx.WorkflowSettings(ctx)
		if err != nil {
			return err
		}
		return d.apply(ctx, tx, actor, &it, op, action, s, change)
	})
	return it, err
}

// apply decides op on it and carries the decision out inside tx.
func (d *Desk) apply(ctx context.Context, tx *store.Tx, actor workflow.Actor, it *workflow.Item, op workflow.Op, action audit.Action,
	s workflow.Settings, change func(*store.Tx, *workflow.Item) error) error {
	before := recordOfItem(*it)
	if change != nil {
		if err := change(tx, it); err != nil {
			return err
		}
	}
	req := d.assessInto(s, it)
	now := tx.Now()
	dec, err := workflow.Decide(op, *it, actor, req, s, now)
	if err != nil {
		return err
	}
	it.State = dec.To
	if dec.Review != workflow.ReviewNone {
		it.Review = dec.Review
	}
	switch op {
	case workflow.OpEdit:
		it.ApproverID, it.ApprovedAt, it.PublishAt, it.SubmittedAt = 0, nil, nil, nil
	case workflow.OpSubmit:
		it.SubmittedAt, it.Comment = &now, ""
	case workflow.OpApprove:
		it.ApproverID, it.ApprovedAt = actor.ID, &now
	case workflow.OpUnschedule:
		it.PublishAt = nil
	case workflow.OpUrgent:
		it.Urgent = true
	case workflow.OpReview:
		it.ReviewerID, it.ReviewedAt = actor.ID, &now
	case workflow.OpRun:
		// The conditional claim is what makes two schedulers safe on one
		// PostgreSQL database; the row lock taken when reading the item
		// already serialises them, and this proves it in one statement.
		won, err := tx.ClaimDueWorkflowItem(ctx, it.ID, now)
		if err != nil {
			return err
		}
		if !won {
			return signpost.Errorf(signpost.ECONFLICT, "already published")
		}
		it.Version++
	}
	if dec.Publish {
		n, err := d.publishNotice(ctx, tx, actor, *it, action)
		if err != nil {
			return err
		}
		it.NoticeID, it.PublishedRevision, it.PublishedAt = n.ID, n.Revision, &now
	}
	if err := tx.SaveWorkflowItem(ctx, it); err != nil {
		return err
	}
	_, err = audit.Append(ctx, tx, audit.Record{Actor: actor.Name, Action: action, Target: ItemTarget(it.ID), Before: before, After: recordOfItem(*it)})
	return err
}

// publishNotice makes the item's change a notice revision, and audits the
// notice before and after.
func (d *Desk) publishNotice(ctx context.Context, tx *store.Tx, actor workflow.Actor, it workflow.Item, action audit.Action) (signpost.Notice, error) {
	var before any
	var n signpost.Notice
	var err error
	if it.Action != workflow.Create {
		cur, err := tx.Notice(ctx, it.NoticeID)
		if err != nil {
			return n, err
		}
		if it.Action == workflow.Update && cur.Revision != it.BaseRevision {
			return n, signpost.Errorf(signpost.ECONFLICT, "Notice %d has changed since this update was written (it is now at revision %d). Start a new update from the current version.", cur.ID, cur.Revision)
		}
		before = RecordOf(cur)
	}
	switch it.Action {
	case workflow.Create:
		n, err = tx.CreateNotice(ctx, it.Content)
	case workflow.Update:
		n, err = tx.UpdateNotice(ctx, it.NoticeID, it.Content)
	case workflow.Close:
		n, err = tx.CloseNotice(ctx, it.NoticeID)
	case workflow.Retract:
		n, err = tx.RetractNotice(ctx, it.NoticeID)
	default:
		err = fmt.Errorf("item %d: unknown action %q", it.ID, it.Action)
	}
	if err != nil {
		return n, err
	}
	after := RecordOf(n)
	_, err = audit.Append(ctx, tx, audit.Record{Actor: actor.Name, Action: noticeAction(it.Action, action), Target: NoticeTarget(n.ID), Before: before, After: after})
	return n, err
}

// noticeAction is the audit action on the notice itself: a close or a
// retraction whatever path it took, otherwise the item's action (publish,
// publish-urgent).
func noticeAction(a workflow.Action, itemAction audit.Action) audit.Action {
	switch a {
	case workflow.Close:
		return audit.Close
	case workflow.Retract:
		return audit.Retract
	}
	if itemAction == AuditUrgent {
		return AuditUrgent
	}
	return audit.Publish
}

// ItemTarget names a workflow item in the audit log.
func ItemTarget(id int64) string { return "draft:" + strconv.FormatInt(id, 10) }

// itemRecord is how an item appears in the audit log.
type itemRecord struct {
	ID            int64         `json:"id"`
	Action        string        `json:"action"`
	State         string        `json:"state"`
	NoticeID      int64         `json:"notice_id,omitempty"`
	BaseRevision  int           `json:"base_revision,omitempty"`
	Content       *NoticeRecord `json:"content"`
	Risk          string        `json:"risk"`
	Political     bool          `json:"political,omitempty"`
	NeedsApproval bool          `json:"needs_approval"`
	RequiredRole  string        `json:"required_role,omitempty"`
	AuthorID      int64         `json:"author_id"`
	ApproverID    int64         `json:"approver_id,omitempty"`
	Comment       string        `json:"comment,omitempty"`
	Urgent        bool          `json:"urgent,omitempty"`
	Review        string        `json:"review,omitempty"`
	ReviewerID    int64         `json:"reviewer_id,omitempty"`
	PublishAt     *time.Time    `json:"publish_at,omitempty"`
	Revision      int           `json:"published_revision,omitempty"`
}

func recordOfItem(it workflow.Item) itemRecord {
	content := RecordOf(signpost.Notice{Category: it.Content.Category, Status: it.Content.Status, Places: it.Content.Places,
		Headline: it.Content.Headline, Body: it.Content.Body, Starts: it.Content.Starts, Ends: it.Content.Ends, Channels: it.Content.Channels})
	return itemRecord{ID: it.ID, Action: string(it.Action), State: string(it.State), NoticeID: it.NoticeID, BaseRevision: it.BaseRevision,
		Content: content, Risk: it.Risk.String(), Political: it.Political, NeedsApproval: it.NeedsApproval,
		RequiredRole: string(it.RequiredRole), AuthorID: it.AuthorID, ApproverID: it.ApproverID, Comment: it.Comment,
		Urgent: it.Urgent, Review: string(it.Review), ReviewerID: it.ReviewerID, PublishAt: it.PublishAt, Revision: it.PublishedRevision}
}

// SaveSettings stores new rules and audits the change.
func (d *Desk) SaveSettings(ctx context.Context, actor workflow.Actor, s workflow.Settings) error {
	if !actor.Role.AtLeast(workflow.Admin) {
		return signpost.Errorf(signpost.EFORBIDDEN, "Only admins can change the publishing rules.")
	}
	return d.db.Update(ctx, func(tx *store.Tx) error {
		before, err := tx.WorkflowSettings(ctx)
		if err != nil {
			return err
		}
		if err := tx.SaveWorkflowSettings(ctx, s); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor.Name, Action: AuditSettings, Target: "workflow-settings", Before: settingsRecord(before), After: settingsRecord(s)})
		return err
	})
}

func settingsRecord(s workflow.Settings) map[string]any {
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	return map[string]any{"approval_from": s.ApprovalFrom.String(), "urgent_enabled": s.UrgentEnabled,
		"political_role": string(s.PoliticalRole), "pre_election_from": day(s.PreElectionFrom), "pre_election_to": day(s.PreElectionTo)}
}

// RunDue publishes every scheduled item that is due and reports how many
// this call published. An item that can no longer be published as written
// (its notice changed, a place or channel was removed) is returned to its
// author with the reason, so it does not fail again every minute.
func (d *Desk) RunDue(ctx context.Context) (int, error) {
	due, err := d.db.WorkflowItems(ctx, store.WorkflowFilter{DueBy: d.now(), Limit: 100})
	if err != nil {
		return 0, err
	}
	published := 0
	sched := workflow.Actor{Name: Scheduler}
	for _, it := range due {
		_, err := d.transition(ctx, sched, it.ID, 0, workflow.OpRun, audit.Publish, nil)
		switch code := signpost.ErrorCode(err); {
		case err == nil:
			published++
		case code == signpost.EINVALID || code == signpost.ECONFLICT:
			// Either another server published it first (then this finds
			// it no longer scheduled and does nothing) or it cannot be
			// published as written.
			if rerr := d.returnUnpublishable(ctx, it.ID, signpost.ErrorMessage(err)); rerr != nil {
				return published, errors.Join(err, rerr)
			}
		default:
			return published, fmt.Errorf("publish scheduled item %d: %w", it.ID, err)
		}
	}
	return published, nil
}

// returnUnpublishable sends a scheduled item that cannot be published back
// to its author, unless another server has dealt with it meanwhile.
func (d *Desk) returnUnpublishable(ctx context.Context, id int64, why string) error {
	return d.db.Update(ctx, func(tx *store.Tx) error {
		it, err := tx.WorkflowItem(ctx, id)
		if err != nil || it.State != workflow.Scheduled {
			return err
		}
		before := recordOfItem(it)
		it.State, it.Comment, it.PublishAt = workflow.Returned, "Scheduled publishing failed: "+why, nil
		if err := tx.SaveWorkflowItem(ctx, &it); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: Scheduler, Action: audit.Return, Target: ItemTarget(id), Before: before, After: recordOfItem(it)})
		return err
	})
}

// Run publishes due items every interval until ctx ends.
func (d *Desk) Run(ctx context.Context, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if n, err := d.RunDue(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("scheduled publishing", "err", err)
		} else if n > 0 {
			d.log.Info("scheduled notices published", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// ItemFilter selects items for the console's lists.
type ItemFilter = store.WorkflowFilter

// Item reads one item.
func (d *Desk) Item(ctx context.Context, id int64) (workflow.Item, error) {
	return d.db.WorkflowItem(ctx, id)
}

// Items lists items.
func (d *Desk) Items(ctx context.Context, f ItemFilter) ([]workflow.Item, error) {
	return d.db.WorkflowItems(ctx, f)
}

// ChannelNames lists the channels a notice can go to, by name.
func (d *Desk) ChannelNames(ctx context.Context) ([]string, error) {
	cs, err := d.db.Channels(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return names, nil
}

// CategoryChannels maps each category to the channels a notice of it goes
// to when its author chooses none (store.DB.DefaultChannels).
func (d *Desk) CategoryChannels(ctx context.Context) (map[signpost.Category][]string, error) {
	return d.db.CategoryChannels(ctx)
}

// StaffNames maps account ids to names, for showing who wrote and
// approved what.
func (d *Desk) StaffNames(ctx context.Context) (map[int64]string, error) {
	us, err := d.db.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(us))
	for _, u := range us {
		out[u.ID] = u.Name
	}
	return out, nil
}
