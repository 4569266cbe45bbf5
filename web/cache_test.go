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

func TestResponseCacheServesPreviousWhileRendering(t *testing.T) {
	old := newResponseCache(1)
	stale := newResponse(http.StatusOK, "text/plain", []byte("old"), time.Time{}, "")
	old.get("home", func() (*response, error) { return stale, nil })
	cur := newResponseCache(1)
	cur.succeed(old)

	release, started := make(chan struct{}), make(chan struct{})
	fresh := newResponse(http.StatusOK, "text/plain", []byte("new"), time.Time{}, "")
	done := make(chan *response)
	go func() {
		r, _ := cur.get("home", func() (*response, error) {
			close(started)
			<-release
			return fresh, nil
		})
		done <- r
	}()
	<-started
	// The render for the new snapshot is running: a second request gets
	// the previous copy at once instead of waiting.
	if r, _ := cur.get("home", nil); r != stale {
		t.Fatalf("during the render got %q, want the previous copy", r.body)
	}
	close(release)
	if r := <-done; r != fresh {
		t.Fatalf("renderer got %q", r.body)
	}
	if r, _ := cur.get("home", nil); r != fresh {
		t.Fatalf("after the render got %q, want the new copy", r.body)
	}
	// A third generation drops the first, so memory holds two at most.
	next := newResponseCache(1)
	next.succeed(cur)
	if cur.previous.Load() != nil {
		t.Error("the grandparent cache is still referenced")
	}
}
