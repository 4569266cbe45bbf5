package auth

import (
	"strings"

	"github.com/signpost-uk/signpost"
)

// Role is what a member of staff may do. Roles are ordered: each can do
// everything the one below it can.
type Role string

// The roles, lowest first.
const (
	Viewer   Role = "viewer"   // reads drafts, the archive and reports
	Author   Role = "author"   // writes and submits notices
	Approver Role = "approver" // approves or returns others' notices
	Admin    Role = "admin"    // manages users, channels, policy and costs
)

// Roles lists every role, lowest first.
func Roles() []Role { return []Role{Viewer, Author, Approver, Admin} }

// ParseRole reads a role name, ignoring case and surrounding space.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r.level() == 0 {
		return "", signpost.Errorf(signpost.EINVALID, "%q is not a role: use viewer, author, approver or admin", s)
	}
	return r, nil
}

// level orders the roles; 0 is not a role.
func (r Role) level() int {
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

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r.level() > 0 }

// AtLeast reports whether r ranks at or above min. Nothing that is not a
// role ranks at all, so a corrupted or empty role grants nothing.
func (r Role) AtLeast(min Role) bool {
	return r.level() > 0 && min.level() > 0 && r.level() >= min.level()
}

// Permission is one thing the console lets staff do.
type Permission string

// The permissions the console checks.
const (
	ViewConsole    Permission = "view-console"    // see drafts, the queue and the archive
	Compose        Permission = "compose"         // write, edit and submit notices
	PublishUrgent  Permission = "publish-urgent"  // publish a low-risk disruption notice at once
	Approve        Permission = "approve"         // approve or return someone else's notice
	Retract        Permission = "retract"         // retract a published notice
	ExportArchive  Permission = "export-archive"  // export the archive for FOI and records requests
	Deliveries     Permission = "deliveries"      // see every delivery to every channel and retry failed ones
	ViewAudit      Permission = "view-audit"      // read the audit log
	ManageUsers    Permission = "manage-users"    // add, disable and change the role of accounts
	ManageChannels Permission = "manage-channels" // connect and configure publishing channels
	ManagePolicy   Permission = "manage-policy"   // set approval rules, the pre-election period and retention
	ManageCosts    Permission = "manage-costs"    // set the cost figures behind channel-shift reports
)

// MinRole is the lowest role holding p; "" for an unknown permission, which
// no role holds.
func (p Permission) MinRole() Role {
	switch p {
	case ViewConsole:
		return Viewer
	case Compose, PublishUrgent:
		return Author
	case Approve, Retract, ExportArchive, Deliveries:
		return Approver
	case ViewAudit, ManageUsers, ManageChannels, ManagePolicy, ManageCosts:
		return Admin
	}
	return ""
}

// Can reports whether r holds permission p.
func (r Role) Can(p Permission) bool {
	min := p.MinRole()
	return min != "" && r.AtLeast(min)
}
