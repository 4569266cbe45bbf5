// Package manage is what administrators do to channels, from the command
// line (`signpost channel`) and the staff console (/staff/admin/channels)
// alike: add one, with its credential sealed before it is stored; replace
// that credential when a network revokes it; test it now; choose the notice categories it publishes by default; and remove
// it. Every change is audited in the same transaction, never with a
// credential in it. The Alerter e-mails administrators once when a
// channel stops working.
package manage

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/channel"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/netsafe"
	"github.com/signpost-uk/signpost/store"
)

// Keys seal and open channel credentials; *secret.Keyring is one.
type Keys interface {
	Seal(plaintext, context []byte) (string, error)
	Open(sealed string, context []byte) ([]byte, error)
}

// Config wires a Service.
type Config struct {
	DB *store.DB
	// Keys seal new credentials and open stored ones. Nil when the
	// server has no key: listing, categories and removal still work;
	// adding and testing fail with NoKeys.
	Keys   Keys
	NoKeys error
	// Net is how connectors reach the networks, and its allowlist is
	// what a channel's addresses may be besides public ones.
	Net netsafe.Options
}

// Service manages channels.
type Service struct {
	db     *store.DB
	keys   Keys
	noKeys error
	net    delivery.Net
	allow  []netip.Prefix
	conns  *delivery.Connectors
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{db: cfg.DB, keys: cfg.Keys, noKeys: cfg.NoKeys, net: delivery.SafeNet(cfg.Net), allow: cfg.Net.Allow}
	if s.noKeys == nil {
		s.noKeys = signpost.Errorf(signpost.EUNAVAILABLE, "channel credentials cannot be sealed or opened: the server has no SIGNPOST_SECRET_KEY")
	}
	if s.keys != nil {
		s.conns = delivery.NewConnectors(cfg.DB, s.keys, s.net)
	}
	return s
}

// Setting is one non-secret setting of a channel, for display.
type Setting struct{ Label, Value string }

// Channel is a channel as administrators see it: never its credential.
type Channel struct {
	Name       string
	Type       channel.Type
	Settings   []Setting
	Categories []signpost.Category
	Healthy    bool
	LastError  string
	CheckedAt  *time.Time
	CreatedAt  time.Time
}

func view(c store.Channel) Channel {
	var cfg delivery.ChannelConfig
	// Written by Add; a damaged one shows no settings rather than failing
	// the whole list.
	json.Unmarshal(c.Config, &cfg)
	out := Channel{Name: c.Name, Type: channel.Type(c.Type), Categories: cfg.Categories, Healthy: c.Healthy,
		LastError: c.LastError, CheckedAt: c.CheckedAt, CreatedAt: c.CreatedAt}
	for _, f := range settings[out.Type] {
		if v := *setting(&cfg, f.Name); v != "" {
			out.Settings = append(out.Settings, Setting{strings.TrimSuffix(f.Label, " (optional)"), v})
		}
	}
	return out
}

// Channels lists every channel by name.
func (s *Service) Channels(ctx context.Context) ([]Channel, error) {
	cs, err := s.db.Channels(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Channel, len(cs))
	for i, c := range cs {
		out[i] = view(c)
	}
	return out, nil
}

// Channel returns one channel, or ENOTFOUND.
func (s *Service) Channel(ctx context.Context, name string) (Channel, error) {
	c, err := s.db.Channel(ctx, name)
	if err != nil {
		return Channel{}, err
	}
	return view(c), nil
}

// Unhealthy names the channels that have stopped working.
func (s *Service) Unhealthy(ctx context.Context) ([]string, error) {
	return s.db.UnhealthyChannels(ctx)
}

// Pending counts the deliveries to a channel still to be made; removing
// the channel skips them.
func (s *Service) Pending(ctx context.Context, name string) (int, error) {
	return s.db.PendingDeliveries(ctx, name)
}

// Problem is what is wrong with one field of a form.
type Problem struct{ Field, Message string }

// Problems are everything wrong with a new channel, field by field. As an
// error it is EINVALID with every message.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Message
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets signpost.ErrorCode and ErrorMessage read Problems.
func (ps Problems) Unwrap() error { return signpost.Errorf(signpost.EINVALID, "%s", ps.Error()) }

// NewChannel is what an administrator typed to add a channel.
type NewChannel struct {
	Name       string
	Type       channel.Type
	Settings   map[string]string // by Field.Name
	Categories []signpost.Category
	Token      string
}

// Added is the outcome of Add.
type Added struct {
	Channel Channel
	// Secret is a webhook signing secret Signpost made because none was
	// given: shown once, to hand to the receiver, and never again.
	Secret string
}

// Add checks nc, builds its connector (so bad settings fail now, not at
// the first notice), seals its credential bound to its name, and stores
// and audits it in one transaction. What is wrong with the input is
// Problems.
func (s *Service) Add(ctx context.Context, actor string, nc NewChannel) (Added, error) {
	var ps Problems
	if !store.ValidChannelName(nc.Name) {
		ps = append(ps, Problem{"name", "Enter a name of lower-case letters, digits, hyphens or underscores, starting with a letter or digit, like mastodon-main"})
	}
	if !nc.Type.Valid() {
		return Added{}, append(ps, Problem{"type", "Choose mastodon, bluesky, facebook, x, email or webhook"})
	}
	var cfg delivery.ChannelConfig
	var targets []Field
	for _, f := range settings[nc.Type] {
		v := strings.TrimSpace(nc.Settings[f.Name])
		*setting(&cfg, f.Name) = v
		if msg := f.problem(v); msg != "" {
			ps = append(ps, Problem{f.Name, msg})
		} else if f.target(v) != "" {
			targets = append(targets, f)
		}
	}
	token, generated, tps := credential(nc.Type, map[string]string{TokenField: nc.Token}, true)
	ps = append(ps, tps...)
	for _, c := range nc.Categories {
		if !c.Valid() {
			ps = append(ps, Problem{"categories", fmt.Sprintf("Category %q is not one of %s", c, categoryList())})
			break
		}
	}
	if len(ps) > 0 {
		return Added{}, ps
	}
	// Addresses an administrator types must not point Signpost at the
	// council's own network unless the server allows it (--allow-net).
	for _, f := range targets {
		v := *setting(&cfg, f.Name)
		var refused *netsafe.RefusedError
		if err := netsafe.CheckHost(ctx, s.allow, f.target(v)); errors.As(err, &refused) {
			ps = append(ps, Problem{f.Name, fmt.Sprintf("The %s reaches %s, a %s address: Signpost only calls such addresses when the server allows them (--allow-net)",
				f.noun(), refused.Addr, refused.Reason)})
		}
	}
	if len(ps) > 0 {
		return Added{}, ps
	}
	cfg.Categories = nc.Categories
	cfg.NotifyAPI = strings.TrimSpace(nc.Settings[NotifyAPI])
	// What depends on several settings (the transport of an e-mail
	// channel) is the configuration's own rule.
	if err := cfg.Check(nc.Type); err != nil {
		return Added{}, Problems{{fieldNamed(nc.Type, signpost.ErrorMessage(err)), upperFirst(signpost.ErrorMessage(err))}}
	}
	if _, err := delivery.Build(nc.Name, nc.Type, cfg, token, s.net); err != nil {
		return Added{}, Problems{{Fields(nc.Type)[0].Name, upperFirst(err.Error())}}
	}
	sealed, err := s.seal(nc.Name, token)
	if err != nil {
		return Added{}, err
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		return Added{}, err
	}
	var stored store.Channel
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		stored, err = tx.CreateChannel(ctx, store.Channel{Name: nc.Name, Type: string(nc.Type), Config: config, Credentials: sealed})
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.ChannelAdd, Target: target(nc.Name),
			After: map[string]any{"type": nc.Type, "config": json.RawMessage(config), "credential": "sealed"}})
		return err
	})
	if signpost.ErrorCode(err) == signpost.ECONFLICT {
		return Added{}, Problems{{"name", "A channel with this name already exists: choose another name"}}
	}
	if err != nil {
		return Added{}, err
	}
	out := Added{Channel: view(stored)}
	if generated {
		out.Secret = token
	}
	return out, nil
}

// credential checks what was typed into a type's secret fields, by
// Field.Name, and returns the credential to seal. When adding (generate),
// an empty webhook secret is made here so the receiver can be handed it;
// a replacement must be typed.
func credential(typ channel.Type, values map[string]string, generate bool) (token string, generated bool, ps Problems) {
	for _, f := range SecretFields(typ) {
		v := strings.TrimSpace(values[f.Name])
		if typ == channel.Webhook {
			if v == "" && generate {
				var b [32]byte
				rand.Read(b[:])
				v, generated = base64.RawURLEncoding.EncodeToString(b[:]), true
			}
			if len(v) < 16 {
				msg := "The signing secret must be at least 16 characters"
				if generate {
					msg += ", or leave it empty for Signpost to make one"
				}
				ps = append(ps, Problem{f.Name, msg})
			}
		} else if msg := f.problem(v); msg != "" {
			ps = append(ps, Problem{f.Name, msg})
		}
		token = v
	}
	return token, generated, ps
}

// seal encrypts a channel's credential bound to its name, so a sealed
// value copied to another channel's row does not open.
func (s *Service) seal(name, token string) (string, error) {
	if s.keys == nil {
		return "", s.noKeys
	}
	return s.keys.Seal([]byte(token), []byte(name))
}

// ReplaceCredentials seals new values for a channel's secret fields (by
// Field.Name) and stores and audits them in one transaction, then checks
// the channel with them as Test does, so a working replacement marks a
// channel that had stopped working as healthy again. Its pending
// deliveries are kept: they use the new credential when next tried.
func (s *Service) ReplaceCredentials(ctx context.Context, actor, name string, values map[string]string) (Result, error) {
	c, err := s.db.Channel(ctx, name)
	if err != nil {
		return Result{}, err
	}
	token, _, ps := credential(channel.Type(c.Type), values, false)
	if len(ps) > 0 {
		return Result{}, ps
	}
	sealed, err := s.seal(name, token)
	if err != nil {
		return Result{}, err
	}
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetChannelCredentials(ctx, name, sealed); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.ChannelCredentials, Target: target(name),
			After: map[string]any{"credential": "replaced"}})
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return s.Test(ctx, actor, name)
}

func target(name string) string { return "channel:" + name }

var flagName = regexp.MustCompile(`--([a-z-]+)`)

// fieldNamed finds the field a configuration check's message names by
// its flag, or the type's first field.
func fieldNamed(typ channel.Type, msg string) string {
	fields := Fields(typ)
	if m := flagName.FindStringSubmatch(msg); m != nil {
		for _, f := range fields {
			if f.Flag() == m[1] {
				return f.Name
			}
		}
	}
	return fields[0].Name
}

func categoryList() string {
	names := make([]string, len(signpost.Categories))
	for i, c := range signpost.Categories {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Result is the outcome of a health check.
type Result struct {
	Healthy bool
	// Message is the network's answer when the check failed.
	Message string
	// Recorded says the channel's health was updated: a permanent failure
	// or a success is, a timeout or rate limit says nothing about the
	// credentials and is not.
	Recorded bool
}

// healthTimeout bounds a check, which an administrator waits for.
const healthTimeout = 30 * time.Second

// Test runs a channel's health check now (its credentials are used, but
// nothing is posted), records the result and audits it.
func (s *Service) Test(ctx context.Context, actor, name string) (Result, error) {
	if s.conns == nil {
		return Result{}, s.noKeys
	}
	conn, err := s.conns.Get(ctx, name)
	if err != nil {
		return Result{}, err
	}
	hctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	herr := conn.Health(hctx)
	res := Result{Healthy: herr == nil, Recorded: herr == nil || channel.IsPermanent(herr)}
	if herr != nil {
		res.Message = herr.Error()
	}
	if res.Recorded {
		if err := s.db.SetChannelHealth(ctx, name, res.Healthy, res.Message); err != nil {
			return Result{}, err
		}
	}
	err = s.db.UpdateQuietly(ctx, func(tx *store.Tx) error {
		_, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.ChannelTest, Target: target(name),
			After: map[string]any{"healthy": res.Healthy, "error": res.Message, "recorded": res.Recorded}})
		return err
	})
	return res, err
}

// SetCategories changes the notice categories a channel publishes by
// default.
func (s *Service) SetCategories(ctx context.Context, actor, name string, cats []signpost.Category) error {
	for _, c := range cats {
		if !c.Valid() {
			return Problems{{"categories", fmt.Sprintf("Category %q is not one of %s", c, categoryList())}}
		}
	}
	slices.Sort(cats)
	cats = slices.Compact(cats)
	return s.db.Update(ctx, func(tx *store.Tx) error {
		c, err := tx.Channel(ctx, name)
		if err != nil {
			return err
		}
		// Through a map, so settings this version does not know survive.
		var cfg map[string]any
		if err := json.Unmarshal(c.Config, &cfg); err != nil || cfg == nil {
			return fmt.Errorf("channel %s: configuration: %v", name, err)
		}
		before := cfg["categories"]
		if len(cats) == 0 {
			delete(cfg, "categories")
		} else {
			cfg["categories"] = cats
		}
		config, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		if err := tx.SetChannelConfig(ctx, name, config); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.ChannelEdit, Target: target(name),
			Before: map[string]any{"categories": before}, After: map[string]any{"categories": cats}})
		return err
	})
}

// RemovedReason is what a removed channel's pending deliveries say.
const RemovedReason = "the channel was removed"

// Remove deletes a channel and skips its pending deliveries, in one
// audited transaction, and reports how many it skipped. What it posted
// stays on the network: Signpost can no longer edit or delete it.
func (s *Service) Remove(ctx context.Context, actor, name string) (skipped int, err error) {
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		c, err := tx.Channel(ctx, name)
		if err != nil {
			return err
		}
		if err := tx.DeleteChannel(ctx, name); err != nil {
			return err
		}
		if skipped, err = tx.SkipPendingDeliveries(ctx, name, RemovedReason); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.ChannelRemove, Target: target(name),
			Before: map[string]any{"type": c.Type, "config": c.Config}, After: map[string]any{"pending_deliveries_skipped": skipped}})
		return err
	})
	return skipped, err
}
