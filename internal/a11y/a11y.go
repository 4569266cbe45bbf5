// Package a11y checks served pages for accessibility problems in a real
// browser, so that tests can fail when a residents' page is not usable by
// everyone: it runs axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) in
// headless Chromium, checks that each page reflows without horizontal
// scrolling at 320 CSS pixels (WCAG 1.4.10), and drives the page with the Tab
// key to check that every control is reachable, shows a visible focus
// indicator, and that a skip link comes first.
//
// It needs Debian's chromium and the axe-core npm package installed by
// .ci/install-browser.sh; Run skips the calling test, saying why, when either
// is missing.
package a11y

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Rule ids for the checks Signpost adds to axe-core's. They look like axe's
// so that one report format covers both.
const (
	RuleReflow            = "signpost-reflow-320"
	RuleKeyboardReach     = "signpost-keyboard-reachable"
	RuleFocusVisible      = "signpost-focus-visible"
	RuleSkipLinkFirst     = "signpost-skip-link-first"
	defaultPageTimeout    = 60 * time.Second
	reflowWidth           = 320
	desktopWidth          = 1024
	maxFocusablesExamined = 300
)

// WCAGTags returns the axe-core tags Check runs by default: every WCAG 2.0,
// 2.1 and 2.2 success criterion at levels A and AA.
func WCAGTags() []string {
	return []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"}
}

// Violation is one failed rule on one page, with the nodes that fail it.
type Violation struct {
	Rule    string   `json:"id"`      // axe rule id, or one of the Rule* constants
	Impact  string   `json:"impact"`  // axe impact: minor, moderate, serious or critical
	Help    string   `json:"help"`    // one line saying what is wrong
	HelpURL string   `json:"helpUrl"` // where axe explains the rule; empty for Signpost's rules
	Targets []string `json:"targets"` // CSS selectors (or descriptions) of failing nodes
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s (%s): %s", v.Rule, v.Impact, v.Help)
	if len(v.Targets) > 0 {
		s += "\n\tat " + strings.Join(v.Targets, "\n\tat ")
	}
	if v.HelpURL != "" {
		s += "\n\tsee " + v.HelpURL
	}
	return s
}

// Checker runs the checks with one Chromium binary and one copy of axe-core.
type Checker struct {
	Chromium    string        // path to the Chromium binary
	AxeJS       string        // path to axe.min.js
	PageTimeout time.Duration // limit for all checks of one page; 60s when zero
	Tags        []string      // axe-core tags to run; WCAGTags() when empty
	// Headers go with every request the pages make, e.g. a session
	// cookie so that pages behind a sign-in can be checked.
	Headers map[string]string
}

// Locate finds Chromium and axe-core: $SIGNPOST_CHROMIUM or /usr/bin/chromium
// (else chromium on $PATH), and $SIGNPOST_AXE_JS or
// web/assets/node_modules/axe-core/axe.min.js under the module root found by
// walking up from the working directory. The error says what is missing and
// how to install it.
func Locate() (Checker, error) {
	var c Checker
	var missing []string

	c.Chromium = os.Getenv("SIGNPOST_CHROMIUM")
	if c.Chromium == "" {
		c.Chromium = "/usr/bin/chromium"
		if _, err := os.Stat(c.Chromium); err != nil {
			if p, err := exec.LookPath("chromium"); err == nil {
				c.Chromium = p
			}
		}
	}
	if _, err := os.Stat(c.Chromium); err != nil {
		missing = append(missing, fmt.Sprintf("chromium not found at %s", c.Chromium))
	}

	c.AxeJS = os.Getenv("SIGNPOST_AXE_JS")
	if c.AxeJS == "" {
		root, err := moduleRoot()
		if err != nil {
			missing = append(missing, err.Error())
		} else {
			c.AxeJS = filepath.Join(root, "web", "assets", "node_modules", "axe-core", "axe.min.js")
		}
	}
	if c.AxeJS != "" {
		if _, err := os.Stat(c.AxeJS); err != nil {
			missing = append(missing, fmt.Sprintf("axe-core not found at %s", c.AxeJS))
		}
	}

	if len(missing) > 0 {
		return c, fmt.Errorf("%s (run .ci/install-browser.sh, or set SIGNPOST_CHROMIUM and SIGNPOST_AXE_JS)", strings.Join(missing, "; "))
	}
	return c, nil
}

// moduleRoot is the nearest directory at or above the working directory that
// holds a go.mod: tests run in their package's directory, which varies.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Check loads each URL in one headless Chromium and returns the violations
// found on each, keyed by URL; a URL with no violations has no entry. The
// error is for failures to run the checks (browser, network, a page that
// answers with a 5xx status), not for violations.
func (c Checker) Check(ctx context.Context, urls []string) (map[string][]Violation, error) {
	axe, err := os.ReadFile(c.AxeJS)
	if err != nil {
		return nil, fmt.Errorf("read axe-core: %w", err)
	}
	found := make(map[string][]Violation)
	err = c.withBrowser(ctx, func(browserCtx context.Context) error {
		for _, u := range urls {
			vs, err := c.checkPage(browserCtx, string(axe), u)
			if err != nil {
				return fmt.Errorf("check %s: %w", u, err)
			}
			if len(vs) > 0 {
				found[u] = vs
			}
		}
		return nil
	})
	return found, err
}

// withBrowser starts Chromium with a throw-away profile, calls fn with its
// chromedp context, and stops it again.
func (c Checker) withBrowser(ctx context.Context, fn func(browserCtx context.Context) error) error {
	dataDir, err := os.MkdirTemp("", "signpost-a11y-chromium-")
	if err != nil {
		return fmt.Errorf("chromium profile directory: %w", err)
	}
	defer os.RemoveAll(dataDir)

	browserCtx, cancel := c.Browser(ctx, dataDir)
	// Stop Chromium before its profile directory is removed.
	defer cancel()
	// The first Run starts the browser and must not carry a page timeout,
	// because cancelling it would stop the whole browser.
	if err := chromedp.Do(browserCtx); err != nil {
		return fmt.Errorf("start chromium %s: %w", c.Chromium, err)
	}
	return fn(browserCtx)
}

// Browser returns a chromedp context for a Chromium process started with
// flags fit for a machine without internet: anything that phones home would
// only fill the log with refused connections and slow the start. Tests that
// drive pages themselves (not only check them) start Chromium with it.
func (c Checker) Browser(ctx context.Context, dataDir string) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(c.Chromium),
		chromedp.UserDataDir(dataDir),
		chromedp.NoSandbox, // CI runs as root, where Chromium refuses its sandbox
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	return browserCtx, func() {
		cancelBrowser()
		cancelAlloc()
	}
}

func (c Checker) pageTimeout() time.Duration {
	if c.PageTimeout > 0 {
		return c.PageTimeout
	}
	return defaultPageTimeout
}

func (c Checker) tags() []string {
	if len(c.Tags) > 0 {
		return c.Tags
	}
	return WCAGTags()
}
