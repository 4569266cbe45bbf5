package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// response is a fully rendered reply, ready to be written many times. Its
// header values are prepared once, so writing it allocates nothing.
type response struct {
	status       int
	contentType  string
	body         []byte
	gzipped      []byte // nil when compression does not pay
	etag         string // strong, from the content hash
	lastModified time.Time
	cacheControl string
	allow        string // for 405 responses

	hContentType, hCacheControl, hETag, hGzipETag, hLastModified, hLength, hGzipLength []string
}

// minGzip is the size below which gzip costs more than it saves.
const minGzip = 512

var (
	hNoStore = []string{"no-store"}
	hVary    = []string{"Accept-Encoding"}
	hGzip    = []string{"gzip"}
)

func newResponse(status int, contentType string, body []byte, lastModified time.Time, cacheControl string) *response {
	sum := sha256.Sum256(body)
	r := &response{
		status:       status,
		contentType:  contentType,
		body:         body,
		etag:         `"` + hex.EncodeToString(sum[:12]) + `"`,
		lastModified: lastModified.UTC().Truncate(time.Second),
		cacheControl: cacheControl,
	}
	if len(body) >= minGzip {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body) {
			r.gzipped = buf.Bytes()
		}
	}
	r.hContentType = []string{contentType}
	r.hCacheControl = []string{cacheControl}
	r.hETag = []string{r.etag}
	r.hGzipETag = []string{r.gzipETag()}
	r.hLength = []string{strconv.Itoa(len(r.body))}
	r.hGzipLength = []string{strconv.Itoa(len(r.gzipped))}
	if !r.lastModified.IsZero() {
		r.hLastModified = []string{r.lastModified.Format(http.TimeFormat)}
	}
	return r
}

// gzipETag is the gzipped representation's ETag: a strong validator must
// differ between representations.
func (r *response) gzipETag() string {
	return r.etag[:len(r.etag)-1] + `-gz"`
}

// write sends the response, answering conditional requests with 304 and
// choosing the gzip variant when the client accepts it. Header values are
// assigned directly: the keys are canonical and the slices never change.
func (r *response) write(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	if r.status == http.StatusOK && r.cacheControl != "" {
		h["Cache-Control"] = r.hCacheControl
	} else if r.status != http.StatusOK {
		h["Cache-Control"] = hNoStore
	}
	if r.allow != "" {
		h.Set("Allow", r.allow)
	}
	body, etag, length := r.body, r.hETag, r.hLength
	if r.gzipped != nil {
		h["Vary"] = hVary
		if acceptsGzip(req.Header.Get("Accept-Encoding")) {
			body, etag, length = r.gzipped, r.hGzipETag, r.hGzipLength
			h["Content-Encoding"] = hGzip
		}
	}
	if r.status == http.StatusOK {
		h["Etag"] = etag
		if r.hLastModified != nil {
			h["Last-Modified"] = r.hLastModified
		}
		if r.notModified(req) {
			delete(h, "Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h["Content-Type"] = r.hContentType
	h["Content-Length"] = length
	w.WriteHeader(r.status)
	if req.Method != http.MethodHead {
		w.Write(body)
	}
}

// notModified implements RFC 9110 §13.1: If-None-Match wins over
// If-Modified-Since; either ETag variant matches, as the content is the same.
func (r *response) notModified(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	if inm := req.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == r.etag || (r.gzipped != nil && tag == r.gzipETag()) {
				return true
			}
		}
		return false
	}
	if ims := req.Header.Get("If-Modified-Since"); ims != "" && !r.lastModified.IsZero() {
		t, err := http.ParseTime(ims)
		return err == nil && !r.lastModified.After(t)
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(ae string) bool {
	for ae != "" {
		var part string
		part, ae, _ = strings.Cut(ae, ",")
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, "gzip") && name != "*" {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		if q, ok := strings.CutPrefix(params, "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

var errRenderPanicked = errors.New("render panicked")

// responseCache holds the rendered responses of one snapshot. Concurrent
// requests for the same key wait for a single render, so a snapshot change
// under peak load costs one render per URL, not one per connection.
type responseCache struct {
	mu       sync.RWMutex
	entries  map[string]*cacheEntry
	areas    int // entries for postcode pages, bounded
	maxAreas int
	// previous is the cache of the snapshot this one replaced. While a
	// URL is being rendered for the new snapshot, other requests get the
	// previous copy instead of queueing behind the render: a few
	// milliseconds stale, never a latency spike at every update. Only one
	// generation is kept (see succeed).
	previous atomic.Pointer[responseCache]
}

// succeed makes c the successor of old, and lets old's own predecessor go so
// that snapshots do not pile up in memory.
func (c *responseCache) succeed(old *responseCache) {
	if old == nil {
		return
	}
	old.previous.Store(nil)
	c.previous.Store(old)
}

// peek returns a finished, successful response for key without waiting.
func (c *responseCache) peek(key string) *response {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok {
		return nil
	}
	select {
	case <-e.done:
		if e.err == nil {
			return e.resp
		}
	default:
	}
	return nil
}

// await waits for an entry, answering from the previous snapshot's cache
// while the render is still running.
func (c *responseCache) await(key string, e *cacheEntry) (*response, bool) {
	select {
	case <-e.done:
	default:
		if p := c.previous.Load(); p != nil {
			if r := p.peek(key); r != nil {
				return r, true
			}
		}
		<-e.done
	}
	return e.resp, e.err == nil
}

type cacheEntry struct {
	done chan struct{}
	resp *response
	err  error
}

func newResponseCache(maxAreas int) *responseCache {
	return &responseCache{entries: map[string]*cacheEntry{}, maxAreas: maxAreas}
}

// get returns the cached response for key or renders it once. Keys that
// start with "area:" or "api:area:" (one per postcode) are bounded; past the bound they are
// rendered on every request instead of growing the cache. Render errors are
// not cached.
func (c *responseCache) get(key string, render func() (*response, error)) (*response, error) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if ok {
		if r, ok := c.await(key, e); ok {
			return r, nil
		}
	}
	bounded := strings.HasPrefix(key, "area:") || strings.HasPrefix(key, "api:area:")
	c.mu.Lock()
	if e, ok = c.entries[key]; ok {
		c.mu.Unlock()
		if r, ok := c.await(key, e); ok {
			return r, nil
		}
		return render()
	}
	if bounded && c.areas >= c.maxAreas {
		c.mu.Unlock()
		return render()
	}
	e = &cacheEntry{done: make(chan struct{})}
	c.entries[key] = e
	if bounded {
		c.areas++
	}
	c.mu.Unlock()

	// A panicking render must still release the waiters; they see the
	// error and the panic goes on to the recovery middleware.
	e.err = errRenderPanicked
	func() {
		defer close(e.done)
		e.resp, e.err = render()
	}()
	if e.err != nil {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
			if bounded {
				c.areas--
			}
		}
		c.mu.Unlock()
	}
	return e.resp, e.err
}
