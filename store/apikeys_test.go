package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport"
)

func TestCreateKeyCapHoldsUnderConcurrency(t *testing.T) {
	db := openTestDB(t)
	res := signedUp(t, db)
	in := keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID, Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "ci"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, capped := 0, 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.CreateKey(context.Background(), keyport.SystemActor, in)
			var ce *keyport.CapError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.As(err, &ce):
				capped++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	if created != 2 || capped != 48 {
		t.Fatalf("created %d, capped %d; want 2 and 48", created, capped)
	}
	if n := count(t, db, "SELECT count(*) FROM api_keys"); n != 2 {
		t.Fatalf("stored keys = %d", n)
	}
}

func newKey(res SignupResult, mode keyport.Mode, name string) keyport.NewKey {
	return keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID, Type: keyport.KeySecret, Mode: mode, Name: name}
}

func TestPlaintextNeverReachesTheDatabaseFiles(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	res := signedUp(t, db)
	var plaintexts []string
	for _, mode := range []keyport.Mode{keyport.ModeTest, keyport.ModeLive} {
		created, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, mode, "scan me"))
		if err != nil {
			t.Fatal(err)
		}
		plaintexts = append(plaintexts, created.Plaintext)
	}
	id := requestIn(t, db, res, keyport.RequestApproved)
	issued, err := db.IssueLiveKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	plaintexts = append(plaintexts, issued.Plaintext)

	files, _ := filepath.Glob(filepath.Join(dir, FileName+"*"))
	hashesSeen := 0
	if len(files) < 2 {
		t.Fatalf("expected the database and its WAL, found %v", files)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range plaintexts {
			parsed, _ := keyport.ParseKey(p)
			body := p[len(parsed.Prefix()):]
			if bytes.Contains(raw, []byte(p)) || bytes.Contains(raw, []byte(body)) {
				t.Fatalf("%s holds the plaintext of %s", filepath.Base(f), parsed.Prefix())
			}
			hash := parsed.Hash()
			if bytes.Contains(raw, hash[:]) {
				hashesSeen++
			}
		}
	}
	if hashesSeen < len(plaintexts) {
		t.Fatalf("found %d of %d hashes: the scan does not see the written rows", hashesSeen, len(plaintexts))
	}
}

func TestExpiredKeysStayListedAndStopCounting(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now }
	res := signedUp(t, db)
	in := newKey(res, keyport.ModeTest, "week")
	in.ExpiresAt = now.Add(7 * 24 * time.Hour)
	week, err := db.CreateKey(ctx, keyport.SystemActor, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "forever")); err != nil {
		t.Fatal(err)
	}
	var ce *keyport.CapError
	if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "third")); !errors.As(err, &ce) {
		t.Fatalf("at the cap: %v", err)
	}
	if n, err := db.LogExpiredKeys(ctx); err != nil || n != 0 {
		t.Fatalf("logged %d, %v before expiry", n, err)
	}

	now = now.Add(7*24*time.Hour + time.Second)
	keys := currentKeys(t, db, res.Account.ID, keyport.ModeTest)
	if len(keys) != 2 {
		t.Fatalf("%d current keys", len(keys))
	}
	for _, k := range keys {
		if k.ID == week.Key.ID && k.StatusAt(now) != keyport.KeyExpired {
			t.Fatalf("status %s", k.StatusAt(now))
		}
	}
	if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "third")); err != nil {
		t.Fatalf("expired key still counts: %v", err)
	}
	for i, want := range []int{1, 0} {
		if n, err := db.LogExpiredKeys(ctx); err != nil || n != want {
			t.Fatalf("run %d logged %d, %v", i, n, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'key.expired' AND object_id = $1 AND actor = 'system'`, week.Key.ID); n != 1 {
		t.Fatalf("expiry audited %d times", n)
	}
}

func TestRevokeRecordsWhoAndWhenAndFreesTheSlot(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	owner := keyport.UserActor(&res.Owner, "198.51.100.4")
	a, _ := db.CreateKey(ctx, owner, newKey(res, keyport.ModeTest, "a"))
	if _, err := db.CreateKey(ctx, owner, newKey(res, keyport.ModeTest, "b")); err != nil {
		t.Fatal(err)
	}
	// The live mode has its own slots.
	if _, err := db.CreateKey(ctx, owner, newKey(res, keyport.ModeLive, "l")); err != nil {
		t.Fatalf("live slot taken by test keys: %v", err)
	}
	other, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Bolt", Name: "Bo", Email: "bo@bolt.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RevokeKey(ctx, owner, other.Merchant.ID, res.Account.ID, a.Key.ID, ""); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("revoke through another merchant: %v", err)
	}
	k, err := db.RevokeKey(ctx, owner, res.Merchant.ID, res.Account.ID, a.Key.ID, "leaked")
	if err != nil {
		t.Fatal(err)
	}
	if k.RevokedAt.IsZero() || k.RevokedBy != res.Owner.Email || k.StatusAt(time.Now()) != keyport.KeyRevoked {
		t.Fatalf("revoked %+v", k)
	}
	if _, err := db.RevokeKey(ctx, owner, res.Merchant.ID, res.Account.ID, a.Key.ID, ""); !errors.Is(err, keyport.ErrConflict) {
		t.Fatalf("second revoke: %v", err)
	}
	revoked, err := db.RevokedKeys(ctx, res.Account.ID, keyport.ModeTest, PageRequest{}, 10)
	if err != nil || revoked.HasNext() || len(revoked.Items) != 1 || revoked.Items[0].RevokeReason != "leaked" {
		t.Fatalf("revoked list %v %v %v", revoked.Items, revoked.HasNext(), err)
	}
	if _, err := db.CreateKey(ctx, owner, newKey(res, keyport.ModeTest, "c")); err != nil {
		t.Fatalf("revoked key still counts: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'key.revoked' AND ip = '198.51.100.4'`); n != 1 {
		t.Fatalf("revocations audited: %d", n)
	}
}

func TestCreateKeyRefusesOtherMerchantsAndDisabledAccounts(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	in := newKey(res, keyport.ModeTest, "x")
	in.MerchantID++
	if _, err := db.CreateKey(ctx, keyport.SystemActor, in); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("other merchant: %v", err)
	}
	if _, err := db.sql.Exec(`UPDATE api_accounts SET disabled_at = 1 WHERE id = $1`, res.Account.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "x")); !errors.Is(err, keyport.ErrAccountDisabled) {
		t.Fatalf("disabled account: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM api_keys`); n != 0 {
		t.Fatalf("%d keys", n)
	}
}

func TestKeysTabPagesRevokedKeys(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	const perPage = 20
	tabOf := func(test PageRequest) KeysTabRequest {
		return KeysTabRequest{Test: SectionRequest{Revoked: test}, CurrentPerPage: perPage, RevokedPerPage: perPage, CountLimit: 10 * perPage}
	}
	for i := 0; i < perPage+3; i++ {
		k, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "k"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.RevokeKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, k.Key.ID, ""); err != nil {
			t.Fatal(err)
		}
	}
	first, err := db.KeysTab(ctx, res.Merchant.ID, res.Account.ID, tabOf(PageRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	second, err := db.KeysTab(ctx, res.Merchant.ID, res.Account.ID, tabOf(first.Test.Revoked.Next))
	if err != nil {
		t.Fatal(err)
	}
	back, err := db.KeysTab(ctx, res.Merchant.ID, res.Account.ID, tabOf(second.Test.Revoked.Prev))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		tab           KeysTab
		wantLen       int
		prev, next    bool
		wantFirstSeen bool
	}{
		{"first", first, perPage, false, true, true},
		{"second", second, 3, true, false, false},
		{"back", back, perPage, false, true, true},
	}
	for _, tc := range cases {
		m := tc.tab.Test
		if len(m.Revoked.Items) != tc.wantLen || m.Revoked.HasPrev() != tc.prev || m.Revoked.HasNext() != tc.next ||
			m.RevokedTotal != perPage+3 {
			t.Fatalf("%s: %d keys of %d, prev %v, next %v", tc.name, len(m.Revoked.Items), m.RevokedTotal, m.Revoked.HasPrev(), m.Revoked.HasNext())
		}
		if (m.Revoked.Items[0].ID == first.Test.Revoked.Items[0].ID) != tc.wantFirstSeen {
			t.Fatalf("%s starts with key %d", tc.name, m.Revoked.Items[0].ID)
		}
		if len(tc.tab.Live.Revoked.Items) != 0 || m.Slots.Cap != keyport.DefaultTokenCap {
			t.Fatalf("live %d, cap %d", len(tc.tab.Live.Revoked.Items), m.Slots.Cap)
		}
	}
	if last := second.Test.Revoked.Items; last[0].ID >= first.Test.Revoked.Items[perPage-1].ID {
		t.Fatal("the second page does not continue the first")
	}
	for _, tc := range []struct{ upTo, want int }{{3, 3}, {perPage + 3, perPage + 3}, {1000, perPage + 3}} {
		if n, err := db.CountRevokedKeys(ctx, res.Account.ID, keyport.ModeTest, tc.upTo); err != nil || n != tc.want {
			t.Fatalf("count up to %d = %d, %v", tc.upTo, n, err)
		}
	}
	capped, err := db.KeysTab(ctx, res.Merchant.ID, res.Account.ID, KeysTabRequest{CurrentPerPage: perPage, RevokedPerPage: perPage, CountLimit: 5})
	if err != nil || capped.Test.RevokedTotal != 5 || capped.Test.RevokedCount() != "5+" || first.Test.RevokedCount() != "23" {
		t.Fatalf("counted up to 5: %d (%q), up to %d: %q, %v", capped.Test.RevokedTotal, capped.Test.RevokedCount(),
			10*perPage, first.Test.RevokedCount(), err)
	}
	if _, err := db.KeysTab(ctx, res.Merchant.ID+1, res.Account.ID, tabOf(PageRequest{})); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant's tab: %v", err)
	}
}

func TestModeKeysAtCap(t *testing.T) {
	cases := []struct {
		name string
		st   keyport.CapStatus
		full bool
	}{
		{"empty", keyport.CapStatus{Mode: keyport.ModeTest, Cap: 2}, false},
		{"one used", keyport.CapStatus{Mode: keyport.ModeTest, Used: 1, Cap: 2}, false},
		{"at cap", keyport.CapStatus{Mode: keyport.ModeLive, Used: 2, Cap: 2}, true},
		{"over a lowered cap", keyport.CapStatus{Mode: keyport.ModeLive, Used: 3, Cap: 1}, true},
		{"no cap", keyport.CapStatus{Mode: keyport.ModeTest, Used: 3, Cap: 0}, false},
	}
	for _, tc := range cases {
		if got := (ModeKeys{Slots: tc.st}).AtCap(); got != tc.full {
			t.Errorf("%s: ModeKeys.AtCap %v, want %v", tc.name, got, tc.full)
		}
	}
}

func TestModeKeysPages(t *testing.T) {
	pages := []struct {
		total int
		label string
	}{
		{0, "0"},
		{20, "20"},
		{21, "21"},
		{199, "199"},
		{200, "200+"},
	}
	for _, tc := range pages {
		m := ModeKeys{RevokedTotal: tc.total, RevokedCountLimit: 200}
		if m.RevokedCount() != tc.label {
			t.Errorf("total %d: %q", tc.total, m.RevokedCount())
		}
	}
}

func TestRollKeyKeepsAccessAndFreesTheSlotAfterItsGrace(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now }
	res := signedUp(t, db)
	in := newKey(res, keyport.ModeTest, "Reporting")
	in.Access, in.Permissions, in.SuppressCosts = keyport.AccessRestricted, []string{"shipments:read"}, true
	old, err := db.CreateKey(ctx, keyport.SystemActor, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "second")); err != nil {
		t.Fatal(err)
	}
	b := otherMerchant(t, db)
	if _, err := db.RollKey(ctx, keyport.SystemActor, b.Merchant.ID, res.Account.ID, old.Key.ID, time.Hour); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant rolled it: %v", err)
	}
	rolled, err := db.RollKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, old.Key.ID, time.Hour)
	if err != nil {
		t.Fatalf("rolling at the cap: %v", err)
	}
	k := rolled.Key
	if k.Name != "Reporting" || k.Access != keyport.AccessRestricted || strings.Join(k.Permissions, " ") != "shipments:read" ||
		!k.SuppressCosts || k.Mode != keyport.ModeTest || k.Type != keyport.KeySecret || rolled.Plaintext == old.Plaintext {
		t.Fatalf("replacement: %+v", k)
	}
	keys := currentKeys(t, db, res.Account.ID, keyport.ModeTest)
	var before keyport.APIKey
	for _, key := range keys {
		if key.ID == old.Key.ID {
			before = key
		}
	}
	if before.RolledAt.IsZero() || !before.ExpiresAt.Equal(now.Add(time.Hour).Truncate(time.Second)) || before.StatusAt(now) != keyport.KeyActive {
		t.Fatalf("old key after the roll: %+v", before)
	}
	if before.CountsTowardCap(now) || len(keys) != 3 {
		t.Fatalf("the rolled key still takes a slot, or the list is wrong: %d keys", len(keys))
	}
	if _, err := db.RollKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, old.Key.ID, time.Hour); !errors.Is(err, keyport.ErrConflict) {
		t.Fatalf("rolled twice: %v", err)
	}
	if before.StatusAt(now.Add(time.Hour)) != keyport.KeyExpired {
		t.Fatal("the old key still works after its grace")
	}
	now2, err := db.RollKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, rolled.Key.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	stopped, _ := db.MerchantKey(ctx, res.Merchant.ID, rolled.Key.ID)
	if stopped.StatusAt(now) != keyport.KeyExpired || now2.Key.Name != "Reporting" {
		t.Fatalf("roll with no grace: %+v", stopped)
	}
	live, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeLive, "Production"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeLive, "Production 2")); err != nil {
		t.Fatal(err)
	}
	rolledLive, err := db.RollKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, live.Key.ID, 24*time.Hour)
	if err != nil || rolledLive.Key.Mode != keyport.ModeLive || !strings.HasPrefix(rolledLive.Plaintext, "sk_live_") {
		t.Fatalf("rolling a live key at the cap, without a request: %+v %v", rolledLive.Key, err)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'key.rolled'`); n != 3 {
		t.Fatalf("roll events: %d", n)
	}
}

func TestStoreErrorsSayWhatFailed(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	k, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "twice"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RevokeKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, k.Key.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = db.RevokeKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, k.Key.ID, "")
	if !errors.Is(err, keyport.ErrConflict) || !strings.HasPrefix(err.Error(), fmt.Sprintf("store: revoke key %d: ", k.Key.ID)) {
		t.Fatalf("second revocation: %v", err)
	}
	_, err = db.DeleteAccount(ctx, keyport.SystemActor, res.Merchant.ID+1, res.Account.ID)
	if !errors.Is(err, keyport.ErrNotFound) || !strings.HasPrefix(err.Error(), fmt.Sprintf("store: delete API account %d: ", res.Account.ID)) {
		t.Fatalf("another merchant's deletion: %v", err)
	}
}

// currentKeys returns every current key of the account's mode, in one page.
func currentKeys(t *testing.T, db *DB, accountID int64, mode keyport.Mode) []keyport.APIKey {
	t.Helper()
	page, err := db.CurrentKeys(context.Background(), accountID, mode, PageRequest{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func TestCurrentKeysPageLiveFirstThenNewest(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now }
	res := signedUp(t, db)
	ids := map[keyport.Mode][]int64{}
	for i := 0; i < 12; i++ {
		mode := keyport.ModeTest
		if i%3 == 0 {
			mode = keyport.ModeLive
		}
		in := newKey(res, mode, fmt.Sprintf("k%d", i))
		in.ExpiresAt = now.Add(time.Minute)
		k, err := db.CreateKey(ctx, keyport.SystemActor, in)
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		if i == 5 || i == 6 {
			if _, err := db.RevokeKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, k.Key.ID, ""); err != nil {
				t.Fatal(err)
			}
			continue
		}
		ids[mode] = append([]int64{k.Key.ID}, ids[mode]...)
	}
	const perPage = 3
	walk := func(mode keyport.Mode) (forward, backward []int64) {
		t.Helper()
		var last Page[keyport.APIKey]
		for req, pages := (PageRequest{}), 0; ; pages++ {
			page, err := db.CurrentKeys(ctx, res.Account.ID, mode, req, perPage)
			if err != nil || len(page.Items) > perPage || pages > 10 {
				t.Fatalf("page %d: %d keys, %v", pages, len(page.Items), err)
			}
			for _, k := range page.Items {
				forward = append(forward, k.ID)
			}
			if last = page; !page.HasNext() {
				break
			}
			req = page.Next
		}
		for page := last; ; {
			var shown []int64
			for _, k := range page.Items {
				shown = append(shown, k.ID)
			}
			backward = append(shown, backward...)
			if !page.HasPrev() {
				break
			}
			var err error
			if page, err = db.CurrentKeys(ctx, res.Account.ID, mode, page.Prev, perPage); err != nil {
				t.Fatal(err)
			}
		}
		return forward, backward
	}
	cases := []struct {
		mode keyport.Mode
		want []int64
	}{
		{"", append(slices.Clone(ids[keyport.ModeLive]), ids[keyport.ModeTest]...)},
		{keyport.ModeLive, ids[keyport.ModeLive]},
		{keyport.ModeTest, ids[keyport.ModeTest]},
	}
	for _, tc := range cases {
		forward, backward := walk(tc.mode)
		if !slices.Equal(forward, tc.want) || !slices.Equal(backward, tc.want) {
			t.Errorf("mode %q: forward %v, backward %v; want %v", tc.mode, forward, backward, tc.want)
		}
	}
	other, err := db.CreateAccount(ctx, keyport.SystemActor, res.Merchant.ID, keyport.NewAccount{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	if keys := currentKeys(t, db, other.Account.ID, ""); len(keys) != 1 || keys[0].ID != other.Secret.Key.ID {
		t.Fatalf("another account lists %+v", keys)
	}
}
