package main

import (
	"context"
	"time"

	"keyport"
	"keyport/store"
)

const (
	demoAdminEmail    = "admin@keyport.local"
	demoMerchantEmail = "demo@keyport.local"
)

// demoLogins are the generated credentials of the demo users.
type demoLogins struct {
	Created          bool
	AdminEmail       string
	AdminPassword    string
	MerchantEmail    string
	MerchantPassword string
}

// seedDemo creates a platform admin and a demo merchant, only on a database without users.
func seedDemo(ctx context.Context, db *store.DB) (*demoLogins, error) {
	n, err := db.CountUsers(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return &demoLogins{}, nil
	}
	out := &demoLogins{Created: true, AdminEmail: demoAdminEmail, MerchantEmail: demoMerchantEmail}
	if out.AdminPassword, err = keyport.GeneratePassword(); err != nil {
		return nil, err
	}
	if out.MerchantPassword, err = keyport.GeneratePassword(); err != nil {
		return nil, err
	}
	adminHash, err := keyport.HashPassword(out.AdminPassword)
	if err != nil {
		return nil, err
	}
	if _, err := db.CreateAdmin(ctx, "Platform admin", demoAdminEmail, adminHash); err != nil {
		return nil, err
	}
	merchantHash, err := keyport.HashPassword(out.MerchantPassword)
	if err != nil {
		return nil, err
	}
	signup := keyport.Signup{MerchantName: "Demo Parcels Ltd", Name: "Dana Demo", Email: demoMerchantEmail}
	res, err := db.CreateSignup(ctx, signup, merchantHash, "")
	if err != nil {
		return nil, err
	}
	if err := seedDemoKeys(ctx, db, res); err != nil {
		return nil, err
	}
	return out, nil
}

// seedDemoKeys gives the demo merchant's first account a few test keys (one
// active, one with an expiry, one revoked) and a pending live key request.
// Their plaintexts are discarded: nobody can use them.
func seedDemoKeys(ctx context.Context, db *store.DB, res store.SignupResult) error {
	owner := keyport.UserActor(&res.Owner, "")
	key := func(name string, expires time.Time) (store.CreatedKey, error) {
		return db.CreateKey(ctx, owner, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
			Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: name, ExpiresAt: expires, Access: keyport.AccessFull})
	}
	old, err := key("Old laptop", time.Time{})
	if err != nil {
		return err
	}
	if _, err := db.RevokeKey(ctx, owner, res.Merchant.ID, res.Account.ID, old.Key.ID, "Laptop replaced"); err != nil {
		return err
	}
	if _, err := key("Local development", time.Time{}); err != nil {
		return err
	}
	if _, err := key("Staging checkout", db.Now().Add(30*24*time.Hour)); err != nil {
		return err
	}
	in := keyport.LiveKeyRequestInput{TokenName: "Production checkout", IntendedUse: "Buy labels for our web shop's orders at checkout and print them in the warehouse.",
		Website: "https://demo-parcels.example", MonthlyShipments: "1200"}
	_, err = db.FileRequest(ctx, owner, res.Merchant.ID, res.Account.ID, in, 1200)
	return err
}
