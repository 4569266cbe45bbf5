package web

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestResponseCacheRendersOncePerKey(t *testing.T) {
	c := newResponseCache(2)
	var renders atomic.Int32
	release := make(chan struct{})
	render := func() (*response, error) {
		renders.Add(1)
		<-release
		return newResponse(http.StatusOK, "text/plain", []byte("x"), time.Time{}, ""), nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.get("home", render); err != nil {
				t.Error(err)
			}
		}()
	}
	// Whichever goroutine renders first blocks until release; the others
	// wait on its entry rather than rendering again.
	for renders.Load() == 0 {
		runtimeGosched()
	}
	close(release)
	wg.Wait()
	if n := renders.Load(); n != 1 {
		t.Errorf("%d renders for one key, want 1", n)
	}
}

func TestResponseCacheBoundsPostcodes(t *testing.T) {
	c := newResponseCache(2)
	var renders int
	render := func() (*response, error) {
		renders++
		return newResponse(http.StatusOK, "text/plain", []byte("x"), time.Time{}, ""), nil
	}
	for _, k := range []string{"area:A", "api:area:B", "area:C", "area:C", "area:A", "home", "home"} {
		c.get(k, render)
	}
	// A and B fill the bound; C renders every time; home is not bounded.
	if renders != 5 {
		t.Errorf("%d renders, want 5", renders)
	}
	if _, err := c.get("bad", func() (*response, error) { return nil, errors.New("boom") }); err == nil {
		t.Error("render error not returned")
	}
	if r, err := c.get("bad", render); err != nil || r == nil {
		t.Errorf("a failed render was cached: %v", err)
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := map[string]bool{
		"":                     false,
		"gzip":                 true,
		"GZIP":                 true,
		"br, gzip;q=0.5":       true,
		"gzip;q=0":             false,
		"gzip; q=0.0, deflate": false,
		"deflate, br":          false,
		"*":                    true,
		"identity, *;q=0":      false,
	}
	for ae, want := range tests {
		if got := acceptsGzip(ae); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", ae, got, want)
		}
	}
}
