package web

import (
	"net/http"
	"time"
)

// NewHTTPServer wraps a handler in an http.Server with timeouts that keep
// slow or idle clients from holding connections: headers within 5s, a whole
// request within 15s, a response within 30s. Use Shutdown for a graceful
// stop.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
}
