package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// logOut clicks Log out, opening the Menu first where the screen is narrow
// enough to fold the navigation behind it.
func (b *browser) logOut() {
	b.t.Helper()
	b.settled()
	if b.eval(`(function () { var m = document.querySelector(".menu-toggle"); return String(!!m && m.offsetParent !== null && m.getAttribute("aria-expanded") !== "true"); })()`) == "true" {
		b.click("Menu")
	}
	b.click("Log out")
}

// layoutFaults reports, for the page as it stands, a sideways scroll of the
// page, any row action of a table, button of an open dialog's footer or Copy
// button outside the viewport, and any Copy button lying over code. Each
// fault names the elements at fault.
const layoutFaults = `(function () {
  var w = window.innerWidth, h = window.innerHeight, faults = [];
  function name(el) {
    var s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\s+/).join(".");
    var text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 30);
    return text ? s + " \"" + text + "\"" : s;
  }
  function shown(el) { return el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden"; }
  function clipped(el) {
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o !== "visible" && p.getBoundingClientRect().right <= w + 0.5) return true;
    }
    return false;
  }
  var width = document.documentElement.scrollWidth;
  if (width > w) {
    var out = [];
    document.querySelectorAll("body *").forEach(function (el) {
      if (!shown(el)) return;
      var r = el.getBoundingClientRect();
      if (r.right > w + 0.5 && !clipped(el) && !(el.parentElement && out.indexOf(el.parentElement) >= 0)) out.push(el);
    });
    faults.push("the page is " + width + " px wide in a " + w + " px viewport; sticking out: " + out.slice(0, 8).map(name).join(", "));
  }
  var inside = function (el) { var r = el.getBoundingClientRect(); return r.left >= -0.5 && r.right <= w + 0.5; };
  document.querySelectorAll(".table tbody a, .table tbody button").forEach(function (el) {
    if (shown(el) && !el.closest("dialog:not([open])") && !inside(el)) faults.push("row action " + name(el) + " is outside the viewport");
  });
  document.querySelectorAll("dialog[open]").forEach(function (d) {
    var r = d.getBoundingClientRect();
    if (r.left < 0 || r.right > w + 0.5) faults.push("dialog " + name(d.querySelector("h2") || d) + " is " + Math.round(r.width) + " px wide");
    d.querySelectorAll(".modal-foot .btn, .modal-foot button").forEach(function (el) {
      var b = el.getBoundingClientRect();
      if (shown(el) && (!inside(el) || b.bottom > h + 0.5)) faults.push("dialog footer button " + name(el) + " is off screen");
    });
  });
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    if (!shown(btn)) return;
    var b = btn.getBoundingClientRect();
    document.querySelectorAll("pre, code").forEach(function (code) {
      if (!shown(code) || code.contains(btn) || btn.contains(code) || code.closest("dialog") !== btn.closest("dialog")) return;
      var c = code.getBoundingClientRect();
      if (b.left < c.right - 0.5 && c.left < b.right - 0.5 && b.top < c.bottom - 0.5 && c.top < b.bottom - 0.5) {
        faults.push("copy button " + name(btn) + " covers " + name(code));
      }
    });
  });
  return JSON.stringify(faults);
})()`

// wideLayout lists what, on a wide screen, would not be as it always was: a
// table not laid out as a table, a navigation link hidden, or a Menu button.
const wideLayout = `JSON.stringify([].concat(
  Array.prototype.filter.call(document.querySelectorAll(".table"), function (t) { return getComputedStyle(t).display !== "table"; }).map(function () { return "a stacked table"; }),
  Array.prototype.filter.call(document.querySelectorAll(".mainnav a, .whoami .btn"), function (a) { return a.offsetParent === null; }).map(function (a) { return "hidden link " + a.textContent.trim(); }),
  Array.prototype.filter.call(document.querySelectorAll(".menu-toggle"), function (m) { return m.offsetParent !== null; }).map(function () { return "a Menu button"; })
))`

// faults evaluates layoutFaults on the page.
func (b *browser) faults() []string {
	b.t.Helper()
	b.settled()
	var list []string
	out := b.eval(layoutFaults)
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		b.t.Fatal(err)
	}
	return list
}

// TestBrowserEveryPageFitsAPhone walks every page and dialog, as each role
// sees it, at 390 and 320 pixels wide and fails on a sideways scroll, a row
// action or dialog button out of reach, or a Copy button over its code; at
// 1280 pixels the tables stay tables and the navigation stays unfolded.
func TestBrowserEveryPageFitsAPhone(t *testing.T) {
	t.Parallel()
	var failures []string
	for _, size := range []struct{ w, h int64 }{{390, 844}, {320, 568}, {1280, 800}} {
		app := newTestApp(t)
		states := everyPageAndDialog(t, app)
		b := newBrowser(t, app)
		b.run(chromedp.EmulateViewport(size.w, size.h))
		b.walk(states, func(st a11yState) {
			for _, f := range b.faults() {
				failures = append(failures, fmt.Sprintf("%d px, %s (%s): %s", size.w, st.name, st.path, f))
			}
			if size.w < 1000 {
				return
			}
			if got := b.eval(wideLayout); got != "[]" {
				failures = append(failures, fmt.Sprintf("%d px, %s (%s): %s", size.w, st.name, st.path, got))
			}
		})
	}
	if len(failures) > 0 {
		t.Errorf("%d layout faults:\n%s", len(failures), strings.Join(failures, "\n"))
	}
}

// press sends one key press, as the keyboard would, to the focused element.
func (b *browser) press(key string) {
	b.t.Helper()
	b.run(chromedp.KeyEvent(key))
}

// tabTo presses Tab until the focus is on the element whose visible text is
// label, and fails after 30 presses.
func (b *browser) tabTo(label string) {
	b.t.Helper()
	for range 30 {
		b.press(kb.Tab)
		if b.eval(`(document.activeElement.textContent || "").trim().replace(/\s+/g, " ")`) == label {
			return
		}
	}
	b.t.Fatalf("30 Tab presses never reached %q", label)
}

// TestBrowserMenuOnAPhone opens the folded navigation with the keyboard,
// closes it with Escape, opens it again and follows a link, at 390 pixels.
func TestBrowserMenuOnAPhone(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.merchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	b.run(chromedp.EmulateViewport(390, 844))

	b.open("/login")
	if got := b.eval(`String(document.querySelector("a[href='/signup']").offsetParent === null)`); got != "true" {
		t.Fatal("Sign up shows before the Menu is opened on a phone")
	}
	b.click("Menu")
	b.click("Sign up")
	b.seeHeading("Create your merchant account")

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.settled()
	menu := `document.querySelector(".menu-toggle")`
	if got := b.eval(`String(document.querySelector(".mainnav a[href='/team']").offsetParent === null)`); got != "true" {
		t.Fatal("the navigation shows before the Menu is opened on a phone")
	}
	b.tabTo("Menu")
	b.press(kb.Enter)
	b.waitJS(menu+`.getAttribute("aria-expanded") === "true"`, "the Menu to open")
	b.see("Your settings")
	b.press(kb.Escape)
	b.waitJS(menu+`.getAttribute("aria-expanded") === "false" && document.activeElement === `+menu, "Escape to close the Menu and give the focus back")
	if got := b.eval(`String(document.querySelector(".mainnav a[href='/team']").offsetParent === null)`); got != "true" {
		t.Fatal("the navigation still shows after Escape")
	}
	b.press(kb.Enter)
	b.waitJS(menu+`.getAttribute("aria-expanded") === "true"`, "the Menu to open again")
	b.tabTo("Team")
	b.press(kb.Enter)
	b.seeHeading("Team")
	if loc := b.location(); loc != "/team" {
		t.Fatalf("landed on %s", loc)
	}
}

// TestBrowserNavigationWithoutJavaScript signs in and moves around at 320
// pixels with JavaScript off: every navigation link and Log out show, with no
// Menu button and no sideways scroll.
func TestBrowserNavigationWithoutJavaScript(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.merchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	b.run(chromedp.EmulateViewport(320, 568))
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}

	b.open("/login")
	b.fill("Email", "owner@acme.test")
	b.fill("Password", testPassword)
	b.run(chromedp.Click(chromedp.Search(`//form//button[normalize-space()='Log in']`), chromedp.NodeVisible))
	b.seeHeading("API Accounts")
	for _, label := range []string{"API Accounts", "API secrets", "Webhooks", "Team", "Audit log", "API docs", "Your settings", "Log out"} {
		b.run(chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//header//*[self::a or self::button][normalize-space()=%s]`, xpathString(label)))))
	}
	if got := b.eval(`String(document.querySelector(".menu-toggle").offsetParent === null)`); got != "true" {
		t.Fatal("a Menu button that needs JavaScript shows without it")
	}
	if got := b.eval(`document.documentElement.scrollWidth + " " + window.innerWidth`); got != "320 320" {
		t.Fatalf("page width and viewport without JavaScript: %s", got)
	}
	b.run(chromedp.Click(chromedp.Search(`//header//a[normalize-space()='Webhooks']`), chromedp.NodeVisible))
	b.seeHeading("Webhooks")
}
