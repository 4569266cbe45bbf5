package fake

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// NotifyEmail is an e-mail notification as the fake stores it.
type NotifyEmail struct {
	ID          string
	Reference   string
	To          string
	TemplateID  string
	ReplyToID   string
	Subject     string // the template's subject filled in
	Body        string // the template's body filled in
	Unsubscribe string // one_click_unsubscribe_url
	Status      string
	Created     time.Time
}

type notifyTemplate struct {
	id, typ, subject, body string
}

// Notify fakes the parts of GOV.UK Notify's API that send e-mail: POST
// /v2/notifications/email, GET /v2/notifications (with reference,
// template_type and older_than, 250 a page, newest first), GET
// /v2/notifications/{id} and GET /v2/template/{id}. Every request must
// carry a JWT signed with HS256 by the secret of the key Key returns,
// with iss the service id and iat within 30 seconds of the fake's clock;
// otherwise the answer is 401 or 403 AuthError, as Notify's. Errors use
// Notify's body {"errors": [{"error", "message"}], "status_code"}.
// Besides the shared faults (Unauthorized is a revoked key, Expired a
// clock more than 30 seconds out), it can lose answers (LoseAnswers) and
// refuse sends over the daily limit (ExceedDailyLimit).
type Notify struct {
	*httptest.Server
	faults
	ServiceID string
	// TemplateID is an e-mail template with the subject ((subject)) and
	// the body ((body)), as Signpost's README says to make.
	TemplateID string
	// ReplyToID is the service's one reply-to address.
	ReplyToID string
	// Now is the fake's clock, for the 30-second check of iat; set it
	// before the first request.
	Now func() time.Time

	secret    string
	mu        sync.Mutex
	emails    []*NotifyEmail
	templates map[string]notifyTemplate
}

// NewNotify starts a fake Notify with one service, one API key and one
// e-mail template. Close it when done.
func NewNotify() *Notify {
	n := &Notify{ServiceID: newUUID(), secret: newUUID(), ReplyToID: newUUID(), Now: time.Now, templates: map[string]notifyTemplate{}}
	n.faults.now = time.Now
	n.TemplateID = n.AddTemplate("email", "((subject))", "((body))")
	n.Server = newServer(http.HandlerFunc(n.serve))
	return n
}

// Key returns an API key for the service as Notify shows it:
// {name}-{service id}-{secret}.
func (n *Notify) Key(name string) string { return name + "-" + n.ServiceID + "-" + n.secret }

// AddTemplate adds a template of a type (email, sms, letter) and returns
// its id.
func (n *Notify) AddTemplate(typ, subject, body string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	id := newUUID()
	n.templates[id] = notifyTemplate{id: id, typ: typ, subject: subject, body: body}
	return id
}

// Emails returns a copy of every e-mail Notify took, oldest first.
func (n *Notify) Emails() []NotifyEmail {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]NotifyEmail, len(n.emails))
	for i, e := range n.emails {
		out[i] = *e
	}
	return out
}

// SetStatus changes the status of the notifications with a reference,
// e.g. to technical-failure.
func (n *Notify) SetStatus(reference, status string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range n.emails {
		if e.Reference == reference {
			e.Status = status
		}
	}
}

// LoseAnswers makes the next k calls do their work and then drop the
// connection before answering: the send happened, the caller cannot know.
func (n *Notify) LoseAnswers(k int) { n.Fail(k, notifyLost) }

// ExceedDailyLimit makes the next k calls fail as sends over the
// service's daily limit do: 429 TooManyRequestsError.
func (n *Notify) ExceedDailyLimit(k int) { n.Fail(k, notifyDailyLimit) }

// Notify-only faults, so not exported as Faults.
const (
	notifyLost Fault = iota + 200
	notifyDailyLimit
)

func notifyError(w http.ResponseWriter, status int, kind, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"error": kind, "message": msg}}, "status_code": status})
}

func (n *Notify) serve(w http.ResponseWriter, r *http.Request) {
	switch f := n.next(); f {
	case 0:
	case RateLimited:
		// Notify sends no Retry-After.
		notifyError(w, http.StatusTooManyRequests, "RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds")
		return
	case notifyDailyLimit:
		notifyError(w, http.StatusTooManyRequests, "TooManyRequestsError", "Exceeded send limits (250000) for today")
		return
	case ServerError:
		notifyError(w, http.StatusInternalServerError, "Exception", "Internal server error")
		return
	case Unauthorized:
		notifyError(w, http.StatusForbidden, "AuthError", "Invalid token: API key not found")
		return
	case Expired:
		notifyError(w, http.StatusForbidden, "AuthError", "Error: Your system clock must be accurate to within 30 seconds")
		return
	case notifyLost:
		rec := httptest.NewRecorder()
		n.handle(rec, r)
		hangUp(w)
		return
	default:
		n.apply(w, r, f, nil, nil)
		return
	}
	n.handle(w, r)
}

func (n *Notify) handle(w http.ResponseWriter, r *http.Request) {
	if !n.authorised(w, r) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	path := r.URL.Path
	switch {
	case path == "/v2/notifications/email" && r.Method == http.MethodPost:
		n.sendEmail(w, r)
	case path == "/v2/notifications" && r.Method == http.MethodGet:
		n.list(w, r)
	case strings.HasPrefix(path, "/v2/notifications/") && r.Method == http.MethodGet:
		id := strings.TrimPrefix(path, "/v2/notifications/")
		for _, e := range n.emails {
			if e.ID == id {
				writeJSON(w, http.StatusOK, n.notification(e))
				return
			}
		}
		notifyError(w, http.StatusNotFound, "NoResultFound", "No result found")
	case strings.HasPrefix(path, "/v2/template/") && r.Method == http.MethodGet:
		t, ok := n.templates[strings.TrimPrefix(path, "/v2/template/")]
		if !ok {
			notifyError(w, http.StatusNotFound, "NoResultFound", "No result found")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": t.id, "type": t.typ, "version": 1, "name": "Signpost updates",
			"subject": t.subject, "body": t.body, "personalisation": placeholderSchema(t.subject + t.body),
			"created_at": "2026-01-05T09:00:00.000000Z", "updated_at": nil, "created_by": "comms@northdale.gov.uk",
			"letter_contact_block": nil, "postage": nil})
	default:
		notifyError(w, http.StatusNotFound, "ResourceNotFound", "The requested URL was not found on the server.")
	}
}

// authorised checks the bearer JWT as Notify does.
func (n *Notify) authorised(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		notifyError(w, http.StatusUnauthorized, "AuthError", "Unauthorized: authentication token must be provided")
		return false
	}
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		notifyError(w, http.StatusUnauthorized, "AuthError", "Unauthorized: authentication bearer scheme must be used")
		return false
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if iss, _ := claims["iss"].(string); iss != n.ServiceID {
			return nil, errNoService
		}
		return []byte(n.secret), nil
	}, jwt.WithValidMethods([]string{"HS256"}))
	switch {
	case errors.Is(err, errNoService):
		notifyError(w, http.StatusForbidden, "AuthError", "Invalid token: service not found")
		return false
	case err != nil:
		notifyError(w, http.StatusForbidden, "AuthError", "Invalid token: signature, api token not found")
		return false
	}
	iat, ok := claims["iat"].(float64)
	if !ok {
		notifyError(w, http.StatusForbidden, "AuthError", "Invalid token: iat field not provided")
		return false
	}
	if d := n.Now().Sub(time.Unix(int64(iat), 0)); d > 30*time.Second || d < -30*time.Second {
		notifyError(w, http.StatusForbidden, "AuthError", "Error: Your system clock must be accurate to within 30 seconds")
		return false
	}
	return true
}

var errNoService = errors.New("service not found")

var (
	uuidPattern        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	placeholderPattern = regexp.MustCompile(`\(\(([^()]+)\)\)`)
)

func (n *Notify) sendEmail(w http.ResponseWriter, r *http.Request) {
	var in struct {
		EmailAddress    *string        `json:"email_address"`
		TemplateID      *string        `json:"template_id"`
		Personalisation map[string]any `json:"personalisation"`
		Reference       *string        `json:"reference"`
		ReplyToID       *string        `json:"email_reply_to_id"`
		Unsubscribe     *string        `json:"one_click_unsubscribe_url"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &in); err != nil {
		notifyError(w, http.StatusBadRequest, "BadRequestError", "Invalid JSON supplied in POST data")
		return
	}
	var problems []string
	switch {
	case in.EmailAddress == nil:
		problems = append(problems, "email_address is a required property")
	case !validEmail(*in.EmailAddress):
		problems = append(problems, "email_address Not a valid email address")
	}
	switch {
	case in.TemplateID == nil:
		problems = append(problems, "template_id is a required property")
	case !uuidPattern.MatchString(*in.TemplateID):
		problems = append(problems, "template_id is not a valid UUID")
	}
	if in.ReplyToID != nil && !uuidPattern.MatchString(*in.ReplyToID) {
		problems = append(problems, "email_reply_to_id is not a valid UUID")
	}
	if in.Unsubscribe != nil {
		if u, err := url.Parse(*in.Unsubscribe); err != nil || u.Scheme != "https" || u.Host == "" {
			problems = append(problems, "one_click_unsubscribe_url is not a valid https url")
		}
	}
	if len(problems) > 0 {
		errs := make([]map[string]string, len(problems))
		for i, p := range problems {
			errs[i] = map[string]string{"error": "ValidationError", "message": p}
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": errs, "status_code": http.StatusBadRequest})
		return
	}
	t, ok := n.templates[*in.TemplateID]
	if !ok {
		notifyError(w, http.StatusBadRequest, "BadRequestError", "Template not found")
		return
	}
	if t.typ != "email" {
		notifyError(w, http.StatusBadRequest, "BadRequestError", t.typ+" template is not suitable for email notification")
		return
	}
	if in.ReplyToID != nil && *in.ReplyToID != n.ReplyToID {
		notifyError(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("email_reply_to_id %s does not exist in database for service id %s", *in.ReplyToID, n.ServiceID))
		return
	}
	var missing []string
	fill := func(s string) string {
		return placeholderPattern.ReplaceAllStringFunc(s, func(m string) string {
			name := m[2 : len(m)-2]
			v, ok := in.Personalisation[name]
			if !ok {
				missing = append(missing, name)
				return m
			}
			return fmt.Sprint(v)
		})
	}
	// Notify puts the subject on one line.
	subject := strings.Join(strings.Fields(fill(t.subject)), " ")
	text := fill(t.body)
	if len(missing) > 0 {
		sort.Strings(missing)
		notifyError(w, http.StatusBadRequest, "BadRequestError", "Missing personalisation: "+strings.Join(missing, ", "))
		return
	}
	e := &NotifyEmail{ID: newUUID(), To: *in.EmailAddress, TemplateID: t.id, Subject: subject, Body: text, Status: "created", Created: n.Now()}
	if in.Reference != nil {
		e.Reference = *in.Reference
	}
	if in.ReplyToID != nil {
		e.ReplyToID = *in.ReplyToID
	}
	if in.Unsubscribe != nil {
		e.Unsubscribe = *in.Unsubscribe
	}
	n.emails = append(n.emails, e)
	base := "http://" + r.Host
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": e.ID, "reference": nullable(e.Reference),
		"content": map[string]any{"subject": e.Subject, "body": e.Body, "from_email": "northdale.council@notifications.service.gov.uk",
			"one_click_unsubscribe_url": nullable(e.Unsubscribe)},
		"uri":      base + "/v2/notifications/" + e.ID,
		"template": map[string]any{"id": t.id, "version": 1, "uri": base + "/v2/template/" + t.id},
	})
}

// list serves GET /v2/notifications, newest first, 250 a page.
func (n *Notify) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "reference" && k != "template_type" && k != "status" && k != "older_than" && k != "include_jobs" {
			notifyError(w, http.StatusBadRequest, "ValidationError", "Additional properties are not allowed ("+k+" was unexpected)")
			return
		}
	}
	if tt := q.Get("template_type"); tt != "" && tt != "email" && tt != "sms" && tt != "letter" {
		notifyError(w, http.StatusBadRequest, "ValidationError", "template_type "+tt+" is not one of [sms, email, letter]")
		return
	}
	older := q.Get("older_than")
	skipping := older != ""
	out := []map[string]any{}
	var last string
	for i := len(n.emails) - 1; i >= 0 && len(out) < 250; i-- {
		e := n.emails[i]
		if skipping {
			skipping = e.ID != older
			continue
		}
		if ref, ok := q["reference"]; ok && e.Reference != ref[0] {
			continue
		}
		if tt := q.Get("template_type"); tt != "" && tt != "email" {
			continue
		}
		out = append(out, n.notification(e))
		last = e.ID
	}
	current := "http://" + r.Host + r.URL.RequestURI()
	links := map[string]string{"current": current}
	if last != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("older_than", last)
		links["next"] = "http://" + r.Host + "/v2/notifications?" + nq.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": out, "links": links})
}

func (n *Notify) notification(e *NotifyEmail) map[string]any {
	return map[string]any{"id": e.ID, "reference": nullable(e.Reference), "email_address": e.To, "phone_number": nil,
		"line_1": nil, "line_2": nil, "line_3": nil, "line_4": nil, "line_5": nil, "line_6": nil, "postcode": nil, "postage": nil,
		"type": "email", "status": e.Status, "template": map[string]any{"id": e.TemplateID, "version": 1},
		"body": e.Body, "subject": e.Subject, "created_at": e.Created.UTC().Format("2006-01-02T15:04:05.000000Z"),
		"created_by_name": nil, "sent_at": nil, "completed_at": nil, "scheduled_for": nil,
		"one_click_unsubscribe_url": nullable(e.Unsubscribe)}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// placeholderSchema is the personalisation a template asks for, as GET
// /v2/template/{id} gives it.
func placeholderSchema(text string) map[string]any {
	out := map[string]any{}
	for _, m := range placeholderPattern.FindAllStringSubmatch(text, -1) {
		out[m[1]] = map[string]bool{"required": true}
	}
	return out
}

// validEmail is a rough form of Notify's check: one address, no display
// name, a dot in the domain.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	return strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".")
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
