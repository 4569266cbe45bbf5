// Package channel defines how Signpost talks to the places a notice is
// published: one small Connector interface that every network (Mastodon,
// Bluesky, Facebook, X, e-mail over SMTP or GOV.UK Notify, webhooks)
// implements in its own subpackage, the Post and Receipt types that cross
// it, and the error classification (permanent or retryable, with a
// Retry-After) that lets delivery decide whether to try again, when, or
// to mark the channel unhealthy.
//
// Per network, what a retry after a lost answer does (package delivery
// records each delivery before reporting success, so this matters only
// when a process dies between the network accepting a post and the
// record being written):
//
//	Mastodon  Idempotency-Key per delivery and part: the retry gets the first status back. Exactly once.
//	X         on a retry, parts already among the account's last 100 posts are reused; X also refuses repeated text. Exactly once.
//	Webhook   X-Signpost-Delivery is stable across retries; receivers drop repeats. Exactly once if receivers dedupe.
//	E-mail    Message-ID is stable per (delivery, address); providers often drop repeats. At least once.
//	Notify    e-mail through GOV.UK Notify: a reference per (delivery, address); a retry looks it up first and skips what Notify took. Exactly once.
//	Bluesky   with a delivery key and CreatedAt, putRecord with a record key derived from them: the retry rewrites the same record. Exactly once.
//	Facebook  no idempotency key; on a retry the connector first looks for the same message among the Page's recent posts. Exactly once unless the Page posted identical text meanwhile.
//
// Throttling: Retry-After (seconds or HTTP-date) first, then X's
// x-rate-limit-reset, Mastodon's X-RateLimit-Reset and Bluesky's
// ratelimit-reset; Facebook's codes 4/17/32/613/80001 in the body with
// X-Business-Use-Case-Usage's estimated_time_to_regain_access.
package channel

import (
	"context"
	"strings"
	"time"
)

// Type names a kind of channel; it is what `signpost channel add <type>`
// takes and what the store records.
type Type string

// The channel types Signpost can publish to.
const (
	Mastodon Type = "mastodon"
	Bluesky  Type = "bluesky"
	Facebook Type = "facebook"
	X        Type = "x"
	Email    Type = "email"
	Webhook  Type = "webhook"
)

// Types lists every channel type.
var Types = []Type{Mastodon, Bluesky, Facebook, X, Email, Webhook}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

// Post is one notice revision rendered for one channel.
type Post struct {
	// Parts is the rendered text: one part for a single post, several for
	// a thread, each already within the network's length limit.
	Parts []string
	// Link is the notice's page on the residents' site.
	Link string
	// Languages are BCP 47 tags of the text, the first being the main one
	// ("en", or "cy" then "en" for Welsh-first bilingual text).
	Languages []string
	// Subject is a one-line summary for channels that have one (e-mail).
	Subject string
	// IdempotencyKey is stable for one (notice revision, channel)
	// delivery, so a retried call can be recognised by networks that
	// support it and by receivers of webhooks.
	IdempotencyKey string
	// Payload is the structured notice for channels that send data rather
	// than text (webhooks); nil elsewhere.
	Payload any
	// CreatedAt is when the notice revision was made. Networks that
	// store a creation time get this one, so a retried post is
	// byte-for-byte the same record (Bluesky).
	CreatedAt time.Time
	// ReplyTo, when set, is an earlier post of the same notice: networks
	// with threads post this one as a reply to its last part (the
	// "resumed" message under the original, or an update where posts
	// cannot be edited).
	ReplyTo *Receipt
	// Retry says an earlier attempt of this delivery may have reached the
	// network, so connectors without idempotency keys look for the post
	// before making it again (Facebook).
	Retry bool
}

// Language is the main language of the post, or "" when not known.
func (p Post) Language() string {
	if len(p.Languages) == 0 {
		return ""
	}
	return p.Languages[0]
}

// Text is every part joined, for channels without threads.
func (p Post) Text() string { return strings.Join(p.Parts, "\n\n") }

// Receipt records where a post went, so it can later be edited or deleted.
type Receipt struct {
	// IDs holds the network's identifier of each part, in thread order.
	IDs []string `json:"ids"`
	// URLs holds the public address of each part where the network gives
	// one.
	URLs []string `json:"urls,omitempty"`
	// CIDs holds Bluesky's content hashes, needed to reply to a part.
	CIDs []string `json:"cids,omitempty"`
}

// Connector publishes to one channel. Implementations must be safe for
// concurrent use and must classify every failure with Permanent or
// Retryable so the caller knows whether trying again can help.
type Connector interface {
	// Publish posts p, as a thread when it has several parts.
	Publish(ctx context.Context, p Post) (Receipt, error)
	// Update replaces an earlier post with p. Networks without editing
	// delete and post again, so the returned Receipt may differ from r.
	Update(ctx context.Context, r Receipt, p Post) (Receipt, error)
	// Delete removes every part of an earlier post. Deleting something
	// already gone is not an error.
	Delete(ctx context.Context, r Receipt) error
	// Health checks the credentials still work, without posting.
	Health(ctx context.Context) error
}
