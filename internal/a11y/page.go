package a11y

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// checkPage runs every check on one URL in a tab of its own, within the page
// timeout.
func (c Checker) checkPage(browserCtx context.Context, axe, url string) ([]Violation, error) {
	tabCtx, closeTab := chromedp.NewContext(browserCtx)
	defer closeTab()
	// Open the tab before the timeout starts, for the same reason the browser
	// is started without one: cancelling the first Run closes the tab.
	if err := chromedp.Do(tabCtx); err != nil {
		return nil, fmt.Errorf("open tab: %w", err)
	}
	ctx, cancel := context.WithTimeout(tabCtx, c.pageTimeout())
	defer cancel()

	// Axe and the test scripts are evaluated through the DevTools protocol,
	// which pages with a strict Content-Security-Policy (as Signpost's are)
	// would otherwise refuse. Focus emulation makes the tab behave as if it
	// had focus, so :focus styles apply although no window is shown.
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
			return fmt.Errorf("bypass CSP: %w", err)
		}
		if _, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
			return fmt.Errorf("focus emulation: %w", err)
		}
		if len(c.Headers) > 0 {
			hs := network.Headers{}
			for k, v := range c.Headers {
				hs[k] = v
			}
			if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
				return fmt.Errorf("enable network: %w", err)
			}
			if _, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: hs}); err != nil {
				return fmt.Errorf("set request headers: %w", err)
			}
		}
		return nil
	})); err != nil {
		return nil, err
	}

	var found []Violation
	for _, width := range []int64{desktopWidth, reflowWidth} {
		if err := load(ctx, url, width); err != nil {
			return nil, err
		}
		vs, err := runAxe(ctx, axe, c.tags())
		if err != nil {
			return nil, err
		}
		found = mergeViolations(found, vs)

		switch width {
		case reflowWidth:
			v, err := checkReflow(ctx)
			if err != nil {
				return nil, err
			}
			if v != nil {
				found = append(found, *v)
			}
		case desktopWidth:
			vs, err := checkKeyboard(ctx)
			if err != nil {
				return nil, err
			}
			found = append(found, vs...)
		}
	}
	return found, nil
}

// load navigates to url in a viewport width CSS pixels wide and waits for the
// load event. A desktop (non-mobile) viewport ignores the viewport meta tag,
// so at 320px it is the same as a 1280px window zoomed to 400%, which is what
// WCAG 1.4.10 (Reflow) asks for.
func load(ctx context.Context, url string, width int64) error {
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)); err != nil {
		return fmt.Errorf("set viewport to %dpx: %w", width, err)
	}
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		return fmt.Errorf("load at %dpx: %w", width, err)
	}
	// A server error page is never the page under test; checking it would
	// hide the failure behind a clean accessibility report.
	if resp != nil && resp.Status >= 500 {
		return fmt.Errorf("load at %dpx: HTTP %d", width, resp.Status)
	}
	return nil
}

func runAxe(ctx context.Context, axe string, tags []string) ([]Violation, error) {
	tagsJSON, err := json.Marshal(tags)
	if err != nil {
		return nil, fmt.Errorf("encode axe tags: %w", err)
	}
	// The trailing undefined stops chromedp from trying to return the value
	// of axe's source, which is not serialisable.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axe+"\n;undefined")); err != nil {
		return nil, fmt.Errorf("inject axe-core: %w", err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](fmt.Sprintf(axeRunJS, tagsJSON), chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	return vs, nil
}

// mergeViolations adds to have the violations of more that it lacks: the
// same rule failing on the same nodes at two widths is one problem.
func mergeViolations(have, more []Violation) []Violation {
	seen := make(map[string]bool, len(have))
	for _, v := range have {
		seen[violationKey(v)] = true
	}
	for _, v := range more {
		if !seen[violationKey(v)] {
			seen[violationKey(v)] = true
			have = append(have, v)
		}
	}
	return have
}

func violationKey(v Violation) string {
	b, _ := json.Marshal([]any{v.Rule, v.Targets})
	return string(b)
}

type reflowResult struct {
	ScrollWidth int      `json:"scrollWidth"`
	ClientWidth int      `json:"clientWidth"`
	Offenders   []string `json:"offenders"`
}

func checkReflow(ctx context.Context) (*Violation, error) {
	r, err := chromedp.Run(ctx, chromedp.Evaluate[reflowResult](reflowJS))
	if err != nil {
		return nil, fmt.Errorf("measure reflow: %w", err)
	}
	if r.ScrollWidth <= r.ClientWidth+1 {
		return nil, nil
	}
	return &Violation{
		Rule:    RuleReflow,
		Impact:  "serious",
		Help:    fmt.Sprintf("Page scrolls horizontally at %dpx: content is %dpx wide (WCAG 1.4.10)", reflowWidth, r.ScrollWidth),
		Targets: r.Offenders,
	}, nil
}

type focusable struct {
	Key  string `json:"key"`
	Desc string `json:"desc"`
}

type activeElement struct {
	Key      string  `json:"key"`
	Desc     string  `json:"desc"`
	X        float64 `json:"x"`
	Y        float64 `json:"y"`
	Width    float64 `json:"width"`
	Height   float64 `json:"height"`
	SkipLink bool    `json:"skipLink"`
	// StyleChanged says the computed styles differ with and without focus.
	StyleChanged bool `json:"styleChanged"`
}

// checkKeyboard walks the page with the Tab key, as a keyboard user would.
// It reports controls that Tab never reaches, controls whose look does not
// change when focused (by computed styles, then by screenshots, so it works
// whatever CSS draws the indicator: outline, box-shadow, a label's
// pseudo-element, a sibling), and a first stop that is not a working skip
// link.
func checkKeyboard(ctx context.Context) ([]Violation, error) {
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](quietJS)); err != nil {
		return nil, fmt.Errorf("prepare keyboard check: %w", err)
	}
	want, err := chromedp.Run(ctx, chromedp.Evaluate[[]focusable](focusablesJS))
	if err != nil {
		return nil, fmt.Errorf("list focusable elements: %w", err)
	}
	if len(want) > maxFocusablesExamined {
		want = want[:maxFocusablesExamined]
	}

	var (
		found     []Violation
		reached   = make(map[string]bool)
		invisible []string
		first     *activeElement
	)
	// One Tab per control, plus slack for elements the list could not
	// predict; the walk ends early when focus leaves the page or comes round
	// again.
	for range len(want) + 5 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			return nil, fmt.Errorf("press Tab: %w", err)
		}
		el, err := chromedp.Run(ctx, chromedp.Evaluate[*activeElement](activeJS))
		if err != nil {
			return nil, fmt.Errorf("read focused element: %w", err)
		}
		if el == nil {
			if len(reached) > 0 {
				break
			}
			continue
		}
		if reached[el.Key] && el.Key != "" {
			break
		}
		reached[el.Key] = true
		if first == nil {
			first = el
		}
		visible := el.StyleChanged
		if !visible {
			visible, err = focusVisible(ctx, el)
			if err != nil {
				return nil, err
			}
		}
		if !visible {
			invisible = append(invisible, el.Desc)
		}
	}

	var unreached []string
	for _, f := range want {
		if !reached[f.Key] {
			unreached = append(unreached, f.Desc)
		}
	}
	found = appendIfAny(found, unreached, Violation{
		Rule:   RuleKeyboardReach,
		Impact: "serious",
		Help:   "Controls cannot be reached with the Tab key (WCAG 2.1.1)",
	})
	found = appendIfAny(found, invisible, Violation{
		Rule:   RuleFocusVisible,
		Impact: "serious",
		Help:   "Controls look the same with and without keyboard focus (WCAG 2.4.7)",
	})
	if first == nil || !first.SkipLink {
		v := Violation{
			Rule:   RuleSkipLinkFirst,
			Impact: "moderate",
			Help:   "The first Tab stop must be a skip link to an element on the page (WCAG 2.4.1)",
		}
		if first != nil {
			v.Targets = []string{first.Desc}
		}
		found = append(found, v)
	}
	return found, nil
}

// appendIfAny appends v, failing on targets, when there are any.
func appendIfAny(found []Violation, targets []string, v Violation) []Violation {
	if len(targets) == 0 {
		return found
	}
	v.Targets = targets
	return append(found, v)
}

// focusMargin is how far around a focused element an indicator may be drawn
// (GOV.UK's reaches 4px below links and 3px around inputs).
const focusMargin = 8

// focusVisible reports whether the area around the focused element looks
// different when focus is taken away. Focus is given back afterwards so the
// Tab walk goes on from the same place. Taking focus away scrolls nothing,
// so both captures show the same part of the page.
func focusVisible(ctx context.Context, el *activeElement) (bool, error) {
	area := image.Rect(
		int(math.Floor(el.X))-focusMargin, int(math.Floor(el.Y))-focusMargin,
		int(math.Ceil(el.X+el.Width))+focusMargin, int(math.Ceil(el.Y+el.Height))+focusMargin,
	).Intersect(image.Rect(0, 0, math.MaxInt32, math.MaxInt32))
	if area.Empty() {
		// Focus on something outside the page is invisible by definition.
		return false, nil
	}
	focused, err := screenshot(ctx, area)
	if err != nil {
		return false, fmt.Errorf("screenshot of focused %s: %w", el.Desc, err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](blurJS)); err != nil {
		return false, fmt.Errorf("blur %s: %w", el.Desc, err)
	}
	unfocused, err := screenshot(ctx, area)
	if err != nil {
		return false, fmt.Errorf("screenshot of unfocused %s: %w", el.Desc, err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](refocusJS)); err != nil {
		return false, fmt.Errorf("refocus %s: %w", el.Desc, err)
	}
	return differs(unfocused, focused), nil
}

// screenshot captures area of the page, in CSS pixels from the top left of
// the document, as an image. The device scale factor is 1, so one image pixel
// is one CSS pixel.
func screenshot(ctx context.Context, area image.Rectangle) (image.Image, error) {
	data, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format: page.CaptureScreenshotFormatPng,
		Clip: &page.Viewport{
			X: float64(area.Min.X), Y: float64(area.Min.Y),
			Width: float64(area.Dx()), Height: float64(area.Dy()),
			Scale: 1,
		},
	})
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(data.Data))
	if err != nil {
		return nil, fmt.Errorf("decode screenshot: %w", err)
	}
	return img, nil
}

// differs reports whether two captures of the same area differ visibly.
// Tiny channel differences are ignored so that anti-aliasing noise is not
// mistaken for a focus indicator; a difference in size counts as different.
func differs(a, b image.Image) bool {
	const tolerance = 8 << 8 // out of 0xffff per channel
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Dx() != bb.Dx() || ab.Dy() != bb.Dy() {
		return true
	}
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			if absDiff(r1, r2) > tolerance || absDiff(g1, g2) > tolerance || absDiff(b1, b2) > tolerance {
				return true
			}
		}
	}
	return false
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// Screenshot returns a PNG of the whole page at url, width CSS pixels wide,
// for people to look at when a check fails or a style changes.
func (c Checker) Screenshot(ctx context.Context, url string, width int64) ([]byte, error) {
	var shot []byte
	err := c.withBrowser(ctx, func(browserCtx context.Context) error {
		ctx, cancel := context.WithTimeout(browserCtx, c.pageTimeout())
		defer cancel()
		if err := load(ctx, url, width); err != nil {
			return err
		}
		var err error
		shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			return fmt.Errorf("screenshot %s: %w", url, err)
		}
		return nil
	})
	return shot, err
}
