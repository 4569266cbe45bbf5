package a11y

// The JavaScript that runs in the page. Each script is one expression whose
// value is JSON-serialisable, so chromedp can decode it into a Go value.

// describeJS names an element for a report a person can act on: its tag, id,
// first classes and the start of its text.
const describeJS = `const describe = (el) => {
	let s = el.tagName.toLowerCase();
	if (el.id) s += '#' + el.id;
	const cls = (typeof el.className === 'string' ? el.className : '').trim().split(/\s+/).filter(Boolean).slice(0, 2);
	if (cls.length) s += '.' + cls.join('.');
	const text = (el.innerText || el.getAttribute('aria-label') || el.getAttribute('name') || '').trim().replace(/\s+/g, ' ');
	if (text) s += ' "' + (text.length > 40 ? text.slice(0, 40) + '…' : text) + '"';
	return s;
};`

// axeRunJS runs axe-core (already injected) with the tags in %s (a JSON
// array) and flattens each violation's nodes to selector strings.
const axeRunJS = `axe.run(document, {
	runOnly: {type: 'tag', values: %s},
	resultTypes: ['violations'],
}).then((r) => r.violations.map((v) => ({
	id: v.id,
	impact: v.impact || '',
	help: v.help,
	helpUrl: v.helpUrl,
	targets: v.nodes.map((n) => n.target.map((t) => Array.isArray(t) ? t.join(' ') : t).join(' ')),
})))`

// quietJS removes what would make two screenshots of the same state differ:
// the blinking text caret and CSS transitions. It does not touch focus styles.
const quietJS = `(() => {
	const s = document.createElement('style');
	s.textContent = '*, *::before, *::after { caret-color: transparent !important; transition: none !important; animation: none !important; }';
	document.head.appendChild(s);
})()`

// focusablesJS lists the elements a keyboard user must be able to reach with
// Tab, marking each with a key so the Tab walk can recognise it. A group of
// radio buttons shares one key: Tab enters the group once and the arrow keys
// move within it.
const focusablesJS = `(() => {
	` + describeJS + `
	const sel = 'a[href], area[href], button, input, select, textarea, summary, iframe, [tabindex], [contenteditable=""], [contenteditable="true"]';
	const out = [];
	const seen = new Set();
	let i = 0;
	for (const el of document.querySelectorAll(sel)) {
		if (el.matches(':disabled') || el.closest('[inert]')) continue;
		if (el.matches('input[type=hidden]')) continue;
		const ti = el.getAttribute('tabindex');
		if (ti !== null && parseInt(ti, 10) < 0) continue;
		if (el.getClientRects().length === 0) continue;
		if (getComputedStyle(el).visibility === 'hidden') continue;
		const key = (el.type === 'radio' && el.name) ? 'radio:' + el.name : 'el:' + (i++);
		el.setAttribute('data-a11y-key', key);
		if (seen.has(key)) continue;
		seen.add(key);
		out.push({key: key, desc: describe(el)});
	}
	return out;
})()`

// activeJS describes the focused element and where it is in the document, or
// returns null when focus is on the document itself. It keeps the element so
// that blurJS and refocusJS can take focus away and give it back.
//
// It also compares the element's look with and without focus, in computed
// styles: the element, its labels (GOV.UK radios draw their focus ring on
// the label) and their rendered ::before and ::after. Only properties that
// show are compared (no outline colour without an outline). When the styles
// differ the indicator is taken as visible, which saves two screenshots per
// control; when they do not, the caller compares screenshots.
const activeJS = `(() => {
	` + describeJS + `
	const el = document.activeElement;
	if (!el || el === document.body || el === document.documentElement) return null;
	window.__a11yFocused = el;
	const look = (e) => {
		const parts = [];
		const add = (cs, pseudo) => {
			if (pseudo && (cs.content === 'none' || cs.content === 'normal')) return;
			parts.push(cs.backgroundColor, cs.color, cs.boxShadow, cs.textDecorationLine, cs.textDecorationThickness, cs.opacity);
			if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) {
				parts.push(cs.outlineStyle, cs.outlineWidth, cs.outlineColor, cs.outlineOffset);
			}
			for (const side of ['Top', 'Right', 'Bottom', 'Left']) {
				if (cs['border' + side + 'Style'] !== 'none' && parseFloat(cs['border' + side + 'Width']) > 0) {
					parts.push(cs['border' + side + 'Width'], cs['border' + side + 'Color']);
				}
			}
		};
		for (const x of [e, ...(e.labels || [])]) {
			add(getComputedStyle(x), false);
			add(getComputedStyle(x, '::before'), true);
			add(getComputedStyle(x, '::after'), true);
		}
		return parts.join('|');
	};
	const focusedLook = look(el);
	el.blur();
	const blurredLook = look(el);
	el.focus({preventScroll: true});
	const r = el.getBoundingClientRect();
	const href = el.tagName === 'A' ? (el.getAttribute('href') || '') : '';
	let skip = false;
	if (href.length > 1 && href[0] === '#') {
		try { skip = document.getElementById(decodeURIComponent(href.slice(1))) !== null; } catch (e) {}
	}
	return {
		key: el.getAttribute('data-a11y-key') || '',
		desc: describe(el),
		x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height,
		skipLink: skip,
		styleChanged: focusedLook !== blurredLook,
	};
})()`

// blurJS takes focus away from the element activeJS saw, without scrolling.
const blurJS = `window.__a11yFocused.blur()`

// refocusJS gives focus back so that the next Tab continues from there.
const refocusJS = `window.__a11yFocused.focus({preventScroll: true})`

// reflowJS measures horizontal overflow and names the innermost elements
// that stick out past the right edge, which are the ones to fix.
const reflowJS = `(() => {
	` + describeJS + `
	const d = document.documentElement;
	const cw = d.clientWidth;
	const sw = d.scrollWidth;
	let offenders = [];
	if (sw > cw + 1) {
		const wide = [];
		for (const el of document.body.querySelectorAll('*')) {
			const r = el.getBoundingClientRect();
			if (r.width > 0 && r.right > cw + 1) wide.push(el);
		}
		offenders = wide.filter((e) => !wide.some((o) => o !== e && e.contains(o)))
			.slice(0, 5)
			.map((e) => describe(e) + ' reaches ' + Math.round(e.getBoundingClientRect().right) + 'px');
	}
	return {scrollWidth: sw, clientWidth: cw, offenders: offenders};
})()`
