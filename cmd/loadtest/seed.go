package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"keyport"
	"keyport/store"
)

// seeded is what seed created: counts, the plaintexts of the load merchant's
// keys, and the sign-in of the other merchant, whose portal the churn client uses.
type seeded struct {
	Accounts  int
	Shipments int
	// Keys holds the plaintext of every key of the load merchant.
	Keys []string
	// Key is the key whose account has the shipments.
	Key   string
	Churn churnLogin
}

// churnLogin is the Owner of the churn merchant, its Developers, and the API
// account where the churn client creates keys.
type churnLogin struct {
	Email, Password string
	// Team holds the emails of the merchant's Developers, whose password is
	// the Owner's. The churn client signs in as each member in turn, as a team
	// would, so that no one account has more sign-ins in flight at once than
	// the login throttle reserves for it.
	Team      []string
	AccountID int64
}

// churnTeamSize is how many Developers the churn merchant has beside its Owner.
const churnTeamSize = 9

// member is the email the churn client signs in with on its turn-th sign-in.
func (l churnLogin) member(turn uint64) string {
	if turn%uint64(len(l.Team)+1) == 0 {
		return l.Email
	}
	return l.Team[turn%uint64(len(l.Team)+1)-1]
}

// seedOptions sizes the seed data.
type seedOptions struct {
	Accounts  int
	Shipments int
	Workers   int
	// ChurnPasswordCost is the argon2id cost of the churn team's password;
	// zero is the production cost.
	ChurnPasswordCost keyport.PasswordCost
}

// seed fills the database at path with one merchant, opts.Accounts API
// accounts (the signup's first account included) and two test secret keys per
// account: the Legacy API Secret that CreateAccount makes plus one created
// key, or two created keys on the first account, which has no Legacy secret.
// The last account's Legacy secret is kept as the valid key and gets
// opts.Shipments test shipments. A second merchant, whose Owner's password is
// kept, receives the churn client's keys; the token cap is lifted so that it
// can create as many as it likes on one account.
func seed(ctx context.Context, path string, opts seedOptions) (seeded, error) {
	var out seeded
	db, err := store.Open(path, store.Options{})
	if err != nil {
		return out, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return out, err
	}
	password, err := keyport.GeneratePassword()
	if err != nil {
		return out, err
	}
	hash, err := keyport.HashPassword(password)
	if err != nil {
		return out, err
	}
	signup := keyport.Signup{MerchantName: "Load Test Parcels", Name: "Load Tester", Email: "loadtest@keyport.local"}
	res, err := db.CreateSignup(ctx, signup, hash, "")
	if err != nil {
		return out, fmt.Errorf("signup: %w", err)
	}
	owner := keyport.UserActor(&res.Owner, "")
	testKey := func(accountID int64, name string) (string, error) {
		created, err := db.CreateKey(ctx, owner, keyport.NewKey{AccountID: accountID, MerchantID: res.Merchant.ID,
			Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: name, Access: keyport.AccessFull})
		return created.Plaintext, err
	}
	for _, name := range []string{"Load test key 1", "Load test key 2"} {
		key, err := testKey(res.Account.ID, name)
		if err != nil {
			return out, fmt.Errorf("key on %s: %w", res.Account.Name, err)
		}
		out.Keys = append(out.Keys, key)
	}
	out.Accounts = 1

	var last store.CreatedAccount
	var mu sync.Mutex
	var firstErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				name := fmt.Sprintf("Load account %05d", i)
				created, err := db.CreateAccount(ctx, owner, res.Merchant.ID, keyport.NewAccount{Name: name})
				if err != nil {
					fail(fmt.Errorf("account %s: %w", name, err))
					return
				}
				key, err := testKey(created.Account.ID, "Load test key")
				if err != nil {
					fail(fmt.Errorf("key on %s: %w", name, err))
					return
				}
				mu.Lock()
				out.Accounts++
				out.Keys = append(out.Keys, created.Secret.Plaintext, key)
				if i == opts.Accounts {
					last = created
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := 2; i <= opts.Accounts; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return out, firstErr
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	out.Key = last.Secret.Plaintext

	now := time.Now()
	for i := range opts.Shipments {
		tracking, err := keyport.NewTrackingNumber()
		if err != nil {
			return out, err
		}
		_, err = db.CreateShipment(ctx, keyport.Shipment{AccountID: last.Account.ID, MerchantID: res.Merchant.ID, Mode: keyport.ModeTest,
			Courier: "dpd", ServiceCode: "DPD_NEXT_DAY", Status: keyport.ShipmentCreated, TrackingNumber: tracking,
			LabelRef: "LBL-" + tracking, AmountMinor: 675, Currency: "GBP", FromPostcode: "M1 1AE", FromCountry: "GB",
			ToPostcode: "SW1A 1AA", ToCountry: "GB", WeightGrams: 500 + 100*(i%15),
			CreatedAt: now.Add(-time.Duration(opts.Shipments-i) * time.Hour)}, last.Secret.Key.ID)
		if err != nil {
			return out, fmt.Errorf("shipment: %w", err)
		}
		out.Shipments++
	}

	if out.Churn, err = seedChurnMerchant(ctx, db, opts.ChurnPasswordCost); err != nil {
		return out, fmt.Errorf("churn merchant: %w", err)
	}
	return out, nil
}

// seedChurnMerchant signs up the merchant the churn client signs in to, with
// churnTeamSize Developers sharing one password hashed at cost, and lifts the
// platform's token cap.
func seedChurnMerchant(ctx context.Context, db *store.DB, cost keyport.PasswordCost) (churnLogin, error) {
	password, err := keyport.GeneratePassword()
	if err != nil {
		return churnLogin{}, err
	}
	hash, err := cost.Hash(password)
	if err != nil {
		return churnLogin{}, err
	}
	signup := keyport.Signup{MerchantName: "Churn Parcels", Name: "Churn Owner", Email: "churn@keyport.local"}
	res, err := db.CreateSignup(ctx, signup, hash, "")
	if err != nil {
		return churnLogin{}, err
	}
	login := churnLogin{Email: signup.Email, Password: password, AccountID: res.Account.ID}
	actor := keyport.Actor{UserID: res.Owner.ID, Label: res.Owner.Email}
	for i := 1; i <= churnTeamSize; i++ {
		email := fmt.Sprintf("churn-dev-%d@keyport.local", i)
		if _, err := db.AddMember(ctx, actor, res.Merchant.ID, fmt.Sprintf("Churn Developer %d", i), email, keyport.RoleDeveloper, hash); err != nil {
			return churnLogin{}, err
		}
		login.Team = append(login.Team, email)
	}
	if err := db.SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
		return churnLogin{}, err
	}
	return login, nil
}
