package store

import (
	"context"
	"slices"
	"testing"

	"keyport"
)

// searchSeed is merchant A with named keys, merchant B with a key named like
// one of A's, and A's key on a deleted account.
type searchSeed struct {
	a, b    SignupResult
	keys    map[string]CreatedKey
	deleted CreatedKey
}

func seedKeySearch(t *testing.T, db *DB) searchSeed {
	t.Helper()
	ctx := context.Background()
	if err := db.SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	s := searchSeed{a: signedUp(t, db), b: otherMerchant(t, db), keys: map[string]CreatedKey{}}
	add := func(res SignupResult, label string, in keyport.NewKey) {
		in.AccountID, in.MerchantID = res.Account.ID, res.Merchant.ID
		if in.Type == "" {
			in.Type = keyport.KeySecret
		}
		if in.Mode == "" {
			in.Mode = keyport.ModeTest
		}
		in.Access = keyport.AccessFull
		k, err := db.CreateKey(ctx, keyport.SystemActor, in)
		if err != nil {
			t.Fatal(err)
		}
		s.keys[label] = k
	}
	add(s.a, "ci", keyport.NewKey{Name: "CI server"})
	add(s.a, "percent", keyport.NewKey{Name: "50% off campaign", Mode: keyport.ModeLive})
	add(s.a, "underscore", keyport.NewKey{Name: "under_score"})
	add(s.a, "backslash", keyport.NewKey{Name: `C:\shop`})
	add(s.a, "publishable", keyport.NewKey{Name: "Checkout widget", Type: keyport.KeyPublishable})
	add(s.b, "bolt ci", keyport.NewKey{Name: "CI server of Bolt"})
	gone, err := db.CreateAccount(ctx, keyport.SystemActor, s.a.Merchant.ID, keyport.NewAccount{Name: "Gone"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteAccount(ctx, keyport.SystemActor, s.a.Merchant.ID, gone.Account.ID); err != nil {
		t.Fatal(err)
	}
	s.deleted = gone.Secret
	return s
}

func (s searchSeed) redacted(label string) string { return s.keys[label].Key.Redacted() }

func keyNames(keys []keyport.APIKey) []string {
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
	}
	slices.Sort(names)
	return names
}

func TestMerchantSecretsSearch(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	s := seedKeySearch(t, db)
	ci, percent := s.keys["ci"].Key, s.keys["percent"].Key
	tests := []struct {
		name   string
		term   string
		filter SecretsFilter
		want   []string
	}{
		{name: "blank", term: "", want: []string{"50% off campaign", "C:\\shop", "CI server", "Checkout widget", "under_score"}},
		{name: "part of a name, any case", term: "ci SERV", want: []string{"CI server"}},
		{name: "percent sign matches itself", term: "%", want: []string{"50% off campaign"}},
		{name: "underscore matches itself", term: "_", want: []string{"under_score"}},
		{name: "backslash matches itself", term: `\`, want: []string{`C:\shop`}},
		{name: "whole key", term: s.keys["ci"].Plaintext, want: []string{"CI server"}},
		{name: "whole publishable key", term: s.keys["publishable"].Plaintext, want: []string{"Checkout widget"}},
		{name: "another merchant's whole key", term: s.keys["bolt ci"].Plaintext, want: nil},
		{name: "redacted form", term: s.redacted("ci"), want: []string{"CI server"}},
		{name: "redacted with an ellipsis", term: ci.Prefix + ci.First4 + "…" + ci.Last4, want: []string{"CI server"}},
		{name: "redacted body", term: ci.First4 + "********" + ci.Last4, want: []string{"CI server"}},
		{name: "another merchant's redacted form", term: s.redacted("bolt ci"), want: nil},
		{name: "prefix and first four", term: percent.Prefix + percent.First4, want: []string{"50% off campaign"}},
		{name: "last four", term: percent.Last4, want: []string{"50% off campaign"}},
		{name: "last four after an ellipsis", term: "…" + percent.Last4, want: []string{"50% off campaign"}},
		{name: "start of a prefix", term: "pk_", want: []string{"Checkout widget"}},
		{name: "live prefix", term: "sk_live_", want: []string{"50% off campaign"}},
		{name: "with a mode filter", term: "c", filter: SecretsFilter{Mode: keyport.ModeLive}, want: []string{"50% off campaign"}},
		{name: "with a type filter", term: "c", filter: SecretsFilter{Type: keyport.KeyPublishable}, want: []string{"Checkout widget"}},
		{name: "nothing", term: "no such key", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			search, err := keyport.ParseKeySearch(tt.term)
			if err != nil {
				t.Fatal(err)
			}
			f := tt.filter
			f.Search, f.PerPage = search, 50
			page, err := db.MerchantSecrets(ctx, s.a.Merchant.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if got := keyNames(page.Items); !slices.Equal(got, want) {
				t.Fatalf("found %q, want %q", got, want)
			}
		})
	}
}

func TestMerchantSecretsSearchNeverReturnsAnotherMerchantsKeys(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	s := seedKeySearch(t, db)
	for _, term := range []string{"CI", "%", "_", "sk_", s.keys["ci"].Plaintext, s.redacted("ci"), s.keys["ci"].Key.Last4} {
		search, err := keyport.ParseKeySearch(term)
		if err != nil {
			t.Fatal(err)
		}
		page, err := db.MerchantSecrets(ctx, s.b.Merchant.ID, SecretsFilter{Search: search, PerPage: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Items {
			if k.MerchantID != s.b.Merchant.ID {
				t.Fatalf("%q: merchant B found %q of merchant A", term, k.Name)
			}
		}
	}
}

func TestMerchantSecretsSearchPages(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	if err := db.SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Batch 1", "Other", "Batch 2", "Batch 3"} {
		if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, name)); err != nil {
			t.Fatal(err)
		}
	}
	search, _ := keyport.ParseKeySearch("batch")
	p1, err := db.MerchantSecrets(ctx, res.Merchant.ID, SecretsFilter{Search: search, PerPage: 2})
	if err != nil || keyNames(p1.Items) == nil || !slices.Equal(keyNames(p1.Items), []string{"Batch 2", "Batch 3"}) || !p1.HasNext() {
		t.Fatalf("page 1: %q, more %v, %v", keyNames(p1.Items), p1.HasNext(), err)
	}
	p2, err := db.MerchantSecrets(ctx, res.Merchant.ID, SecretsFilter{Search: search, PerPage: 2, Page: p1.Next})
	if err != nil || !slices.Equal(keyNames(p2.Items), []string{"Batch 1"}) || p2.HasNext() {
		t.Fatalf("page 2: %q, more %v, %v", keyNames(p2.Items), p2.HasNext(), err)
	}
}

func TestFindKeysSearch(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	s := seedKeySearch(t, db)
	ci, bolt := s.keys["ci"].Key, s.keys["bolt ci"].Key
	tests := []struct {
		name     string
		term     string
		merchant string
		want     []string
		deleted  bool
	}{
		{name: "whole key of merchant B", term: s.keys["bolt ci"].Plaintext, merchant: "Bolt", want: []string{"CI server of Bolt"}},
		{name: "whole key of merchant A", term: s.keys["ci"].Plaintext, merchant: "Acme", want: []string{"CI server"}},
		{name: "redacted form", term: s.redacted("bolt ci"), merchant: "Bolt", want: []string{"CI server of Bolt"}},
		{name: "redacted with an ellipsis", term: ci.Prefix + ci.First4 + "…" + ci.Last4, merchant: "Acme", want: []string{"CI server"}},
		{name: "prefix and first four", term: bolt.Prefix + bolt.First4, merchant: "Bolt", want: []string{"CI server of Bolt"}},
		{name: "key of a deleted account", term: s.deleted.Plaintext, merchant: "Acme", want: []string{keyport.LegacySecretName}, deleted: true},
		{name: "name text", term: "CI", want: nil},
		{name: "percent sign", term: "%", want: nil},
		{name: "underscore", term: "_", want: nil},
		{name: "last four", term: ci.Last4, want: nil},
		{name: "redacted body without its prefix", term: ci.First4 + "…" + ci.Last4, want: nil},
		{name: "prefix alone", term: "sk_test_", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			search, err := keyport.ParseKeySearch(tt.term)
			if err != nil {
				t.Fatal(err)
			}
			found, err := db.FindKeys(ctx, search, 50)
			if err != nil {
				t.Fatal(err)
			}
			var keys []keyport.APIKey
			for _, f := range found {
				keys = append(keys, f.APIKey)
				if f.MerchantName != tt.merchant || f.AccountDeleted != tt.deleted {
					t.Errorf("%q: merchant %q, account deleted %v", f.Name, f.MerchantName, f.AccountDeleted)
				}
			}
			if got := keyNames(keys); !slices.Equal(got, tt.want) {
				t.Fatalf("found %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeySearchPlansUseAnIndex(t *testing.T) {
	db := openTestDB(t)
	if db.Engine() != SQLite {
		t.Skip("reads SQLite's EXPLAIN QUERY PLAN")
	}
	ctx := context.Background()
	s := seedKeySearch(t, db)
	ci := s.keys["ci"]
	for _, term := range []string{ci.Plaintext, ci.Key.Redacted(), ci.Key.Prefix + ci.Key.First4, ci.Key.First4 + "…" + ci.Key.Last4, "CI", "sk_", ci.Key.Last4} {
		search, err := keyport.ParseKeySearch(term)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("merchant "+search.Shown(), func(t *testing.T) {
			for _, req := range []PageRequest{{}, {Cursor: Cursor{ID: 5}, Before: true}, {Cursor: Cursor{ID: 5}}} {
				explainEach(t, db, func() error {
					_, err := db.MerchantSecrets(ctx, s.a.Merchant.ID, SecretsFilter{Search: search, Page: req, PerPage: 50})
					return err
				})
			}
		})
		if search.Pinpoints() {
			t.Run("admin "+search.Shown(), func(t *testing.T) {
				explainEach(t, db, func() error {
					_, err := db.FindKeys(ctx, search, 50)
					return err
				})
			})
		}
	}
}
