package main

import (
	"context"
	"fmt"
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
	if err := seedDemoAccounts(ctx, db, res); err != nil {
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

// demoAuth is a registered auth the demo data creates.
type demoAuth struct {
	courier, company string
	testing          bool
	values           map[string]string
}

// seedDemoAccounts gives the demo merchant a second API account ("EU
// warehouse", whose Legacy API Secret is discarded), registered auths on both
// accounts and shipments: more than one page of test shipments on "Default".
func seedDemoAccounts(ctx context.Context, db *store.DB, res store.SignupResult) error {
	owner := keyport.UserActor(&res.Owner, "")
	second, err := db.CreateAccount(ctx, owner, res.Merchant.ID, keyport.NewAccount{Name: "EU warehouse"})
	if err != nil {
		return err
	}
	auths := map[int64][]demoAuth{
		res.Account.ID: {
			{"dpd", "Demo Parcels Ltd", true, map[string]string{"username": "demo-dpd", "password": "dpd-test-pass-123", "account_number": "0012345"}},
			{"royal_mail", "Demo Parcels Ltd", false, map[string]string{"client_id": "rm-demo-client", "client_secret": "rm-live-secret-456", "account_number": "0123456789"}},
		},
		second.Account.ID: {
			{"evri", "Demo Parcels EU", true, map[string]string{"client_id": "evri-demo", "client_secret": "evri-test-secret-789"}},
		},
	}
	for accountID, list := range auths {
		for _, a := range list {
			courier, err := db.Courier(ctx, a.courier)
			if err != nil {
				return err
			}
			testing := "no"
			if a.testing {
				testing = "yes"
			}
			in := keyport.NewAuth{Courier: a.courier, Company: a.company, Testing: testing, Values: a.values}
			if err := in.Validate(&courier); err != nil {
				return err
			}
			if _, err := db.RegisterAuth(ctx, owner, res.Merchant.ID, accountID, courier, in); err != nil {
				return err
			}
		}
	}
	now := db.Now()
	plan := []struct {
		accountID        int64
		mode             keyport.Mode
		count            int
		courier, service string
		amount           int64
	}{
		{res.Account.ID, keyport.ModeTest, 64, "dpd", "DPD_NEXT_DAY", 675},
		{res.Account.ID, keyport.ModeLive, 6, "royal_mail", "TPN24", 395},
		{second.Account.ID, keyport.ModeTest, 8, "evri", "EVRI_48", 285},
	}
	statuses := []string{keyport.ShipmentDelivered, keyport.ShipmentInTransit, keyport.ShipmentCreated, keyport.ShipmentDelivered, keyport.ShipmentCancelled}
	for _, p := range plan {
		for i := 0; i < p.count; i++ {
			tracking, err := keyport.NewTrackingNumber()
			if err != nil {
				return err
			}
			_, err = db.CreateShipment(ctx, keyport.Shipment{AccountID: p.accountID, MerchantID: res.Merchant.ID, Mode: p.mode,
				Courier: p.courier, ServiceCode: p.service, Status: statuses[i%len(statuses)], TrackingNumber: tracking,
				LabelRef: "LBL-" + tracking, AmountMinor: p.amount, Currency: "GBP", FromPostcode: "M1 1AE", FromCountry: "GB",
				ToPostcode: fmt.Sprintf("SW1A %dAA", 1+i%9), ToCountry: "GB", WeightGrams: 500 + 100*(i%15),
				CreatedAt: now.Add(-time.Duration(p.count-i) * 3 * time.Hour)}, 0)
			if err != nil {
				return err
			}
		}
	}
	return nil
}
