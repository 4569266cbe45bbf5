package channel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Doer sends HTTP requests; *http.Client satisfies it. Connectors take one
// so production can pass netsafe's client and tests a client for fakes.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// MaxResponseBytes bounds what a connector reads from a network: API
// answers are small, and a huge body is a fault or an attack.
const MaxResponseBytes = 1 << 20

// Classifier turns a non-2xx response and its body into a classified error.
type Classifier func(resp *http.Response, body []byte) *Error

// Call sends req and decodes a 2xx JSON answer into out (when out is not
// nil). Failures come back classified: transport errors by TransportError,
// other statuses by classify.
func Call(c Doer, req *http.Request, what string, out any, classify Classifier) error {
	resp, err := c.Do(req)
	if err != nil {
		return TransportError(what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return TransportError(what+": read answer", err)
	}
	if len(body) > MaxResponseBytes {
		return &Error{Class: ErrRetryable, Status: resp.StatusCode, Message: what + ": answer too large"}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return classify(resp, body)
	}
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		// A 2xx with a body we cannot read means the network changed or
		// a proxy answered: retrying may reach the real server.
		return &Error{Class: ErrRetryable, Status: resp.StatusCode, Message: what + ": unreadable answer", Err: err}
	}
	return nil
}

// JSONBody encodes v for a request body.
func JSONBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return bytes.NewReader(b), nil
}

// Clock is the time source connectors use to turn reset times into delays.
type Clock func() time.Time
