// Package workflow decides how a piece of staff work moves from draft to
// published: its states, the rules that say when a second person must
// approve it, and which transitions each member of staff may make. It is
// pure — no database, no HTTP — so every rule is tested as a table; package
// publish carries its decisions out against the store and the audit log.
//
// An item is a new notice, or an update, close or retraction of a
// published one. Its life:
//
//	draft → submitted → approved | returned (with a comment)
//	approved (or a draft that needs no approval) → scheduled | published
//	draft → published at once on the urgent path, then reviewed afterwards
//
// and any unpublished item may be withdrawn. The notice itself is then
// published, updated, closed or retracted, each a revision in the store.
package workflow

import (
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/risk"
)

// State is where an item is in the workflow.
type State string

// The states.
const (
	Draft     State = "draft"
	Submitted State = "submitted" // waiting for an approver
	Approved  State = "approved"  // ready to publish or schedule
	Returned  State = "returned"  // sent back to the author with a comment
	Scheduled State = "scheduled" // publishes itself at PublishAt
	Published State = "published"
	Withdrawn State = "withdrawn" // abandoned before publication
)

// States lists every state in the order the console shows them.
var States = []State{Draft, Returned, Submitted, Approved, Scheduled, Published, Withdrawn}

// Label is the state as staff read it.
func (s State) Label() string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Open reports whether the item can still change before publication.
func (s State) Open() bool {
	switch s {
	case Draft, Returned, Submitted, Approved, Scheduled:
		return true
	}
	return false
}

// Action is what publishing the item does to residents' view.
type Action string

// The actions.
const (
	Create  Action = "create"  // a new notice
	Update  Action = "update"  // new content for a published notice
	Close   Action = "close"   // the disruption is over
	Retract Action = "retract" // the notice was wrong: withdraw it
)

// Review records whether an urgent item has been looked at since.
type Review string

// Review states; an item not published urgently has none.
const (
	ReviewNone    Review = ""
	ReviewPending Review = "pending"
	ReviewDone    Review = "done"
)

// Role is a staff role as package auth names them; the workflow compares
// roles by rank only.
type Role string

// The roles, lowest first.
const (
	Viewer   Role = "viewer"
	Author   Role = "author"
	Approver Role = "approver"
	Admin    Role = "admin"
)

func (r Role) rank() int {
	switch r {
	case Viewer:
		return 1
	case Author:
		return 2
	case Approver:
		return 3
	case Admin:
		return 4
	}
	return 0
}

// AtLeast reports whether r ranks at or above min; an unknown role ranks
// below everything.
func (r Role) AtLeast(min Role) bool { return r.rank() > 0 && r.rank() >= min.rank() }

// Actor is the member of staff asking for a transition. ID 0 is the
// scheduler, which may only publish what is already scheduled.
type Actor struct {
	ID   int64
	Name string // how the audit log names them: "user:<e-mail>", "system:scheduler"
	Role Role
}

// Item is one piece of work.
type Item struct {
	ID           int64
	NoticeID     int64 // 0 until a new notice is published
	BaseRevision int   // the notice revision an update, close or retraction was written against
	Action       Action
	State        State
	Content      signpost.NoticeInput
	// Risk and Political are the screener's verdict on Content at the last
	// save; NeedsApproval and RequiredRole the rules' verdict then.
	Risk          risk.Severity
	Political     bool
	NeedsApproval bool
	RequiredRole  Role
	AuthorID      int64
	SubmittedAt   *time.Time
	ApproverID    int64
	ApprovedAt    *time.Time
	Comment       string // why it was returned, or why a notice was retracted
	Urgent        bool
	Review        Review
	ReviewerID    int64
	ReviewedAt    *time.Time
	PublishAt     *time.Time
	PublishedAt   *time.Time
	// PublishedRevision is the notice revision publishing made.
	PublishedRevision int
	Version           int // increases on every change
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Settings are the rules an administrator sets. The zero value is not
// safe; start from Defaults.
type Settings struct {
	// ApprovalFrom is the lowest risk level that needs a second person's
	// approval: medium by default; none means every item does.
	ApprovalFrom risk.Severity
	// UrgentEnabled allows the urgent path (publish a low-risk service
	// notice at once, review afterwards).
	UrgentEnabled bool
	// PreElectionFrom and PreElectionTo bound the pre-election period as
	// dates, both days included; nil means no period is set.
	PreElectionFrom *time.Time
	PreElectionTo   *time.Time
	// PoliticalRole must approve anything with a political finding during
	// the pre-election period: approver by default, or admin where the
	// council wants its most senior staff to decide.
	PoliticalRole Role
}

// Defaults are the safe rules a new installation starts with.
func Defaults() Settings {
	return Settings{ApprovalFrom: risk.Medium, UrgentEnabled: true, PoliticalRole: Approver}
}

// Validate checks settings an administrator entered.
func (s Settings) Validate() error {
	if s.ApprovalFrom < risk.None || s.ApprovalFrom > risk.High {
		return signpost.Errorf(signpost.EINVALID, "approval threshold must be none, low, medium or high")
	}
	if !s.PoliticalRole.AtLeast(Approver) {
		return signpost.Errorf(signpost.EINVALID, "the role that approves political content must be approver or admin")
	}
	if (s.PreElectionFrom == nil) != (s.PreElectionTo == nil) {
		return signpost.Errorf(signpost.EINVALID, "give both the first and the last day of the pre-election period, or neither")
	}
	if s.PreElectionFrom != nil && s.PreElectionTo.Before(*s.PreElectionFrom) {
		return signpost.Errorf(signpost.EINVALID, "the pre-election period ends before it starts")
	}
	return nil
}

// PreElection reports whether now falls in the pre-election period, read
// in loc (the council's time zone): from the start of the first day to the
// end of the last.
func (s Settings) PreElection(now time.Time, loc *time.Location) bool {
	if s.PreElectionFrom == nil || s.PreElectionTo == nil {
		return false
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	from, to := day(*s.PreElectionFrom), day(*s.PreElectionTo).AddDate(0, 0, 1)
	now = now.In(loc)
	return !now.Before(from) && now.Before(to)
}

// Requirement is the rules' verdict on one item's content.
type Requirement struct {
	NeedsApproval bool
	Role          Role     // the lowest role that may approve; "" when none is needed
	Reasons       []string // why approval is needed, for the author
	// Political is set when a political finding in the pre-election
	// period is among the reasons; such an item never takes the urgent path.
	Political bool
}

// Assess applies the rules to a screening report. preElection says whether
// the pre-election period is on now.
func Assess(s Settings, rep risk.Report, preElection bool) Requirement {
	var req Requirement
	if rep.Level >= s.ApprovalFrom {
		req.NeedsApproval, req.Role = true, Approver
		if s.ApprovalFrom == risk.None {
			req.Reasons = append(req.Reasons, "Every notice needs approval by someone else.")
		} else {
			req.Reasons = append(req.Reasons, "The risk check found "+rep.Level.String()+" risk: someone else must approve it.")
		}
	}
	if preElection && Political(rep) {
		req.NeedsApproval, req.Political = true, true
		if req.Role == "" || s.PoliticalRole.AtLeast(req.Role) {
			req.Role = s.PoliticalRole
		}
		req.Reasons = append(req.Reasons, "It is the pre-election period and the text has political content: "+article(s.PoliticalRole)+" "+string(s.PoliticalRole)+" other than you must approve it.")
	}
	return req
}

// Political reports whether a report has any political finding, at any
// severity.
func Political(rep risk.Report) bool {
	for _, f := range rep.Findings {
		if f.Category == risk.Political {
			return true
		}
	}
	return false
}

func article(r Role) string {
	if r == Admin || r == Approver || r == Author {
		return "an"
	}
	return "a"
}

// Op is a transition staff (or the scheduler) ask for.
type Op string

// The operations.
const (
	OpEdit       Op = "edit"       // change the content; an unpublished item goes back to draft
	OpSubmit     Op = "submit"     // ask for approval
	OpApprove    Op = "approve"    // approve someone else's submitted item
	OpReturn     Op = "return"     // send it back with a comment
	OpPublish    Op = "publish"    // publish now
	OpSchedule   Op = "schedule"   // publish at a set time
	OpUnschedule Op = "unschedule" // take a scheduled item back
	OpUrgent     Op = "urgent"     // publish now without approval; review afterwards
	OpReview     Op = "review"     // record that an urgent item has been reviewed
	OpWithdraw   Op = "withdraw"   // abandon an unpublished item
	OpRun        Op = "run"        // the scheduler publishes a due item
	OpRetract    Op = "retract"    // withdraw a published notice at once
)

// Decision is the outcome of an allowed transition.
type Decision struct {
	To      State
	Publish bool   // the item's change reaches residents now
	Review  Review // the review state after the transition
}

// Decide says whether actor may apply op to it now, and what follows.
// req is the rules' verdict on the item's current content. Refusals are
// EFORBIDDEN (this person may not) or ECONFLICT (not in this state), with
// a message for the person asking.
func Decide(op Op, it Item, actor Actor, req Requirement, s Settings, now time.Time) (Decision, error) {
	own := actor.ID != 0 && actor.ID == it.AuthorID
	needAuthor := func() error {
		if !actor.Role.AtLeast(Author) {
			return signpost.Errorf(signpost.EFORBIDDEN, "Only authors, approvers and admins can change notices.")
		}
		return nil
	}
	publishable := func() error {
		switch {
		case it.State == Approved:
			return nil
		case it.State == Draft || it.State == Returned:
			if req.NeedsApproval {
				return signpost.Errorf(signpost.EFORBIDDEN, "This needs approval by someone else before it can be published. %s", strings.Join(req.Reasons, " "))
			}
			return nil
		}
		return conflict(op, it.State)
	}
	switch op {
	case OpEdit:
		if err := needAuthor(); err != nil {
			return Decision{}, err
		}
		if !it.State.Open() {
			return Decision{}, conflict(op, it.State)
		}
		if !own && !actor.Role.AtLeast(Approver) {
			return Decision{}, signpost.Errorf(signpost.EFORBIDDEN, "Only the author or an approver can change someone else's draft.")
		}
		// Any change voids an approval and a schedule: what was approved
		// is no longer what would be published.
		return Decision{To: Draft}, nil
	case OpSubmit:
		if err := needAuthor(); err != nil {
			return Decision{}, err
		}
		if it.State != Draft && it.State != Returned {
			return Decision{}, conflict(op, it.State)
		}
		return Decision{To: Submitted}, nil
	case OpApprove, OpReturn:
		if !actor.Role.AtLeast(Approver) {
			return Decision{}, signpost.Errorf(signpost.EFORBIDDEN, "Only approvers and admins can approve or return notices.")
		}
		if own {
			return Decision{}, signpost.Errorf(signpost.EFORBIDDEN, "You cannot approve or return your own work: someone else must review it.")
		}
		if it.State != Submitted {
			return Decision{}, conflict(op, it.State)
		}
		if op == OpReturn {
			return Decision{To: Returned}, nil
		}
		if req.Role != "" && !actor.Role.AtLeast(req.Role) {
			return Decision{}, signpost.Errorf(signpost.EFORBIDDEN, "This needs approval by %s %s. %s", article(req.Role), req.Role, strings.Join(req.Reasons, " "))
		}
		return Decision{To: Approved}, nil
	case OpPublish:
		if err := needAuthor(); err != nil {
			return Decision{}, err
		}
		if err := publishable(); err != nil {
			return Decision{}, err
		}
		return Decision{To: Published, Publish: true}, nil
	case OpSchedule:
		if err := needAuthor(); err != nil {
			return Decision{}, err
		}
		if err := publishable(); err != nil {
			return Decision{}, err
		}
		if it.Action != Create && it.Action != Update {
			return Decision{}, signpost.Errorf(signpost.EINVALID, "Only new notices and updates can be scheduled.")
		}
		if it.PublishAt == nil || !it.PublishAt.After(now) {
			return Decision{}, signpost.Errorf(signpost.EINVALID, "Choose a publishing time in the future.")
		}
		return Decision{To: Scheduled}, nil
	case OpUnschedule:
		if err := needAuthor(); err != nil {
			return Decision{}, err
		}
		if it.State != Scheduled {
			return Decision{}, conflict(op, it.State)
		}
		if it.ApprovedAt != nil {
			return Decision{To: Approved}, nil
		}
		return Decision{To: Draft}, nil
	case OpUrgent:
		if err := needAuthor(); err != nil {
			return Decision{}, err
		}
		if it.State != Draft && it.State != Returned {
			return Decision{}, conflict(op, it.State)
		}
		if err := UrgentAllowed(it, req, s); err != nil {
			return Decision{}, err
		}
		return Decision{To: Published, Publish: true, Review: ReviewPending}, nil
	case OpReview:
		if !actor.Role.AtLeast(Approver) {
			return Decision{}, signpost.Errorf(signpost.EFORBIDDEN, "Only approvers and admins can review urgent notices.")
		}
		if own {
			return Decision{}, signpost.Errorf(signpost.EFORBIDDEN, "You cannot review your own urgent notice: someone else must.")
		}
		if it.Review != ReviewPending {
			return Decision{}, signpost.Errorf(signpost.ECONFLICT, "This notice is not waiting for a review.")
		}
		return Decision{To: it.State, Review: ReviewDone}, nil
	case OpWithdraw:
		if err := needAuthor(); err != nil {
			return Decision{}, err
		}
		if !it.State.Open() {
			return Decision{}, conflict(op, it.State)
		}
		if !own && !actor.Role.AtLeast(Approver) {
			return Decision{}, signpost.Errorf(signpost.EFORBIDDEN, "Only the author or an approver can withdraw someone else's draft.")
		}
		return Decision{To: Withdrawn}, nil
	case OpRetract:
		// Leaving a wrong notice up does more harm than taking it down, so
		// an approver retracts at once rather than asking a second person;
		// the audit log names who did it and why.
		if !actor.Role.AtLeast(Approver) {
			return Decision{}, signpost.Errorf(signpost.EFORBIDDEN, "Only approvers and admins can retract a notice. Ask one to retract it.")
		}
		if it.Action != Retract || it.State != Draft {
			return Decision{}, conflict(op, it.State)
		}
		return Decision{To: Published, Publish: true}, nil
	case OpRun:
		if actor.ID != 0 {
			return Decision{}, signpost.Errorf(signpost.EFORBIDDEN, "Only the scheduler publishes scheduled notices.")
		}
		if it.State != Scheduled {
			return Decision{}, conflict(op, it.State)
		}
		if it.PublishAt == nil || it.PublishAt.After(now) {
			return Decision{}, signpost.Errorf(signpost.ECONFLICT, "This notice is not due yet.")
		}
		return Decision{To: Published, Publish: true}, nil
	}
	return Decision{}, signpost.Errorf(signpost.EINVALID, "unknown action %q", op)
}

// UrgentAllowed says whether an item may take the urgent path: the path
// must be enabled, the item must be a new notice or an update about a
// service's state (not general information), and the risk check must have
// found at most low risk and nothing political in the pre-election period.
func UrgentAllowed(it Item, req Requirement, s Settings) error {
	switch {
	case !s.UrgentEnabled:
		return signpost.Errorf(signpost.EFORBIDDEN, "Urgent publishing is switched off: submit the notice for approval.")
	case it.Action != Create && it.Action != Update:
		return signpost.Errorf(signpost.EFORBIDDEN, "Only new notices and updates can be published urgently.")
	case it.Content.Status == signpost.StatusInformation || !it.Content.Status.Valid():
		return signpost.Errorf(signpost.EFORBIDDEN, "Urgent publishing is for disruption notices (closed, delayed, cancelled, gritting and so on), not general information.")
	case it.Risk > risk.Low:
		return signpost.Errorf(signpost.EFORBIDDEN, "The risk check found %s risk: this cannot be published urgently. Change the text or submit it for approval.", it.Risk)
	case req.Political:
		return signpost.Errorf(signpost.EFORBIDDEN, "Political content in the pre-election period cannot be published urgently: submit it for approval.")
	}
	return nil
}

func conflict(op Op, st State) error {
	return signpost.Errorf(signpost.ECONFLICT, "You cannot %s a notice that is %s.", op, strings.ToLower(st.Label()))
}

// Text is what the screener reads for an item: the headline and body as
// residents and followers see them.
func Text(in signpost.NoticeInput) string {
	if strings.TrimSpace(in.Body) == "" {
		return in.Headline
	}
	return in.Headline + "\n\n" + in.Body
}
