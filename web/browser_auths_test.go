package web

import (
	"context"
	"testing"

	"keyport"
)

func TestBrowserEditRegisteredAuth(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	dpd, err := app.db.Courier(context.Background(), "dpd")
	if err != nil {
		t.Fatal(err)
	}
	in := keyport.NewAuth{Courier: "dpd", Company: "Acme Ltd", Testing: "yes",
		Values: map[string]string{"username": "acme-dpd", "password": "s3cret-DPD-pass", "account_number": "0012345"}}
	auth, err := app.db.RegisterAuth(context.Background(), keyport.SystemActor, res.Merchant.ID, res.Account.ID, dpd, in)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.openAccount("Default")
	b.click("View Registered Auths")
	b.see("DPD · Acme Ltd")
	b.click("Edit")
	b.see("Edit the DPD auth · Default")
	b.see("Leave blank to keep the current value.")
	b.fill("Company", "Acme North")
	b.clickIn(openDialog, "Save Changes")
	b.see("Saved the DPD auth of “Acme North”: Company changed.")
	b.see("DPD · Acme North")
	if b.pageHolds("DPD · Acme Ltd") {
		t.Fatal("the list still shows the old company")
	}
	_, password, err := app.db.RevealAuthSecret(context.Background(), keyport.SystemActor, res.Merchant.ID, res.Account.ID, auth.ID, "password")
	if err != nil || password != "s3cret-DPD-pass" {
		t.Fatalf("the password is %q after the change (%v)", password, err)
	}
}
