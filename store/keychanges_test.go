package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"keyport"
)

func createdHash(t *testing.T, plaintext string) [32]byte {
	t.Helper()
	parsed, err := keyport.ParseKey(plaintext)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Hash()
}

// TestWritesPublishExactlyTheKeysTheyTouch runs every write in turn and checks
// the key changes it publishes: the key, account or merchant it alters, the
// hash of a key it creates, and nothing for writes that cannot change whether
// a key verifies.
func TestWritesPublishExactlyTheKeysTheyTouch(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	mid, aid := res.Merchant.ID, res.Account.ID
	owner := keyport.UserActor(&res.Owner, "")
	staff := keyport.Actor{Label: "staff@keyport.test"}
	start := time.Now()
	db.Now = func() time.Time { return start }
	var key, rolled CreatedKey
	var member keyport.User
	var requestID, second int64
	mustDo := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name string
		run  func(t *testing.T) []keyport.KeyChange
	}{
		{"create key", func(t *testing.T) []keyport.KeyChange {
			var err error
			key, err = db.CreateKey(ctx, owner, newKey(res, keyport.ModeTest, "CI"))
			mustDo(t, err)
			return []keyport.KeyChange{keyport.KeyCreated(createdHash(t, key.Plaintext))}
		}},
		{"sign-in", func(t *testing.T) []keyport.KeyChange {
			mustDo(t, db.RecordLogin(ctx, res.Owner, "192.0.2.1", "", ""))
			return nil
		}},
		{"token cap change", func(t *testing.T) []keyport.KeyChange {
			mustDo(t, db.SetTokenCap(ctx, staff, 5))
			return nil
		}},
		{"invitation", func(t *testing.T) []keyport.KeyChange {
			_, _, err := db.CreateInvitation(ctx, nil, owner, mid, keyport.NewInvitation{Email: "late@acme.test", Role: keyport.RoleReviewer})
			mustDo(t, err)
			return nil
		}},
		{"new member", func(t *testing.T) []keyport.KeyChange {
			var err error
			member, err = db.AddMember(ctx, owner, mid, "Dev", "dev@acme.test", keyport.RoleDeveloper, "hash")
			mustDo(t, err)
			return nil
		}},
		{"role change", func(t *testing.T) []keyport.KeyChange {
			mustDo(t, db.ChangeRole(ctx, owner, mid, member.ID, keyport.RoleReviewer))
			return nil
		}},
		{"member removed", func(t *testing.T) []keyport.KeyChange {
			mustDo(t, db.RemoveMember(ctx, owner, mid, member.ID))
			return nil
		}},
		{"usage recorded", func(t *testing.T) []keyport.KeyChange {
			mustDo(t, db.RecordUsage(ctx, []keyport.KeyUse{{KeyID: key.Key.ID, Count: 3, LastAt: start, LastIP: "192.0.2.1"}}))
			return nil
		}},
		{"live key request filed and approved", func(t *testing.T) []keyport.KeyChange {
			r, err := db.FileRequest(ctx, owner, mid, aid, goodInput, 100)
			mustDo(t, err)
			requestID = r.ID
			mustDo(t, db.ApproveRequest(ctx, staff, r.ID))
			return nil
		}},
		{"live key issued", func(t *testing.T) []keyport.KeyChange {
			issued, err := db.IssueLiveKey(ctx, owner, mid, aid, requestID)
			mustDo(t, err)
			return []keyport.KeyChange{keyport.KeyCreated(createdHash(t, issued.Plaintext))}
		}},
		{"request notice dismissed", func(t *testing.T) []keyport.KeyChange {
			r, err := db.FileRequest(ctx, owner, mid, aid, goodInput, 100)
			mustDo(t, err)
			mustDo(t, db.AskForInfo(ctx, staff, r.ID, "Which shop?"))
			mustDo(t, db.DismissRequestNotice(ctx, mid, r.ID))
			return nil
		}},
		{"roll", func(t *testing.T) []keyport.KeyChange {
			var err error
			rolled, err = db.RollKey(ctx, owner, mid, aid, key.Key.ID, time.Hour)
			mustDo(t, err)
			return []keyport.KeyChange{keyport.KeyChanged(key.Key.ID), keyport.KeyCreated(createdHash(t, rolled.Plaintext))}
		}},
		{"expiry logged", func(t *testing.T) []keyport.KeyChange {
			db.Now = func() time.Time { return start.Add(2 * time.Hour) }
			n, err := db.LogExpiredKeys(ctx)
			mustDo(t, err)
			if n != 1 {
				t.Fatalf("logged %d expired keys, want the rolled one", n)
			}
			return nil
		}},
		{"revoke", func(t *testing.T) []keyport.KeyChange {
			_, err := db.RevokeKey(ctx, owner, mid, aid, rolled.Key.ID, "")
			mustDo(t, err)
			return []keyport.KeyChange{keyport.KeyChanged(rolled.Key.ID)}
		}},
		{"revoke refused", func(t *testing.T) []keyport.KeyChange {
			if _, err := db.RevokeKey(ctx, owner, mid, aid, rolled.Key.ID, ""); err == nil {
				t.Fatal("revoked twice")
			}
			return nil
		}},
		{"account created", func(t *testing.T) []keyport.KeyChange {
			created, err := db.CreateAccount(ctx, owner, mid, keyport.NewAccount{Name: "EU warehouse"})
			mustDo(t, err)
			second = created.Account.ID
			return []keyport.KeyChange{keyport.KeyCreated(createdHash(t, created.Secret.Plaintext))}
		}},
		{"account disabled", func(t *testing.T) []keyport.KeyChange {
			_, err := db.SetAccountDisabled(ctx, owner, mid, second, true)
			mustDo(t, err)
			return []keyport.KeyChange{keyport.AccountChanged(second)}
		}},
		{"account disabled again", func(t *testing.T) []keyport.KeyChange {
			_, err := db.SetAccountDisabled(ctx, owner, mid, second, true)
			mustDo(t, err)
			return nil
		}},
		{"account enabled", func(t *testing.T) []keyport.KeyChange {
			_, err := db.SetAccountDisabled(ctx, owner, mid, second, false)
			mustDo(t, err)
			return []keyport.KeyChange{keyport.AccountChanged(second)}
		}},
		{"account deleted", func(t *testing.T) []keyport.KeyChange {
			_, err := db.DeleteAccount(ctx, owner, mid, second)
			mustDo(t, err)
			return []keyport.KeyChange{keyport.AccountChanged(second)}
		}},
		{"merchant disabled", func(t *testing.T) []keyport.KeyChange {
			_, err := db.SetMerchantDisabled(ctx, staff, mid, true)
			mustDo(t, err)
			return []keyport.KeyChange{keyport.MerchantChanged(mid)}
		}},
		{"merchant enabled", func(t *testing.T) []keyport.KeyChange {
			_, err := db.SetMerchantDisabled(ctx, staff, mid, false)
			mustDo(t, err)
			return []keyport.KeyChange{keyport.MerchantChanged(mid)}
		}},
		{"password changed and sessions ended", func(t *testing.T) []keyport.KeyChange {
			_, err := db.ChangePassword(ctx, owner, res.Owner, "new hash", "")
			mustDo(t, err)
			_, err = db.EndAllSessions(ctx, owner, res.Owner)
			mustDo(t, err)
			return nil
		}},
		{"another merchant signs up", func(t *testing.T) []keyport.KeyChange {
			otherMerchant(t, db)
			return nil
		}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			seq := db.KeySeq()
			want := step.run(t)
			got, complete := db.KeyChangesSince(seq)
			if !complete || !slices.Equal(got, want) {
				t.Fatalf("published %+v (complete %v), want %+v", got, complete, want)
			}
			if db.KeySeq() != seq+uint64(len(want)) {
				t.Fatalf("sequence moved from %d to %d for %d changes", seq, db.KeySeq(), len(want))
			}
		})
	}
}
