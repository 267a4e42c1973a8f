package main

import (
	"context"

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
	if _, err := db.CreateSignup(ctx, signup, merchantHash, ""); err != nil {
		return nil, err
	}
	return out, nil
}
