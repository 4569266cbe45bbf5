package a11y

import (
	"os"
	"strings"
	"testing"
)

// Run checks baseURL+path for every path and fails t once per violation. It
// skips t, saying why, when Chromium or axe-core is not installed, unless
// SIGNPOST_A11Y_REQUIRED is set (CI should set it, so that a missing browser
// fails the build instead of passing it silently). Pass every path in one
// call: they share one Chromium, whose start-up is a large part of the cost.
func Run(t testing.TB, baseURL string, paths []string) {
	t.Helper()
	RunWithHeaders(t, baseURL, paths, nil)
}

// RunWithHeaders is Run with headers sent on every request, such as the
// Cookie of a signed-in session for staff pages.
func RunWithHeaders(t testing.TB, baseURL string, paths []string, headers map[string]string) {
	t.Helper()
	c := LocateOrSkip(t)
	c.Headers = headers
	urls := make([]string, len(paths))
	for i, p := range paths {
		urls[i] = strings.TrimSuffix(baseURL, "/") + p
	}
	found, err := c.Check(t.Context(), urls)
	if err != nil {
		t.Fatalf("accessibility checks: %v", err)
	}
	for i, u := range urls {
		for _, v := range found[u] {
			t.Errorf("%s: %s", paths[i], v)
		}
	}
}

// LocateOrSkip is Locate for tests: it skips t, saying why, when Chromium or
// axe-core is missing, or fails t when SIGNPOST_A11Y_REQUIRED is set.
func LocateOrSkip(t testing.TB) Checker {
	t.Helper()
	c, err := Locate()
	if err != nil {
		if os.Getenv("SIGNPOST_A11Y_REQUIRED") != "" {
			t.Fatalf("accessibility checks are required (SIGNPOST_A11Y_REQUIRED) but cannot run: %v", err)
		}
		t.Skipf("skipping accessibility checks: %v", err)
	}
	return c
}
