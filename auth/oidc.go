package auth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/store"
)

// OIDCConfig configures single sign-on through an OpenID Connect provider
// (Microsoft Entra ID at most councils).
type OIDCConfig struct {
	Issuer       string // e.g. https://login.microsoftonline.com/<tenant>/v2.0
	ClientID     string
	ClientSecret string // from SIGNPOST_OIDC_CLIENT_SECRET, never a flag
	RedirectURL  string // the console's callback, e.g. https://signpost.example/auth/callback
	// RoleClaim names the ID token claim that carries roles or groups
	// ("roles" for Entra app roles, "groups" for group ids).
	RoleClaim string
	// RoleMap maps claim values to Signpost roles; the highest match wins.
	RoleMap map[string]Role
	// DefaultRole is given when no claim value maps; "" refuses sign-in,
	// so nobody in the tenant gets in by accident.
	DefaultRole Role
	// LinkByEmail lets a first single sign-on attach to an existing local
	// account with the same address, when the provider says the address
	// is verified. Off by default: some tenants let people set their own
	// address claim.
	LinkByEmail bool
	// Timeout bounds each call to the provider (10 s).
	Timeout time.Duration
}

// LoadOIDCConfig reads single sign-on settings from SIGNPOST_OIDC_*
// variables. It returns nil, nil when SIGNPOST_OIDC_ISSUER is unset:
// single sign-on is optional.
//
//	SIGNPOST_OIDC_ISSUER, SIGNPOST_OIDC_CLIENT_ID, SIGNPOST_OIDC_CLIENT_SECRET,
//	SIGNPOST_OIDC_REDIRECT_URL, SIGNPOST_OIDC_ROLE_CLAIM (default "roles"),
//	SIGNPOST_OIDC_ROLES ("Signpost.Admin=admin,Signpost.Approver=approver"),
//	SIGNPOST_OIDC_DEFAULT_ROLE (default none), SIGNPOST_OIDC_LINK_BY_EMAIL (true/false)
func LoadOIDCConfig(getenv func(string) string) (*OIDCConfig, error) {
	issuer := strings.TrimSpace(getenv("SIGNPOST_OIDC_ISSUER"))
	if issuer == "" {
		return nil, nil
	}
	cfg := &OIDCConfig{
		Issuer: issuer, ClientID: getenv("SIGNPOST_OIDC_CLIENT_ID"), ClientSecret: getenv("SIGNPOST_OIDC_CLIENT_SECRET"),
		RedirectURL: getenv("SIGNPOST_OIDC_REDIRECT_URL"), RoleClaim: getenv("SIGNPOST_OIDC_ROLE_CLAIM"),
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "roles"
	}
	var err error
	if cfg.RoleMap, err = ParseRoleMap(getenv("SIGNPOST_OIDC_ROLES")); err != nil {
		return nil, err
	}
	if d := getenv("SIGNPOST_OIDC_DEFAULT_ROLE"); d != "" {
		if cfg.DefaultRole, err = ParseRole(d); err != nil {
			return nil, fmt.Errorf("SIGNPOST_OIDC_DEFAULT_ROLE: %w", err)
		}
	}
	switch strings.ToLower(getenv("SIGNPOST_OIDC_LINK_BY_EMAIL")) {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		cfg.LinkByEmail = true
	default:
		return nil, signpost.Errorf(signpost.EINVALID, "SIGNPOST_OIDC_LINK_BY_EMAIL: want true or false")
	}
	if cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, signpost.Errorf(signpost.EINVALID, "single sign-on needs SIGNPOST_OIDC_CLIENT_ID and SIGNPOST_OIDC_REDIRECT_URL as well as the issuer")
	}
	return cfg, nil
}

// ParseRoleMap reads "value=role,value=role". A value may contain '='
// (the role is after the last one) but not ','.
func ParseRoleMap(s string) (map[string]Role, error) {
	out := map[string]Role{}
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		i := strings.LastIndex(pair, "=")
		if i < 0 {
			return nil, signpost.Errorf(signpost.EINVALID, "role mapping %q: want claim-value=role", pair)
		}
		value := strings.TrimSpace(pair[:i])
		role, err := ParseRole(pair[i+1:])
		if err != nil || value == "" {
			return nil, signpost.Errorf(signpost.EINVALID, "role mapping %q: want claim-value=role, with role one of viewer, author, approver or admin", pair)
		}
		if prev, ok := out[value]; ok && prev != role {
			return nil, signpost.Errorf(signpost.EINVALID, "role mapping: %q is mapped to both %s and %s", value, prev, role)
		}
		out[value] = role
	}
	return out, nil
}

// OIDC runs the authorisation code flow with PKCE against one provider.
type OIDC struct {
	svc      *Service
	cfg      OIDCConfig
	client   *http.Client
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
}

// NewOIDC discovers the provider's endpoints and keys.
func (s *Service) NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "roles"
	}
	if cfg.DefaultRole != "" && !cfg.DefaultRole.Valid() {
		return nil, signpost.Errorf(signpost.EINVALID, "single sign-on default role %q is not a role", cfg.DefaultRole)
	}
	client := &http.Client{Timeout: cfg.Timeout}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("single sign-on: discover %s: %w", cfg.Issuer, err)
	}
	return &OIDC{
		svc: s, cfg: cfg, client: client, provider: provider,
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: s.cfg.Now}),
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
	}, nil
}

// Flow is what must survive between sending a person to the provider and
// their return: the web layer keeps it in a short-lived HttpOnly cookie (or
// server-side) and hands it back to Exchange. Every field is secret.
type Flow struct {
	State    string // echoed back by the provider; stops login CSRF
	Nonce    string // echoed inside the ID token; stops token replay
	Verifier string // PKCE: proves the code is redeemed by whoever asked for it
}

// AuthURL returns where to send someone to sign in, and the Flow to keep.
func (o *OIDC) AuthURL() (string, Flow) {
	f := Flow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier()}
	return o.oauth.AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier), oidc.Nonce(f.Nonce)), f
}

// Exchange finishes the flow when the provider redirects back with state
// and code: it checks the state, redeems the code with the PKCE verifier,
// verifies the ID token (signature, issuer, audience, expiry, nonce), maps
// its claims to a role, creates or updates the account, and starts a
// session.
func (o *OIDC) Exchange(ctx context.Context, flow Flow, state, code string) (User, Session, error) {
	refused := func(why string) error {
		return signpost.Errorf(signpost.EUNAUTHORIZED, "single sign-on failed (%s): try signing in again", why)
	}
	if flow.State == "" || subtle.ConstantTimeCompare([]byte(flow.State), []byte(state)) != 1 {
		return User{}, Session{}, refused("the sign-in request did not match")
	}
	if code == "" {
		return User{}, Session{}, refused("the provider sent no code")
	}
	ctx = context.WithValue(oidc.ClientContext(ctx, o.client), oauth2.HTTPClient, o.client)
	tok, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return User{}, Session{}, fmt.Errorf("%w: %v", refused("the provider refused the code"), err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return User{}, Session{}, refused("the provider sent no ID token")
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return User{}, Session{}, fmt.Errorf("%w: %v", refused("the ID token did not verify"), err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 || flow.Nonce == "" {
		return User{}, Session{}, refused("the ID token was not issued for this sign-in")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return User{}, Session{}, fmt.Errorf("single sign-on: claims: %w", err)
	}
	id, err := o.identity(idt.Issuer, idt.Subject, claims)
	if err != nil {
		return User{}, Session{}, err
	}
	return o.svc.signInSSO(ctx, id, o.cfg.LinkByEmail)
}

// ssoIdentity is what an ID token says about someone.
type ssoIdentity struct {
	issuer, subject, email, name string
	emailVerified                bool
	role                         Role
	matched                      []string // the claim values that gave the role, for the audit log
}

func (o *OIDC) identity(issuer, subject string, claims map[string]any) (ssoIdentity, error) {
	id := ssoIdentity{issuer: issuer, subject: subject}
	addr, _ := claims["email"].(string)
	if addr == "" {
		// Entra ID puts the sign-in name here when no mailbox is set.
		addr, _ = claims["preferred_username"].(string)
	}
	email, err := NormaliseEmail(addr)
	if err != nil {
		return id, signpost.Errorf(signpost.EFORBIDDEN, "single sign-on gave no usable e-mail address: ask your administrator")
	}
	id.email = email
	id.emailVerified, _ = claims["email_verified"].(bool)
	id.name, _ = claims["name"].(string)
	if id.name, err = checkName(id.name); err != nil {
		id.name = email
	}
	id.role, id.matched = MapClaimRole(claims[o.cfg.RoleClaim], o.cfg.RoleMap)
	if id.role == "" {
		id.role = o.cfg.DefaultRole
	}
	if id.role == "" {
		return id, signpost.Errorf(signpost.EFORBIDDEN, "your organisation has not given you a Signpost role: ask your administrator")
	}
	return id, nil
}

// MapClaimRole maps a claim (a string or a list of strings, as providers
// send roles and groups) to the highest role any of its values maps to,
// and the values that matched; "" when none does.
func MapClaimRole(claim any, roles map[string]Role) (Role, []string) {
	var values []string
	switch c := claim.(type) {
	case string:
		values = []string{c}
	case []any:
		for _, v := range c {
			if s, ok := v.(string); ok {
				values = append(values, s)
			}
		}
	case []string:
		values = c
	}
	var best Role
	var matched []string
	for _, v := range values {
		r, ok := roles[v]
		if !ok || !r.Valid() {
			continue
		}
		matched = append(matched, v)
		if !best.Valid() || !best.AtLeast(r) {
			best = r
		}
	}
	sort.Strings(matched)
	return best, matched
}

// signInSSO finds, links or creates the account for an identity, brings
// its name and role in line with the provider, and starts a session.
func (s *Service) signInSSO(ctx context.Context, id ssoIdentity, linkByEmail bool) (User, Session, error) {
	now := s.now()
	var sess Session
	var out store.User
	var outcome error
	err := s.db.UpdateAccounts(ctx, func(tx *store.Tx) error {
		outcome = nil
		const actor = "system:sso"
		u, err := tx.UserByOIDC(ctx, id.issuer, id.subject)
		switch signpost.ErrorCode(err) {
		case "":
		case signpost.ENOTFOUND:
			u, err = tx.UserByEmail(ctx, id.email)
			switch signpost.ErrorCode(err) {
			case "":
				if u.OIDCSubject != "" || !linkByEmail || !id.emailVerified {
					outcome = signpost.Errorf(signpost.ECONFLICT, "an account with your e-mail address already exists: ask an administrator to link it")
					return nil
				}
				before := userAudit(u)
				u.OIDCIssuer, u.OIDCSubject = id.issuer, id.subject
				if err := tx.UpdateUser(ctx, &u); err != nil {
					return err
				}
				if _, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.Edit, Target: "user:" + u.Email,
					Before: before, After: userAudit(u)}); err != nil {
					return err
				}
			case signpost.ENOTFOUND:
				u = store.User{Email: id.email, Name: id.name, Role: string(id.role), OIDCIssuer: id.issuer, OIDCSubject: id.subject, CreatedAt: now}
				if err := tx.InsertUser(ctx, &u); err != nil {
					return err
				}
				if _, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: audit.UserCreate, Target: "user:" + u.Email,
					After: map[string]any{"account": userAudit(u), "role_claims": id.matched}}); err != nil {
					return err
				}
			default:
				return err
			}
		default:
			return err
		}
		if u.Disabled {
			outcome = signpost.Errorf(signpost.EFORBIDDEN, "this account is disabled: ask an administrator")
			return nil
		}
		if u.Role != string(id.role) || u.Name != id.name || u.Email != id.email {
			before := userAudit(u)
			action := audit.Edit
			if u.Role != string(id.role) {
				action = audit.RoleChange
			}
			u.Role, u.Name, u.Email = string(id.role), id.name, id.email
			if err := tx.UpdateUser(ctx, &u); err != nil {
				return err
			}
			after := userAudit(u)
			after["role_claims"] = id.matched
			if _, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: action, Target: "user:" + u.Email,
				Before: before, After: after}); err != nil {
				return err
			}
		}
		if sess, err = s.startSession(ctx, tx, &u, now); err != nil {
			return err
		}
		out = u
		_, err = audit.Append(ctx, tx, audit.Record{Actor: "user:" + u.Email, Action: audit.SignIn, Target: "user:" + u.Email,
			After: map[string]any{"method": "sso", "issuer": id.issuer}})
		return err
	})
	if err != nil {
		return User{}, Session{}, fmt.Errorf("single sign-on: %w", err)
	}
	if outcome != nil {
		return User{}, Session{}, outcome
	}
	return userFrom(out), sess, nil
}

// flowCookieName names the cookie that carries a Flow between AuthURL and
// the callback; __Host- over HTTPS for the same reason as the session's.
func flowCookieName(secure bool) string {
	if secure {
		return "__Host-signpost_sso"
	}
	return "signpost_sso"
}

// FlowCookie carries f to the callback for ten minutes: HttpOnly, and
// SameSite=Lax, which browsers still send on the provider's top-level
// redirect back (the flow uses the default query response mode, a GET).
func FlowCookie(f Flow, secure bool) *http.Cookie {
	return &http.Cookie{
		Name: flowCookieName(secure), Value: f.State + "." + f.Nonce + "." + f.Verifier, Path: "/",
		MaxAge: 600, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	}
}

// ClearFlowCookie removes the flow cookie once the callback has used it,
// so a flow cannot be finished twice.
func ClearFlowCookie(secure bool) *http.Cookie {
	return &http.Cookie{Name: flowCookieName(secure), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
}

// FlowFromRequest reads the Flow that FlowCookie set; false when there is
// none or it is not one AuthURL could have made.
func FlowFromRequest(r *http.Request, secure bool) (Flow, bool) {
	c, err := r.Cookie(flowCookieName(secure))
	if err != nil {
		return Flow{}, false
	}
	return ParseFlow(c.Value)
}

// ParseFlow reads the cookie form of a Flow: three unpadded base64url
// tokens joined by '.'.
func ParseFlow(s string) (Flow, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Flow{}, false
	}
	for _, p := range parts {
		if len(p) < 32 || len(p) > maxTokenLen || !isBase64URL(p) {
			return Flow{}, false
		}
	}
	return Flow{State: parts[0], Nonce: parts[1], Verifier: parts[2]}, true
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
