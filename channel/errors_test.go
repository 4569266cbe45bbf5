package channel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

var now = time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 120 * time.Second, true},
		{" 0 ", 0, true},
		{"-5", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Tue, 06 Jan 2026 06:00:00 GMT", 0, true}, // already past
		{"Tuesday, 06-Jan-26 07:00:30 GMT", 30 * time.Second, true},
		{"99999999999", 24 * time.Hour, true}, // capped
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseResetEpoch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{strconv.FormatInt(now.Unix()+900, 10), 15 * time.Minute, true},
		{strconv.FormatInt(now.Unix()-10, 10), 0, true},
		{now.Add(5 * time.Minute).Format(time.RFC3339Nano), 5 * time.Minute, true},
		{"x", 0, false},
		{"-1", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseResetEpoch(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseResetEpoch(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHTTPError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		header    http.Header
		permanent bool
		after     time.Duration
	}{
		{401, nil, true, 0},
		{403, nil, true, 0},
		{422, nil, true, 0},
		{404, nil, true, 0},
		{408, nil, false, 0},
		{429, http.Header{"Retry-After": {"30"}}, false, 30 * time.Second},
		{429, http.Header{"X-Rate-Limit-Reset": {strconv.FormatInt(now.Unix()+60, 10)}}, false, time.Minute},
		{429, http.Header{"X-Ratelimit-Reset": {now.Add(2 * time.Minute).Format(time.RFC3339)}}, false, 2 * time.Minute},
		{429, http.Header{"Ratelimit-Reset": {strconv.FormatInt(now.Unix()+5, 10)}}, false, 5 * time.Second},
		{500, nil, false, 0},
		{502, nil, false, 0},
		{503, http.Header{"Retry-After": {"7"}}, false, 7 * time.Second},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: tt.status, Header: tt.header}
		if resp.Header == nil {
			resp.Header = http.Header{}
		}
		err := error(HTTPError(resp, now, "post", ""))
		if IsPermanent(err) != tt.permanent || IsRetryable(err) == tt.permanent {
			t.Errorf("%d: permanent=%v retryable=%v, want permanent=%v", tt.status, IsPermanent(err), IsRetryable(err), tt.permanent)
		}
		got, _ := RetryAfter(fmt.Errorf("wrapped: %w", err))
		if got != tt.after {
			t.Errorf("%d %v: RetryAfter = %v, want %v", tt.status, tt.header, got, tt.after)
		}
	}
}

type refusal struct{}

func (refusal) Error() string       { return "refused by policy" }
func (refusal) PolicyRefusal() bool { return true }

func TestTransportError(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	tests := []struct {
		name      string
		err       error
		retryable bool
		permanent bool
	}{
		{"deadline", context.DeadlineExceeded, true, false},
		{"cancelled", context.Canceled, false, false},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, true, false},
		{"policy", &net.OpError{Op: "dial", Net: "tcp", Err: refusal{}}, false, true},
		{"dns temporary", &net.DNSError{Err: "server misbehaving", Name: "x"}, true, false},
		{"dns no such host", &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, false, true},
		{"other", cause, false, true},
	}
	for _, tt := range tests {
		err := TransportError("publish", tt.err)
		if IsRetryable(err) != tt.retryable || IsPermanent(err) != tt.permanent {
			t.Errorf("%s: retryable=%v permanent=%v (%v)", tt.name, IsRetryable(err), IsPermanent(err), err)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: cause lost: %v", tt.name, err)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Tue, 06 Jan 2026 07:01:00 GMT", "", "-1", "1e9", "Monday, 02-Jan-06 15:04:05 MST"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if d < 0 || d > 24*time.Hour || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %v, %v", s, d, ok)
		}
		d, ok = ParseResetEpoch(s, now)
		if d < 0 || d > 24*time.Hour || (!ok && d != 0) {
			t.Fatalf("ParseResetEpoch(%q) = %v, %v", s, d, ok)
		}
	})
}
