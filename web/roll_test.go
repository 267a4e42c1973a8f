package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRollAKeyWithAGracePeriod(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	oldKey := owner.generate(res, "Laptop")
	owner.generate(res, "CI")
	id := app.keyIDs(res.Account.ID, "name = 'Laptop'")[0]
	roll := fmt.Sprintf("%s/%d/roll", keysPath(res), id)

	manage := owner.htmxGet(keysPath(res) + "/manage?mode=test")
	wantContains(t, manage.Body, "Roll Laptop", "Roll CI")
	form := owner.htmxGet(roll)
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, "When should the old key stop working?", "In 1 hour", "Stop it now", ">Roll key<")
	bad := owner.htmxPost(roll, url.Values{"grace": {"forever"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantContains(t, bad.Body, "Choose when the old key stops working.")
	if n := app.count(`SELECT count(*) FROM api_keys`); n != 2 {
		t.Fatalf("keys after a refused roll: %d", n)
	}

	rolled := owner.htmxPost(roll, url.Values{"grace": {"1h"}})
	wantStatus(t, rolled, http.StatusOK)
	newKey := plaintextKey.FindString(rolled.Body)
	if newKey == "" || newKey == oldKey {
		t.Fatalf("no new key revealed:\n%s", rolled.Body)
	}
	tab := owner.get(keysPath(res))
	wantContains(t, tab.Body, "Expires in 1 hour", "Max of 2 tokens reached")
	if strings.Count(tab.Body, ">Laptop<") != 2 {
		t.Fatal("the old and the new Laptop keys are not both listed")
	}
	again := owner.htmxGet(keysPath(res) + "/manage?mode=test")
	if strings.Count(again.Body, "Roll Laptop") != 1 {
		t.Fatal("the rolled key can be rolled again")
	}
	wantStatus(t, owner.htmxPost(roll, url.Values{"grace": {"1h"}}), http.StatusConflict)

	app.advance(61 * time.Minute)
	owner.login("owner@acme.test")
	later := owner.get(keysPath(res))
	wantContains(t, later.Body, ">Expired<")
}
