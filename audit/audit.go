// Package audit keeps Signpost's append-only record of who did what, when,
// to what, with the state before and after: the answer to an auditor or a
// Freedom of Information request. Entries form a hash chain (each entry's
// SHA-256 covers its fields and its predecessor's hash), so editing,
// deleting or reordering stored entries is detected by Verify. Callers
// append inside their own transaction, so an action and its audit entry
// commit or fail together.
//
// The chain shows tampering by someone who edits rows but does not
// recompute every later hash. Recording the head hash that Verify reports
// somewhere else (a ticket, a signed e-mail) extends that to someone who
// does.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
)

// Action names what was done. The list is open: new capabilities add
// their own, in the same lower-case, hyphenated form.
type Action string

// The actions Signpost records.
const (
	SignIn        Action = "sign-in"
	SignInFailed  Action = "sign-in-failed"
	SignOut       Action = "sign-out"
	LockOut       Action = "lock-out"
	Create        Action = "create"
	Edit          Action = "edit"
	Submit        Action = "submit"
	Approve       Action = "approve"
	Return        Action = "return"
	Publish       Action = "publish"
	Retract       Action = "retract"
	Close         Action = "close"
	RoleChange    Action = "role-change"
	PolicyChange  Action = "policy-change"
	UserCreate    Action = "user-create"
	UserDisable   Action = "user-disable"
	UserEnable    Action = "user-enable"
	PasswordReset Action = "password-reset"
	Export        Action = "export"
	Purge         Action = "purge"
	ChannelAdd    Action = "channel-add"
	ChannelEdit   Action = "channel-edit"
	ChannelTest   Action = "channel-test"
	ChannelRemove Action = "channel-remove"
	// ChannelCredentials replaces a channel's credential; the entry never
	// holds it.
	ChannelCredentials Action = "channel-credentials"
)

// Record is what a caller knows about an action. Before and After are
// encoded as JSON (nil means nothing); they must not hold secrets such as
// password hashes or tokens.
type Record struct {
	Actor  string // who: "user:<e-mail>", "cli:<os user>", "system:<job>"
	Action Action
	Target string // what: "notice:42", "user:<e-mail>", "policy"
	Before any
	After  any
}

// Entry is a stored audit entry.
type Entry struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   Action          `json:"action"`
	Target   string          `json:"target"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Append adds r to the log inside tx, timed by the transaction's clock.
func Append(ctx context.Context, tx *store.Tx, r Record) (Entry, error) {
	if strings.TrimSpace(r.Actor) == "" || strings.TrimSpace(string(r.Action)) == "" || strings.TrimSpace(r.Target) == "" {
		return Entry{}, signpost.Errorf(signpost.EINVALID, "an audit entry needs an actor, an action and a target")
	}
	before, err := encode(r.Before)
	if err != nil {
		return Entry{}, fmt.Errorf("audit %s %s: before: %w", r.Action, r.Target, err)
	}
	after, err := encode(r.After)
	if err != nil {
		return Entry{}, fmt.Errorf("audit %s %s: after: %w", r.Action, r.Target, err)
	}
	row := store.AuditRow{At: tx.Now(), Actor: r.Actor, Action: string(r.Action), Target: r.Target, Before: before, After: after}
	if err := tx.AppendAudit(ctx, &row, Hash); err != nil {
		return Entry{}, err
	}
	return fromRow(row), nil
}

func encode(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case json.RawMessage:
		if !json.Valid(v) {
			return "", fmt.Errorf("not valid JSON")
		}
		return string(v), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return "", nil
	}
	return string(b), nil
}

// Hash is the entry's SHA-256 (hex) over a canonical encoding of every
// field but the hash itself: a version tag, then each field as its byte
// length, a colon and its bytes, so that no two different entries encode
// alike however their fields are split. Times are UTC to the microsecond,
// which both engines store exactly.
func Hash(r store.AuditRow) string {
	var b strings.Builder
	b.WriteString("signpost-audit-v1\n")
	for _, f := range []string{
		strconv.FormatInt(r.Seq, 10),
		r.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		r.Actor, r.Action, r.Target, r.Before, r.After, r.PrevHash,
	} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func fromRow(r store.AuditRow) Entry {
	e := Entry{Seq: r.Seq, At: r.At, Actor: r.Actor, Action: Action(r.Action), Target: r.Target, PrevHash: r.PrevHash, Hash: r.Hash}
	if r.Before != "" {
		e.Before = json.RawMessage(r.Before)
	}
	if r.After != "" {
		e.After = json.RawMessage(r.After)
	}
	return e
}

// Filter selects entries for List.
type Filter = store.AuditFilter

// List returns entries in chain order.
func List(ctx context.Context, db *store.DB, f Filter) ([]Entry, error) {
	rows, err := db.AuditEntries(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}
