// Keyport's small behaviours: dialogs, copy buttons, dismissible notices.
// Loaded as a file so the Content-Security-Policy never needs 'unsafe-inline'.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // announce tells screen readers a short message through the page's live region.
  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 50);
  }

  // A dialog's focus starts on its first invalid field, else its first field,
  // else its first button: never on the header's Close.
  function focusFirst(d) {
    var target = d.querySelector("[aria-invalid=true]:not([disabled])") ||
      d.querySelector("[autofocus]") ||
      d.querySelector(".modal-body input:not([type=hidden]):not([disabled]):not([readonly]), .modal-body select:not([disabled]), .modal-body textarea:not([disabled])") ||
      d.querySelector(".modal-body button, .modal-body a[href], .modal-foot .btn-primary, .modal-foot button, .modal-foot a[href]") ||
      d.querySelector("button");
    if (target) target.focus();
  }

  function openDialogs(root) {
    root.querySelectorAll("dialog[data-modal]:not([open])").forEach(function (d) {
      if (typeof d.showModal === "function") {
        d.showModal();
      } else {
        d.setAttribute("open", "");
      }
      focusFirst(d);
      var errors = d.querySelectorAll(".field-error, .form-error");
      if (errors.length) announce(errors.length === 1 ? errors[0].textContent : errors.length + " fields need attention. " + errors[0].textContent);
    });
  }

  // opener remembers what opened the dialog, and the id of the row or section
  // around it, so closing can give the focus back there even when the
  // section was reloaded meanwhile.
  var opener = null;
  document.addEventListener("htmx:beforeRequest", function (e) {
    var target = e.detail.target;
    var elt = e.detail.elt;
    if (!target || target.id !== "modal" || !elt || elt.closest("#modal")) return;
    var around = elt.id ? elt : elt.closest("[id]:not(#main)");
    opener = { el: elt, around: around ? around.id : "", label: (elt.textContent || "").trim() };
  });

  function restoreFocus() {
    if (!opener) return;
    var o = opener;
    opener = null;
    var give = function () {
      if (o.el.isConnected) { o.el.focus(); return true; }
      var around = o.around && document.getElementById(o.around);
      if (!around) return false;
      var same = Array.prototype.find.call(around.querySelectorAll("a, button"), function (b) { return b.textContent.trim() === o.label; });
      var target = same || around;
      if (!same && !target.hasAttribute("tabindex") && !target.matches("a, button, input, select, textarea")) target.setAttribute("tabindex", "-1");
      target.focus();
      return true;
    };
    if (give()) return;
    var done = false;
    var settled = function () {
      if (done) return;
      done = true;
      document.removeEventListener("htmx:afterSettle", settled);
      if (!give()) {
        var heading = document.querySelector("main h1");
        if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
      }
    };
    document.addEventListener("htmx:afterSettle", settled);
    setTimeout(settled, 1000);
  }

  // closeDialog closes and removes a dialog, then fires its data-refresh event
  // so the sections behind it reload, and gives the focus back to its opener.
  function closeDialog(d) {
    if (!d) return;
    var refresh = d.getAttribute("data-refresh");
    if (d.open && typeof d.close === "function") d.close();
    var holder = d.closest("#modal");
    if (holder) holder.innerHTML = "";
    else d.remove();
    if (refresh) document.body.dispatchEvent(new CustomEvent(refresh, { bubbles: true }));
    restoreFocus();
  }

  document.addEventListener("click", function (e) {
    var copy = e.target.closest("[data-copy]");
    if (copy) {
      e.preventDefault();
      var text = copy.getAttribute("data-copy");
      var done = function () {
        var old = copy.textContent;
        copy.textContent = "Copied";
        copy.classList.add("copied");
        announce("Copied");
        setTimeout(function () { copy.textContent = old; copy.classList.remove("copied"); }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(copy); });
      } else {
        selectText(copy);
        done();
      }
      return;
    }
    var close = e.target.closest("[data-close]");
    if (close) {
      e.preventDefault();
      closeDialog(close.closest("dialog"));
      return;
    }
    var dismiss = e.target.closest("[data-dismiss]");
    if (dismiss) {
      var n = dismiss.closest(".notice");
      if (n) n.remove();
    }
  });

  function selectText(el) {
    var code = el.parentElement && el.parentElement.querySelector("code, input, textarea");
    if (!code) return;
    if (code.select) { code.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(code);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  // Passkey forms (data-webauthn="create" or "get") ask the browser for a
  // credential with the options the page holds, then submit it as JSON.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var kind = form.getAttribute("data-webauthn");
    if (!kind) return;
    var field = form.querySelector("input[name=credential], input[name=assertion]");
    if (field.value) return;
    e.preventDefault();
    var error = form.querySelector("[data-webauthn-error]");
    var fail = function (msg) {
      error.textContent = msg;
      error.hidden = false;
    };
    if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
      fail("This browser cannot use passkeys. Use an authenticator app code instead.");
      return;
    }
    var options = JSON.parse(form.getAttribute("data-options")).publicKey;
    var request = kind === "create"
      ? navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
      : navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
    request.then(function (credential) {
      field.value = JSON.stringify(credential.toJSON());
      form.submit();
    }, function (err) {
      fail(err && err.name === "NotAllowedError"
        ? "The passkey request was cancelled or timed out. Try again."
        : "The browser could not use a passkey: " + (err && err.message ? err.message : err));
    });
  });

  // On a narrow screen the Menu button shows and hides the navigation and
  // the account links; Escape closes them and gives the focus back to it.
  function setMenu(toggle, open) {
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) return;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  }

  document.addEventListener("click", function (e) {
    var toggle = e.target.closest(".menu-toggle");
    if (toggle) setMenu(toggle, toggle.getAttribute("aria-expanded") !== "true");
  });

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var toggle = document.querySelector(".menu-toggle[aria-expanded=true]");
    if (!toggle || document.querySelector("dialog[open]")) return;
    setMenu(toggle, false);
    toggle.focus();
  });

  // Escape closes a dialog the same way its Close button does; a sticky one stays.
  document.addEventListener("cancel", function (e) {
    var d = e.target;
    if (!d.matches || !d.matches("dialog")) return;
    e.preventDefault();
    if (!d.hasAttribute("data-sticky")) closeDialog(d);
  }, true);

  // Parts of a form marked data-show-if="name=value,value;name=value|…" show
  // only while the form's fields hold those values (";" joins conditions
  // that must all hold, "|" alternatives). A hidden part's fields are
  // disabled, so the form never sends what does not apply; without
  // JavaScript every part shows and the server refuses contradictions.
  function applies(form, rule) {
    return rule.split("|").some(function (alternative) {
      return alternative.split(";").every(function (condition) {
        var parts = condition.split("=");
        var field = form.elements.namedItem(parts[0]);
        var value = field ? field.value : "";
        return parts[1].split(",").indexOf(value) >= 0;
      });
    });
  }

  function showWhatApplies(root) {
    root.querySelectorAll("form").forEach(function (form) {
      form.querySelectorAll("[data-show-if]").forEach(function (part) {
        var show = applies(form, part.getAttribute("data-show-if"));
        part.hidden = !show;
        part.querySelectorAll("input, select, textarea").forEach(function (field) { field.disabled = !show; });
      });
    });
  }

  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (form && form.querySelector("[data-show-if]")) showWhatApplies(form.parentNode || document);
  });

  // A table or code block wider than the screen scrolls inside its frame;
  // the frame then takes the keyboard focus, so it can be scrolled without a
  // pointer. Frames that fit take none.
  function markScrollers(root) {
    root.querySelectorAll(".table-wrap, pre").forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-scroller", "");
      } else if (!scrolls && el.hasAttribute("data-scroller")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-scroller");
      }
    });
  }
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { markScrollers(document); }, 100);
  });

  document.addEventListener("DOMContentLoaded", function () { showWhatApplies(document); openDialogs(document); markScrollers(document); });
  document.addEventListener("htmx:afterSettle", function () { showWhatApplies(document); openDialogs(document); markScrollers(document); });
})();
