package browsertest

import "github.com/chromedp/chromedp"

// Get runs one chromedp action that yields a value (Evaluate with
// EvalAwaitPromise for a script's fetch, Value, AttributeValue...) in the
// tab and returns it; on failure it keeps a screenshot and fails the test.
func Get[T any](b *Tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.Screenshot("failed-" + what)
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// Listen calls fn with every DevTools event of the tab (network, log,
// runtime...), under chromedp.Listen's rules: fn must not block, and must
// not drive the browser.
func (b *Tab) Listen(fn func(ev any)) {
	b.t.Helper()
	if err := chromedp.Listen(b.ctx, fn); err != nil {
		b.t.Fatalf("browser: listen: %v", err)
	}
}
