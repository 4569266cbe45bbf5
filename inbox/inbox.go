// Package inbox is the residents' inbox: questions arriving from every
// channel (social mentions and messages, e-mail, the enquiry form),
// threaded into one conversation per resident per channel, triaged (a
// suggested category, the places mentioned, the current notices that
// answer it, the screener's flags), answered through the channel they came
// from, and counted as digital contacts.
//
// The types here are shared by the message sources (which call the
// store's Ingest), the store, the console and the reply worker. Message
// text is personal data: it never goes to a log.
package inbox

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signpost-uk/signpost"
)

// Kinds of incoming message.
const (
	KindMention = "mention"
	KindReply   = "reply"
	KindDirect  = "direct"
	KindComment = "comment"
	KindEmail   = "email"
	KindForm    = "form"
)

// Channel names that are not rows in the channels table.
const (
	ChannelForm  = "form"  // the residents' enquiry form
	ChannelEmail = "email" // the monitored mailbox
)

// Incoming is one message as a source hands it to the store.
type Incoming struct {
	Channel    string // channels.name it arrived on; "form" for the enquiry form, "email" for the monitored mailbox
	Kind       string // "mention", "reply", "direct", "comment", "email", "form"
	ExternalID string // the platform's id of this message; (Channel, ExternalID) is unique, so ingest is idempotent
	ThreadRef  string // the platform id of the post or conversation it belongs to ("" if none)
	Author     string // handle, page-scoped id or e-mail address
	AuthorName string
	Text       string
	ReceivedAt time.Time
}

// MaxTextBytes bounds a stored message. Longer text (a long e-mail) is
// cut at a character boundary rather than refused, so that a source never
// sticks on one message.
const MaxTextBytes = 64 << 10

// Normalise trims the identifying fields, cuts over-long text and checks
// what a message cannot do without, returning an EINVALID error naming the
// field.
func (in Incoming) Normalise() (Incoming, error) {
	in.Channel = strings.TrimSpace(in.Channel)
	in.Kind = strings.TrimSpace(in.Kind)
	in.ExternalID = strings.TrimSpace(in.ExternalID)
	in.ThreadRef = strings.TrimSpace(in.ThreadRef)
	in.Author = strings.TrimSpace(in.Author)
	in.AuthorName = strings.TrimSpace(in.AuthorName)
	if in.Kind == KindEmail || in.Kind == KindForm {
		// E-mail addresses are case-insensitive in practice; one
		// resident is one conversation whatever case they type.
		in.Author = strings.ToLower(in.Author)
	}
	switch {
	case in.Channel == "":
		return in, signpost.Errorf(signpost.EINVALID, "incoming message: channel is required")
	case !validKind(in.Kind):
		return in, signpost.Errorf(signpost.EINVALID, "incoming message: kind %q is not one of mention, reply, direct, comment, email, form", in.Kind)
	case in.ExternalID == "":
		return in, signpost.Errorf(signpost.EINVALID, "incoming message: external id is required")
	case in.Author == "":
		return in, signpost.Errorf(signpost.EINVALID, "incoming message: author is required")
	case len(in.ExternalID) > 512 || len(in.ThreadRef) > 512 || len(in.Author) > 512 || len(in.AuthorName) > 512:
		return in, signpost.Errorf(signpost.EINVALID, "incoming message: external id, thread, author and name must each be under 512 bytes")
	}
	in.Text = cut(strings.ToValidUTF8(in.Text, "\uFFFD"), MaxTextBytes)
	in.AuthorName = strings.ToValidUTF8(in.AuthorName, "\uFFFD")
	return in, nil
}

func validKind(k string) bool {
	switch k {
	case KindMention, KindReply, KindDirect, KindComment, KindEmail, KindForm:
		return true
	}
	return false
}

// cut shortens s to at most n bytes without splitting a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// OutgoingReply is one reply as the Replier sends it.
type OutgoingReply struct {
	Key       string // idempotency key: the same reply retried carries the same key
	InReplyTo string // ExternalID of the message answered
	ThreadRef string
	To        string // the resident: handle, page-scoped id or e-mail address
	Text      string
}

// Replier sends a reply through the channel a message came from, threaded
// where the network allows, and returns the network's id of the reply. A
// retry with the same Key must not post twice.
type Replier interface {
	Reply(ctx context.Context, channelName string, r OutgoingReply) (externalID string, err error)
}

// Status is where a conversation stands.
type Status string

// Conversation statuses.
const (
	StatusOpen    Status = "open"    // the council owes an answer
	StatusWaiting Status = "waiting" // answered; waiting for the resident
	StatusClosed  Status = "closed"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == StatusOpen || s == StatusWaiting || s == StatusClosed }

// Conversation is every message from one resident on one channel.
type Conversation struct {
	ID            int64
	Channel       string
	Author        string
	AuthorName    string
	Status        Status
	Urgent        bool   // a safeguarding concern: first in the queue
	Category      string // the suggested (or staff-set) category
	Assignee      string // "user:<e-mail>", "team:<name>" or ""
	OpenedAt      time.Time
	AwaitingSince *time.Time // the oldest unanswered message; nil when answered
	LastMessageAt time.Time
	ClosedAt      *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Flags         []string // screening categories flagged on any of its messages
}

// PlaceMatch is a place a message mentions.
type PlaceMatch struct {
	Kind string `json:"kind"` // school, ward, route or postcode
	ID   string `json:"id"`   // URN, ward code, route id or normalised postcode
	Name string `json:"name"`
}

// Message is one stored incoming message with its triage.
type Message struct {
	ID             int64
	ConversationID int64
	Incoming
	Category     string
	Places       []PlaceMatch
	Notices      []int64 // current notices that may answer it
	Flags        []string
	CreatedAt    time.Time
	TriagedAt    *time.Time
	EscalatedAt  *time.Time
	RedactedAt   *time.Time
	AnonymisedAt *time.Time
}

// Flagged reports whether the screener found abuse or a threat, so the
// text must never be quoted back to a resident.
func (m Message) Flagged() bool {
	for _, f := range m.Flags {
		if f == FlagAbuse || f == FlagThreat {
			return true
		}
	}
	return false
}

// Screening flags kept on messages.
const (
	FlagAbuse        = "abuse"
	FlagThreat       = "threat"
	FlagSafeguarding = "safeguarding"
)

// Reply states.
const (
	ReplyApproval = "approval" // risky: waiting for another person to approve
	ReplyQueued   = "queued"   // waiting for the reply worker
	ReplySent     = "sent"
	ReplyFailed   = "failed" // the network refused it for good
	ReplyRejected = "rejected"
)

// Reply is a staff answer, stored before it is sent.
type Reply struct {
	ID             int64
	ConversationID int64
	MessageID      int64 // the message answered
	Key            string
	Text           string
	Author         string // "user:<e-mail>"
	State          string
	Flags          []string
	NoticeID       *int64 // the notice it quotes, if any
	ApprovedBy     string
	ExternalID     string
	LastError      string
	CreatedAt      time.Time
	SentAt         *time.Time
}

// Note is an internal note on a conversation. It is never sent.
type Note struct {
	ID             int64
	ConversationID int64
	Author         string
	Text           string
	CreatedAt      time.Time
}

// SavedReply is a reusable answer an administrator keeps.
type SavedReply struct {
	ID        int64
	Title     string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Triage is what the inbox works out about one incoming message.
type Triage struct {
	Category string       // suggested category, "" if none stands out
	Places   []PlaceMatch // places mentioned
	Notices  []int64      // current notices that may answer it
	Flags    []string     // screening categories: abuse, threat, safeguarding
	Urgent   bool         // safeguarding: jump the queue and tell the duty officer
}
