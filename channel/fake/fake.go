// Package fake runs stand-ins for the social networks Signpost posts to
// (Mastodon, Bluesky, the Facebook Graph API and X) and for GOV.UK Notify
// as httptest servers.
// Each validates requests as the network documents them (authentication,
// body shape, length limits, facet byte ranges), answers in the network's
// documented formats, records what was posted, and can be told to fail
// the next calls in the ways real networks do: 429 with Retry-After, 5xx,
// revoked tokens, expired sessions, dropped connections and timeouts.
package fake

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Fault is one kind of failure to inject.
type Fault int

// The failures a fake can inject.
const (
	// RateLimited answers 429 with the network's rate-limit headers and
	// a Retry-After of RetryAfter seconds.
	RateLimited Fault = iota + 1
	// ServerError answers 500.
	ServerError
	// BadGateway answers 502.
	BadGateway
	// Unavailable answers 503 with Retry-After.
	Unavailable
	// Unauthorized answers as the network does for a revoked token.
	Unauthorized
	// Expired answers as the network does for an expired session or
	// token (Bluesky ExpiredToken, Facebook code 190, 401 elsewhere).
	Expired
	// Hang holds the request until the client gives up: a timeout.
	Hang
	// Reset closes the connection without an answer.
	Reset
)

// RetryAfter is the delay, in seconds, that injected 429s and 503s ask for.
const RetryAfter = 7

// faults is a queue of failures for the next calls, shared by the fakes.
type faults struct {
	mu    sync.Mutex
	queue []Fault
	calls int
	now   func() time.Time
	// rate, kinds and rng inject faults at random, for chaos tests.
	rate   float64
	kinds  []Fault
	rng    *rand.Rand
	failed int
}

// FailRandomly makes each later call fail with probability rate, with a
// kind drawn from kinds, reproducibly from seed. Queued faults come first.
func (q *faults) FailRandomly(rate float64, seed uint64, kinds ...Fault) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rate, q.kinds, q.rng = rate, kinds, rand.New(rand.NewPCG(seed, seed^0x5eed))
}

// Injected is how many calls the fake failed on purpose.
func (q *faults) Injected() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failed
}

// Fail makes the next n calls fail with f (after any already queued).
func (q *faults) Fail(n int, f Fault) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for range n {
		q.queue = append(q.queue, f)
	}
}

// Calls is how many requests the fake has received, failed or not.
func (q *faults) Calls() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.calls
}

func (q *faults) next() Fault {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if len(q.queue) == 0 {
		if q.rng != nil && len(q.kinds) > 0 && q.rng.Float64() < q.rate {
			q.failed++
			return q.kinds[q.rng.IntN(len(q.kinds))]
		}
		return 0
	}
	f := q.queue[0]
	q.queue = q.queue[1:]
	q.failed++
	return f
}

// inject applies the next queued fault, if any, and reports whether it
// answered the request. rateHeaders adds the network's own rate-limit
// headers; authFail writes its revoked- or expired-token answer.
func (q *faults) inject(w http.ResponseWriter, r *http.Request, rateHeaders func(http.Header, time.Time), authFail func(http.ResponseWriter, Fault)) bool {
	f := q.next()
	if f == 0 {
		return false
	}
	q.apply(w, r, f, rateHeaders, authFail)
	return true
}

// apply answers a request with fault f, as inject does.
func (q *faults) apply(w http.ResponseWriter, r *http.Request, f Fault, rateHeaders func(http.Header, time.Time), authFail func(http.ResponseWriter, Fault)) {
	switch f {
	case RateLimited:
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
		if rateHeaders != nil {
			rateHeaders(w.Header(), q.now().Add(RetryAfter*time.Second))
		}
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "Too many requests"})
	case ServerError:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "Internal server error"})
	case BadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
	case Unavailable:
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("<html><body>503 Service Unavailable</body></html>"))
	default:
		// Unauthorized, Expired and network-specific faults.
		authFail(w, f)
	case Hang:
		// The server notices the client leaving only once the body has
		// been read, so read it before waiting.
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	case Reset:
		hangUp(w)
	}
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// newServer starts an httptest server with the fake's handler.
func newServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
