package workflow

import (
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/risk"
)

var now = time.Date(2026, 4, 20, 9, 0, 0, 0, time.UTC)

func finding(c risk.Category, s risk.Severity) risk.Finding {
	return risk.Finding{Category: c, Severity: s}
}

func report(level risk.Severity, fs ...risk.Finding) risk.Report {
	return risk.Report{Level: level, Findings: fs}
}

func TestAssess(t *testing.T) {
	t.Parallel()
	strict := Defaults()
	strict.ApprovalFrom = risk.None
	adminPolitics := Defaults()
	adminPolitics.PoliticalRole = Admin
	tests := []struct {
		name        string
		s           Settings
		rep         risk.Report
		preElection bool
		needs       bool
		role        Role
		political   bool
	}{
		{"clean text needs nobody", Defaults(), report(risk.None), false, false, "", false},
		{"low risk needs nobody", Defaults(), report(risk.Low, finding(risk.Profanity, risk.Low)), false, false, "", false},
		{"medium needs an approver", Defaults(), report(risk.Medium, finding(risk.Abuse, risk.Medium)), false, true, Approver, false},
		{"high needs an approver", Defaults(), report(risk.High, finding(risk.Threat, risk.High)), false, true, Approver, false},
		{"strict: everything needs approval", strict, report(risk.None), false, true, Approver, false},
		{"political outside the period follows the level", Defaults(), report(risk.Low, finding(risk.Political, risk.Low)), false, false, "", false},
		{"any political finding in the period", Defaults(), report(risk.Low, finding(risk.Political, risk.Low)), true, true, Approver, true},
		{"political in the period needs the named role", adminPolitics, report(risk.Low, finding(risk.Political, risk.Low)), true, true, Admin, true},
		{"named role wins over a lower one", adminPolitics, report(risk.High, finding(risk.Political, risk.High)), true, true, Admin, true},
		{"period on but nothing political", adminPolitics, report(risk.Medium, finding(risk.Abuse, risk.Medium)), true, true, Approver, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Assess(tt.s, tt.rep, tt.preElection)
			if req.NeedsApproval != tt.needs || req.Role != tt.role || req.Political != tt.political {
				t.Errorf("Assess = %+v, want needs %v role %q political %v", req, tt.needs, tt.role, tt.political)
			}
			if req.NeedsApproval && len(req.Reasons) == 0 {
				t.Error("approval needed without a reason")
			}
		})
	}
}

func TestPreElectionDays(t *testing.T) {
	t.Parallel()
	london, _ := time.LoadLocation("Europe/London")
	from := time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 5, 7, 0, 0, 0, 0, time.UTC)
	s := Defaults()
	s.PreElectionFrom, s.PreElectionTo = &from, &to
	tests := []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 3, 22, 23, 59, 0, 0, london), false},
		{time.Date(2026, 3, 23, 0, 0, 0, 0, london), true},
		{time.Date(2026, 5, 7, 21, 59, 0, 0, london), true},    // polling day, late evening
		{time.Date(2026, 5, 7, 23, 30, 0, 0, time.UTC), false}, // 00:30 on the 8th in London (BST)
		{time.Date(2026, 5, 8, 0, 0, 0, 0, london), false},
	}
	for _, tt := range tests {
		if got := s.PreElection(tt.at, london); got != tt.want {
			t.Errorf("PreElection(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
	if Defaults().PreElection(now, london) {
		t.Error("no period set, but PreElection is on")
	}
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	day := func(d int) *time.Time { t := time.Date(2026, 5, d, 0, 0, 0, 0, time.UTC); return &t }
	tests := []struct {
		name   string
		change func(*Settings)
		ok     bool
	}{
		{"defaults", func(*Settings) {}, true},
		{"period", func(s *Settings) { s.PreElectionFrom, s.PreElectionTo = day(1), day(7) }, true},
		{"one-day period", func(s *Settings) { s.PreElectionFrom, s.PreElectionTo = day(7), day(7) }, true},
		{"backwards period", func(s *Settings) { s.PreElectionFrom, s.PreElectionTo = day(7), day(1) }, false},
		{"half a period", func(s *Settings) { s.PreElectionFrom = day(7) }, false},
		{"authors cannot approve politics", func(s *Settings) { s.PoliticalRole = Author }, false},
		{"unknown role", func(s *Settings) { s.PoliticalRole = "boss" }, false},
		{"threshold out of range", func(s *Settings) { s.ApprovalFrom = risk.High + 1 }, false},
	}
	for _, tt := range tests {
		s := Defaults()
		tt.change(&s)
		if err := s.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	author := Actor{ID: 1, Name: "Ann", Role: Author}
	otherAuthor := Actor{ID: 4, Name: "Al", Role: Author}
	approver := Actor{ID: 2, Name: "Bo", Role: Approver}
	admin := Actor{ID: 3, Name: "Cy", Role: Admin}
	approverAuthor := Actor{ID: 1, Name: "Ann", Role: Approver} // the author, promoted
	viewer := Actor{ID: 5, Name: "Vi", Role: Viewer}
	scheduler := Actor{}
	later := now.Add(time.Hour)
	earlier := now.Add(-time.Minute)
	approvedAt := now.Add(-time.Hour)

	item := func(st State, change ...func(*Item)) Item {
		it := Item{ID: 9, Action: Create, State: st, AuthorID: 1, Risk: risk.None,
			Content: signpost.NoticeInput{Category: signpost.CategoryRoads, Status: signpost.StatusGrittingInProgress, Headline: "Gritting now"}}
		for _, c := range change {
			c(&it)
		}
		return it
	}
	risky := func(it *Item) { it.Risk, it.NeedsApproval, it.RequiredRole = risk.Medium, true, Approver }
	info := func(it *Item) { it.Content.Status = signpost.StatusInformation }
	due := func(at time.Time) func(*Item) { return func(it *Item) { it.PublishAt = &at } }
	approved := func(it *Item) { it.ApprovedAt = &approvedAt }
	pending := func(it *Item) { it.Review = ReviewPending }
	action := func(a Action) func(*Item) { return func(it *Item) { it.Action = a } }

	none := Requirement{}
	needs := Requirement{NeedsApproval: true, Role: Approver, Reasons: []string{"medium risk"}}
	needsAdmin := Requirement{NeedsApproval: true, Role: Admin, Political: true, Reasons: []string{"political"}}
	noUrgent := Defaults()
	noUrgent.UrgentEnabled = false

	tests := []struct {
		name  string
		op    Op
		it    Item
		actor Actor
		req   Requirement
		s     Settings
		to    State
		code  string // "" when allowed
	}{
		// Editing.
		{"author edits own draft", OpEdit, item(Draft), author, none, Defaults(), Draft, ""},
		{"editing an approved item voids the approval", OpEdit, item(Approved), author, none, Defaults(), Draft, ""},
		{"editing a submitted item recalls it", OpEdit, item(Submitted), author, none, Defaults(), Draft, ""},
		{"another author cannot edit my draft", OpEdit, item(Draft), otherAuthor, none, Defaults(), "", signpost.EFORBIDDEN},
		{"an approver may edit someone's draft", OpEdit, item(Draft), approver, none, Defaults(), Draft, ""},
		{"viewers cannot edit", OpEdit, item(Draft), viewer, none, Defaults(), "", signpost.EFORBIDDEN},
		{"published items are not edited", OpEdit, item(Published), author, none, Defaults(), "", signpost.ECONFLICT},

		// Submitting, approving, returning.
		{"submit a draft", OpSubmit, item(Draft), author, needs, Defaults(), Submitted, ""},
		{"resubmit a returned item", OpSubmit, item(Returned), author, needs, Defaults(), Submitted, ""},
		{"submit twice", OpSubmit, item(Submitted), author, needs, Defaults(), "", signpost.ECONFLICT},
		{"approver approves", OpApprove, item(Submitted, risky), approver, needs, Defaults(), Approved, ""},
		{"admin approves", OpApprove, item(Submitted, risky), admin, needs, Defaults(), Approved, ""},
		{"authors cannot approve", OpApprove, item(Submitted, risky), otherAuthor, needs, Defaults(), "", signpost.EFORBIDDEN},
		{"nobody approves their own work", OpApprove, item(Submitted, risky), approverAuthor, needs, Defaults(), "", signpost.EFORBIDDEN},
		{"nobody returns their own work", OpReturn, item(Submitted, risky), approverAuthor, needs, Defaults(), "", signpost.EFORBIDDEN},
		{"political in the period needs an admin", OpApprove, item(Submitted), approver, needsAdmin, Defaults(), "", signpost.EFORBIDDEN},
		{"admin approves political content", OpApprove, item(Submitted), admin, needsAdmin, Defaults(), Approved, ""},
		{"approve a draft", OpApprove, item(Draft), approver, needs, Defaults(), "", signpost.ECONFLICT},
		{"return with a comment", OpReturn, item(Submitted), approver, needs, Defaults(), Returned, ""},

		// Publishing and scheduling.
		{"low risk publishes without approval", OpPublish, item(Draft), author, none, Defaults(), Published, ""},
		{"risky draft cannot be published", OpPublish, item(Draft, risky), author, needs, Defaults(), "", signpost.EFORBIDDEN},
		{"risky returned item cannot be published", OpPublish, item(Returned, risky), author, needs, Defaults(), "", signpost.EFORBIDDEN},
		{"submitted item waits for approval", OpPublish, item(Submitted, risky), author, needs, Defaults(), "", signpost.ECONFLICT},
		{"approved item publishes", OpPublish, item(Approved, risky, approved), author, needs, Defaults(), Published, ""},
		{"viewer cannot publish", OpPublish, item(Approved), viewer, none, Defaults(), "", signpost.EFORBIDDEN},
		{"schedule an approved item", OpSchedule, item(Approved, risky, approved, due(later)), author, needs, Defaults(), Scheduled, ""},
		{"schedule a low-risk draft", OpSchedule, item(Draft, due(later)), author, none, Defaults(), Scheduled, ""},
		{"schedule in the past", OpSchedule, item(Approved, due(earlier)), author, none, Defaults(), "", signpost.EINVALID},
		{"schedule without a time", OpSchedule, item(Approved), author, none, Defaults(), "", signpost.EINVALID},
		{"schedule a risky draft", OpSchedule, item(Draft, risky, due(later)), author, needs, Defaults(), "", signpost.EFORBIDDEN},
		{"schedule a close", OpSchedule, item(Approved, action(Close), due(later)), author, none, Defaults(), "", signpost.EINVALID},
		{"unschedule an approved item keeps the approval", OpUnschedule, item(Scheduled, approved, due(later)), author, none, Defaults(), Approved, ""},
		{"unschedule a draft", OpUnschedule, item(Scheduled, due(later)), author, none, Defaults(), Draft, ""},
		{"scheduler publishes a due item", OpRun, item(Scheduled, due(earlier)), scheduler, none, Defaults(), Published, ""},
		{"scheduler waits until due", OpRun, item(Scheduled, due(later)), scheduler, none, Defaults(), "", signpost.ECONFLICT},
		{"scheduler skips an unscheduled item", OpRun, item(Draft, due(earlier)), scheduler, none, Defaults(), "", signpost.ECONFLICT},
		{"people do not run the scheduler", OpRun, item(Scheduled, due(earlier)), admin, none, Defaults(), "", signpost.EFORBIDDEN},

		// The urgent path.
		{"urgent low-risk gritting", OpUrgent, item(Draft), author, none, Defaults(), Published, ""},
		{"urgent even when rules want approval for all", OpUrgent, item(Draft), author, needs, Defaults(), Published, ""},
		{"urgent refused for medium risk", OpUrgent, item(Draft, risky), author, needs, Defaults(), "", signpost.EFORBIDDEN},
		{"urgent refused for information", OpUrgent, item(Draft, info), author, none, Defaults(), "", signpost.EFORBIDDEN},
		{"urgent refused for political content in the period", OpUrgent, item(Draft), author, needsAdmin, Defaults(), "", signpost.EFORBIDDEN},
		{"urgent refused when switched off", OpUrgent, item(Draft), author, none, noUrgent, "", signpost.EFORBIDDEN},
		{"urgent refused for a close", OpUrgent, item(Draft, action(Close)), author, none, Defaults(), "", signpost.EFORBIDDEN},
		{"urgent refused once submitted", OpUrgent, item(Submitted), author, none, Defaults(), "", signpost.ECONFLICT},
		{"review an urgent item", OpReview, item(Published, pending), approver, none, Defaults(), Published, ""},
		{"no self-review", OpReview, item(Published, pending), approverAuthor, none, Defaults(), "", signpost.EFORBIDDEN},
		{"authors do not review", OpReview, item(Published, pending), otherAuthor, none, Defaults(), "", signpost.EFORBIDDEN},
		{"nothing to review", OpReview, item(Published), approver, none, Defaults(), "", signpost.ECONFLICT},

		// Withdrawing and retracting.
		{"withdraw own draft", OpWithdraw, item(Draft), author, none, Defaults(), Withdrawn, ""},
		{"withdraw a scheduled item", OpWithdraw, item(Scheduled), author, none, Defaults(), Withdrawn, ""},
		{"cannot withdraw what is published", OpWithdraw, item(Published), author, none, Defaults(), "", signpost.ECONFLICT},
		{"another author cannot withdraw my draft", OpWithdraw, item(Draft), otherAuthor, none, Defaults(), "", signpost.EFORBIDDEN},
		{"approver retracts at once", OpRetract, item(Draft, action(Retract)), approver, none, Defaults(), Published, ""},
		{"authors cannot retract", OpRetract, item(Draft, action(Retract)), author, none, Defaults(), "", signpost.EFORBIDDEN},

		{"unknown op", Op("explode"), item(Draft), admin, none, Defaults(), "", signpost.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decide(tt.op, tt.it, tt.actor, tt.req, tt.s, now)
			if code := signpost.ErrorCode(err); code != tt.code {
				t.Fatalf("Decide = %+v, %v; want code %q", d, err, tt.code)
			}
			if err != nil {
				if strings.TrimSpace(signpost.ErrorMessage(err)) == "" {
					t.Error("refusal without a message")
				}
				return
			}
			if d.To != tt.to {
				t.Errorf("to %q, want %q", d.To, tt.to)
			}
			if d.Publish != (tt.to == Published && tt.it.State != Published) {
				t.Errorf("publish = %v moving %s → %s", d.Publish, tt.it.State, d.To)
			}
			if tt.op == OpUrgent && d.Review != ReviewPending {
				t.Errorf("urgent publish not queued for review: %q", d.Review)
			}
			if tt.op == OpReview && d.Review != ReviewDone {
				t.Errorf("review did not complete: %q", d.Review)
			}
		})
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	if got := Text(signpost.NoticeInput{Headline: "H", Body: " "}); got != "H" {
		t.Errorf("headline only: %q", got)
	}
	if got := Text(signpost.NoticeInput{Headline: "H", Body: "B"}); got != "H\n\nB" {
		t.Errorf("headline and body: %q", got)
	}
}
