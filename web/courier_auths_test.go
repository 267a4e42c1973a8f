package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport"
)

// authEdit is a valid change of the DPD auth that goodDPD registers.
func authEdit(company string) url.Values {
	return url.Values{"company": {company}, "testing": {"yes"}, "field_username": {"acme-dpd"},
		"field_password": {""}, "field_account_number": {"0012345"}}
}

func TestEditAuthFormShowsTheCurrentValuesButNoSecret(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	id := owner.registerDPD(res, "Acme Ltd")
	path := fmt.Sprintf("%s/auths/%d/edit", accountPath(res), id)

	list := owner.htmxGet(accountPath(res) + "/auths")
	wantContains(t, list.Body, `href="`+path+`"`, `aria-label="Edit DPD auth Acme Ltd"`)

	for _, r := range []response{owner.get(path), owner.htmxGet(path)} {
		wantStatus(t, r, http.StatusOK)
		wantContains(t, r.Body, "Edit the DPD auth · Default", "<strong>DPD</strong>", `value="Acme Ltd"`, `value="acme-dpd"`,
			`value="0012345"`, `name="testing" value="yes" checked`, "Leave blank to keep the current value.",
			fmt.Sprintf(`action="%s/auths/%d"`, accountPath(res), id))
		if strings.Contains(r.Body, "Secret-DPD-pass-77") || strings.Contains(r.Body, `name="courier"`) {
			t.Fatal("the form shows the secret or lets the courier change")
		}
	}
	if page := owner.get(path); !strings.Contains(page.Body, "<html") {
		t.Fatal("without htmx the form is not a whole page")
	}
	if frag := owner.htmxGet(path); strings.Contains(frag.Body, "<html") || frag.Header.Get("HX-Retarget") != "#modal" {
		t.Fatal("with htmx the form is not a dialog")
	}
}

func TestUpdateAuthKeepsBlankSecretsAndIsAudited(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	id := owner.registerDPD(res, "Acme Ltd")
	path := fmt.Sprintf("%s/auths/%d", accountPath(res), id)
	reveal := func() string {
		t.Helper()
		r := owner.htmxPost(path+"/reveal", url.Values{"field": {"password"}})
		wantStatus(t, r, http.StatusOK)
		return r.Body
	}

	form := authEdit("Acme North")
	form.Set("testing", "no")
	form.Set("courier", "royal_mail")
	r := owner.htmxPost(path, form)
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.Body, "Saved the DPD auth of “Acme North”: Company, Testing changed.", "DPD · Acme North")
	wantContains(t, reveal(), "Secret-DPD-pass-77")
	if n := app.count(`SELECT count(*) FROM registered_auths WHERE id = $1 AND courier = 'dpd' AND company = 'Acme North' AND testing = FALSE`, id); n != 1 {
		t.Fatal("the change was not saved as sent, or the courier changed")
	}

	form = authEdit("Acme North")
	form.Set("testing", "no")
	form.Set("field_password", "  Fresh-DPD-pass-88 ")
	r = owner.post(path, form)
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != accountPath(res)+"/auths" {
		t.Fatalf("sent to %q", loc)
	}
	wantContains(t, owner.get(accountPath(res)+"/auths").Body, "Saved the DPD auth of “Acme North”: Password changed.")
	wantContains(t, reveal(), "Fresh-DPD-pass-88")

	r = owner.htmxPost(path, form)
	wantContains(t, r.Body, "Saved the DPD auth of “Acme North”: Password changed.")
	form.Set("field_password", "")
	r = owner.htmxPost(path, form)
	wantContains(t, r.Body, "Nothing changed in the DPD auth of “Acme North”.")

	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'auth.updated'`); n != 3 {
		t.Fatalf("%d auth.updated events, want 3", n)
	}
	audit := owner.getURL("/audit?action=auth.updated").Body
	wantContains(t, audit, "Registered auth changed", "DPD · Acme Ltd (testing) → DPD · Acme North (live): Company, Testing")
	if strings.Contains(audit, "Fresh-DPD-pass-88") || strings.Contains(audit, "Secret-DPD-pass-77") {
		t.Fatal("the audit log shows a secret")
	}
}

func TestUpdateAuthRefusesWhatRegisteringRefuses(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	id := owner.registerDPD(res, "Acme Ltd")
	owner.registerDPD(res, "Bolt Ltd")
	path := fmt.Sprintf("%s/auths/%d", accountPath(res), id)
	before := app.count(`SELECT count(*) FROM audit_events`)
	cases := []struct {
		name, field, value, message string
	}{
		{"no company", "company", " ", "Company is required."},
		{"another auth's company", "company", "BOLT LTD", "This API account already has a DPD auth for this company in this mode."},
		{"testing garbage", "testing", "1", "Choose whether these are testing credentials."},
		{"blank username", "field_username", "", "Username is required."},
		{"huge account number", "field_account_number", strings.Repeat("1", 501), "Account number must be at most 500 characters."},
		{"control character in a secret", "field_password", "a\x1bb", "Password contains characters that are not allowed."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := authEdit("Acme Ltd")
			form.Set(tc.field, tc.value)
			for _, r := range []response{owner.htmxPost(path, form), owner.post(path, form)} {
				wantStatus(t, r, http.StatusUnprocessableEntity)
				wantContains(t, r.Body, tc.message, "Edit the DPD auth · Default")
			}
		})
	}
	if n := app.count(`SELECT count(*) FROM audit_events`); n != before {
		t.Fatalf("refused changes wrote %d audit events", n-before)
	}
	if n := app.count(`SELECT count(*) FROM registered_auths WHERE id = $1 AND company = 'Acme Ltd'`, id); n != 1 {
		t.Fatal("a refused change was saved")
	}
}

func TestEditAuthIsForItsOwnersAndDevelopersOnly(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	id := owner.registerDPD(res, "Acme Ltd")
	path := fmt.Sprintf("%s/auths/%d", accountPath(res), id)
	developer := app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	other, otherRes := app.merchant("Bolt", "owner@bolt.test")
	otherAuth := other.registerDPD(otherRes, "Bolt Ltd")

	wantStatus(t, developer.get(path+"/edit"), http.StatusOK)
	wantStatus(t, developer.post(path, authEdit("Acme by Dev")), http.StatusSeeOther)
	wantStatus(t, reviewer.get(path+"/edit"), http.StatusForbidden)
	wantStatus(t, reviewer.post(path, authEdit("Acme by Rita")), http.StatusForbidden)
	wantStatus(t, other.get(path+"/edit"), http.StatusNotFound)
	wantStatus(t, other.post(path, authEdit("Acme by Bolt")), http.StatusNotFound)
	foreign := fmt.Sprintf("%s/auths/%d", accountPath(res), otherAuth)
	wantStatus(t, owner.get(foreign+"/edit"), http.StatusNotFound)
	wantStatus(t, owner.post(foreign, authEdit("Stolen")), http.StatusNotFound)
	if n := app.count(`SELECT count(*) FROM registered_auths WHERE company IN ('Acme by Dev', 'Acme by Rita', 'Acme by Bolt', 'Stolen')`); n != 1 {
		t.Fatalf("%d changes saved, want the Developer's", n)
	}
	wantStatus(t, owner.post(path+"/delete", nil), http.StatusSeeOther)
	wantStatus(t, owner.get(path+"/edit"), http.StatusNotFound)
	wantStatus(t, owner.post(path, authEdit("Deleted")), http.StatusNotFound)
}
