package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"keyport/web/mailtest"
)

// browser drives headless Chromium against a real HTTP server of the app and
// collects console errors and CSP violations, failing the test on any.
type browser struct {
	t      *testing.T
	ctx    context.Context
	base   string
	mu     sync.Mutex
	issues []string
}

func chromiumPath() string {
	if p := os.Getenv("KEYPORT_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

const cspWatcher = `document.addEventListener('securitypolicyviolation', function (e) {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI);
});`

// chromium is the one Chromium process the browser tests of the package share;
// each test gets its own browser context in it, so no cookie or storage
// crosses from one test to another.
var chromium struct {
	once sync.Once
	// ctx is the context of the browser's first tab; a test's context is its child.
	ctx  context.Context
	err  error
	stop func()
}

// sharedBrowser starts Chromium at exe on its first call and returns the
// context of its first tab; stopSharedBrowser ends it.
func sharedBrowser(exe string) (context.Context, error) {
	chromium.once.Do(func() {
		dir, err := os.MkdirTemp("", "keyport-chromium-")
		if err != nil {
			chromium.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(exe),
			chromedp.Flag("headless", true),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1280, 900),
		)
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(allocCtx)
		chromium.stop = func() {
			cancelCtx()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
			chromium.err = err
			return
		}
		chromium.ctx = ctx
	})
	return chromium.ctx, chromium.err
}

// stopSharedBrowser ends the Chromium process of sharedBrowser, if it started one.
func stopSharedBrowser() {
	if chromium.stop != nil {
		chromium.stop()
	}
}

// newBrowser opens a tab, in a browser context of its own, on a real HTTP
// server of app; it skips the test when there is no Chromium, except in CI.
func newBrowser(t *testing.T, app *testApp) *browser {
	t.Helper()
	skipWithoutBrowser(t)
	ts := httptest.NewServer(app.srv)
	t.Cleanup(ts.Close)
	return openBrowser(t, ts.URL)
}

// newLocalhostBrowser is newBrowser on http://localhost:PORT, the portal's
// public URL too: passkeys need a domain name, never an IP address.
func newLocalhostBrowser(t *testing.T, app *testApp) *browser {
	t.Helper()
	skipWithoutBrowser(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	cfg := app.config()
	cfg.BaseURL, _ = url.Parse(base)
	app.srv = New(app.db, cfg)
	ts := httptest.NewUnstartedServer(app.srv)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return openBrowser(t, base)
}

// skipWithoutBrowser skips a browser test in -short mode or without
// Chromium, except in CI.
func skipWithoutBrowser(t *testing.T) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromiumPath()
	if exe == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Chromium found (install Debian's chromium); browser tests never skip in CI")
		}
		t.Skip("no Chromium found at /usr/bin/chromium; install it to run browser tests")
	}
}

// openBrowser opens a tab, in a browser context of its own, on the server at base.
func openBrowser(t *testing.T, base string) *browser {
	t.Helper()
	shared, err := sharedBrowser(chromiumPath())
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}

	ctx, cancelCtx := chromedp.NewContext(shared, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelCtx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open a tab in Chromium: %v", err)
	}
	b := &browser{t: t, ctx: ctx, base: base}
	messages := chromedp.Console(ctx)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				b.report(fmt.Sprintf("%s %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1))
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.report(fmt.Sprintf("the page opened a browser %s dialog: %q", ev.Type, ev.Message))
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatcher}); err != nil {
		t.Fatalf("install CSP watcher: %v", err)
	}
	t.Cleanup(func() {
		cancelCtx()
		wg.Wait()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, issue := range b.issues {
			t.Errorf("browser: %s", issue)
		}
	})
	return b
}

// report records a console error or CSP violation; expected 4xx responses of
// form posts are not errors of the page, so resource-load failures are ignored.
func (b *browser) report(msg string) {
	if strings.Contains(msg, "Failed to load resource") {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.issues = append(b.issues, msg)
}

// run performs the steps, each allowed 15 seconds.
func (b *browser) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	for _, step := range steps {
		ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
		err := chromedp.Do(ctx, step)
		cancel()
		if err != nil {
			b.t.Fatalf("browser: %v", err)
		}
	}
}

// eval evaluates a JavaScript expression in the page.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("browser eval %s: %v", expr, err)
	}
	return v
}

// waitJS waits up to 5 seconds for a JavaScript expression to be true; an
// evaluation that fails while a page is loading counts as not yet.
func (b *browser) waitJS(expr, what string) {
	b.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(`+expr+`)`))
		cancel()
		if err == nil && v == "true" {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited 5s for %s (last error: %v)", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settled waits until the page has loaded, so htmx has set up its links and
// forms, and no htmx request, swap or settle is under way: a click on a link
// htmx is still swapping in would be a full-page navigation.
func (b *browser) settled() {
	b.t.Helper()
	b.waitJS(`document.readyState === "complete" && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")`,
		"the page to settle")
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base + path))
}

func xpathString(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `concat('` + strings.ReplaceAll(s, "'", `', "'", '`) + `')`
}

// click clicks the visible link or button whose text is label, once the page
// has settled, so that it never lands on a link htmx is still swapping in.
func (b *browser) click(label string) {
	b.t.Helper()
	b.settled()
	sel := fmt.Sprintf(`//*[self::a or self::button or self::summary][normalize-space()=%s]`, xpathString(label))
	b.run(chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible))
}

// fill enters a value into the input whose label reads label: it focuses the
// field and inserts the text as typing or pasting would, firing the field's
// input events, in one step rather than three key events per character.
func (b *browser) fill(label, value string) {
	b.t.Helper()
	sel := fmt.Sprintf(`//*[@id=//label[normalize-space()=%s]/@for]`, xpathString(label))
	b.run(chromedp.WaitVisible(chromedp.Search(sel)))
	q, _ := json.Marshal(sel)
	if got := b.eval(`(function () {
  var el = document.evaluate(` + string(q) + `, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  if (!el) return "missing";
  el.value = "";
  return "ok";
})()`); got != "ok" {
		b.t.Fatalf("fill %q: %s", label, got)
	}
	b.run(chromedp.Focus(chromedp.Search(sel)))
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: value}); err != nil {
		b.t.Fatalf("fill %q: %v", label, err)
	}
}

// see waits until text is visible on the page.
func (b *browser) see(text string) {
	b.t.Helper()
	sel := fmt.Sprintf(`//*[not(self::script) and not(self::style) and contains(normalize-space(.), %s)][not(*[contains(normalize-space(.), %s)])]`, xpathString(text), xpathString(text))
	b.run(chromedp.WaitVisible(chromedp.Search(sel)))
}

// seeHeading waits for an h1 reading text.
func (b *browser) seeHeading(text string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//h1[normalize-space()=%s]`, xpathString(text)))))
}

// location returns the current path.
func (b *browser) location() string {
	b.t.Helper()
	return b.eval(`location.pathname + location.search`)
}

func TestBrowserSignupLogoutLogin(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	mails := mailtest.Start(t)
	app.withMailer(mailerFor(app, mails))
	app.runSender(time.Hour)
	b := newBrowser(t, app)

	b.open("/")
	b.seeHeading("Log in to Keyport")
	b.click("Sign up")
	b.seeHeading("Create your merchant account")
	b.fill("Merchant name", "Browser Parcels")
	b.fill("Your name", "Bea Browser")
	b.fill("Email", "bea@browser.test")
	b.fill("Password", "short")
	b.run(chromedp.Click(chromedp.Search(`//form//button[normalize-space()='Sign up']`)))
	b.see("Password must be at least 12 characters.")
	b.fill("Password", "a-long-unusual-passphrase")
	b.run(chromedp.Click(chromedp.Search(`//form//button[normalize-space()='Sign up']`)))
	b.seeHeading("Check your inbox")
	b.see("We sent a message to bea@browser.test.")
	got := mails.WaitFor("bea@browser.test", "Verify your email address for Keyport")
	link := regexp.MustCompile(`http://example\.test/verify-email\?token=[A-Za-z0-9_-]+`).FindString(got.Text)
	if link == "" {
		t.Fatalf("no verification link in the email:\n%s", got.Text)
	}
	b.open(pathOf(t, link))
	b.seeHeading("Verify your email address")
	b.clickIn("//form", "Verify my email")
	b.seeHeading("API Accounts")
	b.see("Default")
	b.see("Your email address is verified. Welcome to Keyport.")
	if loc := b.location(); loc != "/accounts" {
		t.Fatalf("landed on %s", loc)
	}

	b.click("Log out")
	b.seeHeading("Log in to Keyport")
	b.see("You have logged out.")
	b.fill("Email", "bea@browser.test")
	b.fill("Password", "not-my-password")
	b.run(chromedp.Click(chromedp.Search(`//form//button[normalize-space()='Log in']`)))
	b.see("Incorrect email or password.")
	b.fill("Password", "a-long-unusual-passphrase")
	b.run(chromedp.Click(chromedp.Search(`//form//button[normalize-space()='Log in']`)))
	b.seeHeading("API Accounts")
	b.see("Default")
	b.open("/accounts")
	b.see("Browser Parcels")
}

// TestBrowserHarnessCatchesCSPViolations proves the checks the other browser
// tests rely on: an inline script is refused by the CSP and reported.
func TestBrowserHarnessCatchesCSPViolations(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	b := newBrowser(t, app)
	b.open("/login")
	b.seeHeading("Log in to Keyport")
	if got := b.eval(`window.htmx ? htmx.version : "none"`); !strings.HasPrefix(got, "2.0.") {
		t.Fatalf("htmx version %q", got)
	}
	b.eval(`(function () { var s = document.createElement("script"); s.textContent = "window.injected = 1"; document.body.appendChild(s); return "" })()`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		n := len(b.issues)
		found := n > 0 && strings.Contains(strings.Join(b.issues, "\n"), "CSP violation")
		if found {
			b.issues = nil
		}
		b.mu.Unlock()
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an inline script ran or was refused without a report")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := b.eval(`String(window.injected)`); got != "undefined" {
		t.Fatalf("inline script ran: %s", got)
	}
}
