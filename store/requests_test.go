package store

import (
	"context"
	"errors"
	"testing"

	"keyport"
)

var goodInput = keyport.LiveKeyRequestInput{TokenName: "Production", IntendedUse: "Print labels for web shop orders.",
	Website: "https://acme.example", MonthlyShipments: "100"}

// requestIn files a request and moves it to a state through the allowed path.
func requestIn(t *testing.T, db *DB, res SignupResult, state keyport.RequestState) int64 {
	t.Helper()
	ctx := context.Background()
	owner := keyport.UserActor(&res.Owner, "")
	r, err := db.FileRequest(ctx, owner, res.Merchant.ID, res.Account.ID, goodInput, 100)
	if err != nil {
		t.Fatal(err)
	}
	staff := keyport.Actor{Label: "staff@keyport.test"}
	steps := map[keyport.RequestState]func() error{
		keyport.RequestPending:   func() error { return nil },
		keyport.RequestNeedsInfo: func() error { return db.AskForInfo(ctx, staff, r.ID, "Why?") },
		keyport.RequestApproved:  func() error { return db.ApproveRequest(ctx, staff, r.ID) },
		keyport.RequestRejected:  func() error { return db.RejectRequest(ctx, staff, r.ID, "No.") },
		keyport.RequestCancelled: func() error { return db.CancelRequest(ctx, owner, res.Merchant.ID, res.Account.ID, r.ID) },
		keyport.RequestIssued: func() error {
			if err := db.ApproveRequest(ctx, staff, r.ID); err != nil {
				return err
			}
			_, err := db.IssueLiveKey(ctx, owner, res.Merchant.ID, res.Account.ID, r.ID)
			return err
		},
	}
	if err := steps[state](); err != nil {
		t.Fatalf("moving to %s: %v", state, err)
	}
	return r.ID
}

func TestRequestStateMachine(t *testing.T) {
	ctx := context.Background()
	staff := keyport.Actor{Label: "staff@keyport.test"}
	actions := map[string]func(db *DB, res SignupResult, id int64) error{
		"approve": func(db *DB, _ SignupResult, id int64) error { return db.ApproveRequest(ctx, staff, id) },
		"reject":  func(db *DB, _ SignupResult, id int64) error { return db.RejectRequest(ctx, staff, id, "No.") },
		"ask":     func(db *DB, _ SignupResult, id int64) error { return db.AskForInfo(ctx, staff, id, "Why?") },
		"answer": func(db *DB, res SignupResult, id int64) error {
			return db.AnswerRequest(ctx, keyport.UserActor(&res.Owner, ""), res.Merchant.ID, res.Account.ID, id, "Because.")
		},
		"cancel": func(db *DB, res SignupResult, id int64) error {
			return db.CancelRequest(ctx, keyport.UserActor(&res.Owner, ""), res.Merchant.ID, res.Account.ID, id)
		},
		"issue": func(db *DB, res SignupResult, id int64) error {
			_, err := db.IssueLiveKey(ctx, keyport.UserActor(&res.Owner, ""), res.Merchant.ID, res.Account.ID, id)
			return err
		},
	}
	// allowed[from][action] is the state the action leads to; a missing action is refused.
	allowed := map[keyport.RequestState]map[string]keyport.RequestState{
		keyport.RequestPending:   {"approve": keyport.RequestApproved, "reject": keyport.RequestRejected, "ask": keyport.RequestNeedsInfo, "cancel": keyport.RequestCancelled},
		keyport.RequestNeedsInfo: {"answer": keyport.RequestPending, "reject": keyport.RequestRejected, "cancel": keyport.RequestCancelled},
		keyport.RequestApproved:  {"issue": keyport.RequestIssued, "cancel": keyport.RequestCancelled},
		keyport.RequestIssued:    {},
		keyport.RequestRejected:  {},
		keyport.RequestCancelled: {},
	}
	for from, moves := range allowed {
		for name, act := range actions {
			t.Run(string(from)+" "+name, func(t *testing.T) {
				db := openTestDB(t)
				res, err := db.CreateSignup(ctx, signup, "hash", "")
				if err != nil {
					t.Fatal(err)
				}
				id := requestIn(t, db, res, from)
				audits := count(t, db, `SELECT count(*) FROM audit_events`)
				err = act(db, res, id)
				want, ok := moves[name]
				got, _ := requestByID(ctx, db.sql, id)
				switch {
				case ok && err != nil:
					t.Fatalf("refused: %v", err)
				case ok && got.State != want:
					t.Fatalf("state %s, want %s", got.State, want)
				case ok && count(t, db, `SELECT count(*) FROM audit_events`) <= audits:
					t.Fatal("no audit event")
				case !ok && !errors.Is(err, keyport.ErrIllegalTransition):
					t.Fatalf("err = %v, want illegal transition", err)
				case !ok && got.State != from:
					t.Fatalf("state changed to %s", got.State)
				case !ok && count(t, db, `SELECT count(*) FROM audit_events`) != audits:
					t.Fatal("a refused action was audited")
				}
			})
		}
	}
}

func TestRequestsAreScopedToTheirMerchantAndAccount(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	a, err := db.CreateSignup(ctx, signup, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Bolt", Name: "Bo", Email: "bo@bolt.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	id := requestIn(t, db, a, keyport.RequestApproved)
	bob := keyport.UserActor(&b.Owner, "")
	if _, err := db.IssueLiveKey(ctx, bob, b.Merchant.ID, b.Account.ID, id); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("issue by another merchant: %v", err)
	}
	if _, err := db.IssueLiveKey(ctx, bob, a.Merchant.ID, b.Account.ID, id); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("issue on another account: %v", err)
	}
	if err := db.CancelRequest(ctx, bob, b.Merchant.ID, b.Account.ID, id); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("cancel by another merchant: %v", err)
	}
	if _, err := db.RequestOf(ctx, b.Merchant.ID, b.Account.ID, id); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("read by another merchant: %v", err)
	}
}

func TestIssueLiveKeyWorksOnce(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	id := requestIn(t, db, res, keyport.RequestApproved)
	owner := keyport.UserActor(&res.Owner, "")
	created, err := db.IssueLiveKey(ctx, owner, res.Merchant.ID, res.Account.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if created.Key.Mode != keyport.ModeLive || created.Key.RequestID != id {
		t.Fatalf("issued %+v", created.Key)
	}
	if _, err := db.IssueLiveKey(ctx, owner, res.Merchant.ID, res.Account.ID, id); !errors.Is(err, keyport.ErrIllegalTransition) {
		t.Fatalf("second issue: %v", err)
	}
	r, _ := db.RequestOf(ctx, res.Merchant.ID, res.Account.ID, id)
	if r.State != keyport.RequestIssued || r.IssuedKeyID != created.Key.ID {
		t.Fatalf("request %+v", r)
	}
	if n := count(t, db, `SELECT count(*) FROM api_keys`); n != 1 {
		t.Fatalf("%d keys", n)
	}
}

func TestFileRequestCountsApprovedRequestsTowardTheCap(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	requestIn(t, db, res, keyport.RequestIssued)
	requestIn(t, db, res, keyport.RequestApproved)
	owner := keyport.UserActor(&res.Owner, "")
	_, err := db.FileRequest(ctx, owner, res.Merchant.ID, res.Account.ID, goodInput, 100)
	var ce *keyport.CapError
	if !errors.As(err, &ce) || ce.Cap != 2 || ce.Mode != keyport.ModeLive {
		t.Fatalf("err = %v", err)
	}
	// Pending requests do not hold a slot, and a cap of 0 lifts the limit.
	if err := db.SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FileRequest(ctx, owner, res.Merchant.ID, res.Account.ID, goodInput, 100); err != nil {
		t.Fatal(err)
	}
}

// noticeIDs returns the ids of the merchant's request notices.
func noticeIDs(t *testing.T, db *DB, merchantID int64) []int64 {
	t.Helper()
	list, err := db.RequestNotices(context.Background(), merchantID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range list {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestRequestNoticesFollowTheRequestsState(t *testing.T) {
	for _, tc := range []struct {
		state  keyport.RequestState
		notice bool
	}{
		{keyport.RequestPending, false},
		{keyport.RequestNeedsInfo, true},
		{keyport.RequestApproved, true},
		{keyport.RequestRejected, true},
		{keyport.RequestCancelled, false},
		{keyport.RequestIssued, false},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			db := openTestDB(t)
			res := signedUp(t, db)
			id := requestIn(t, db, res, tc.state)
			before := db.Writes()
			for range 2 {
				ids := noticeIDs(t, db, res.Merchant.ID)
				if got := len(ids) == 1 && ids[0] == id; got != tc.notice || (!tc.notice && len(ids) != 0) {
					t.Fatalf("notices %v, want one for %d: %v", ids, id, tc.notice)
				}
			}
			if db.Writes() != before {
				t.Fatalf("reading notices wrote %d times", db.Writes()-before)
			}
		})
	}
}

func TestRequestNoticeEndsWhenTheRequestMovesOn(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	owner := keyport.UserActor(&res.Owner, "")
	staff := keyport.Actor{Label: "staff@keyport.test"}
	id := requestIn(t, db, res, keyport.RequestNeedsInfo)
	steps := []struct {
		name   string
		move   func() error
		notice bool
	}{
		{"answered", func() error { return db.AnswerRequest(ctx, owner, res.Merchant.ID, res.Account.ID, id, "Our shop.") }, false},
		{"asked again", func() error { return db.AskForInfo(ctx, staff, id, "Which shop?") }, true},
		{"dismissed", func() error { return db.DismissRequestNotice(ctx, res.Merchant.ID, id) }, false},
		{"answered again", func() error {
			return db.AnswerRequest(ctx, owner, res.Merchant.ID, res.Account.ID, id, "The web shop.")
		}, false},
		{"approved", func() error { return db.ApproveRequest(ctx, staff, id) }, true},
		{"issued", func() error {
			_, err := db.IssueLiveKey(ctx, owner, res.Merchant.ID, res.Account.ID, id)
			return err
		}, false},
	}
	for _, step := range steps {
		if err := step.move(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if ids := noticeIDs(t, db, res.Merchant.ID); (len(ids) == 1) != step.notice {
			t.Fatalf("after %s: notices %v, want a notice: %v", step.name, ids, step.notice)
		}
	}
}

func TestDismissRequestNoticeIsScopedToTheMerchant(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	a := signedUp(t, db)
	b, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Bolt", Name: "Bo", Email: "bo@bolt.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	approved := requestIn(t, db, a, keyport.RequestApproved)
	rejected := requestIn(t, db, a, keyport.RequestRejected)
	for _, tc := range []struct {
		name     string
		merchant int64
		request  int64
		wantErr  error
		left     int
	}{
		{"another merchant's request", b.Merchant.ID, approved, keyport.ErrNotFound, 2},
		{"a request that does not exist", a.Merchant.ID, 9999, keyport.ErrNotFound, 2},
		{"own request", a.Merchant.ID, approved, nil, 1},
		{"own request again", a.Merchant.ID, approved, nil, 1},
		{"the other own request", a.Merchant.ID, rejected, nil, 0},
	} {
		err := db.DismissRequestNotice(ctx, tc.merchant, tc.request)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.wantErr)
		}
		if ids := noticeIDs(t, db, a.Merchant.ID); len(ids) != tc.left {
			t.Fatalf("%s: notices %v, want %d", tc.name, ids, tc.left)
		}
	}
}

// TestOneTokenCapServesEveryPath takes a live cap of 2 through filing,
// approving, issuing, creating and rolling, and checks that the count behind
// the cap is exactly what APIKey.CountsTowardCap and the approved requests say.
func TestOneTokenCapServesEveryPath(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	owner := keyport.UserActor(&res.Owner, "")
	staff := keyport.Actor{Label: "staff@keyport.test"}
	isCap := func(err error, approving bool) bool {
		var ce *keyport.CapError
		return errors.As(err, &ce) && ce.Cap == 2 && ce.Mode == keyport.ModeLive && ce.Approving == approving
	}
	file := func() int64 {
		r, err := db.FileRequest(ctx, owner, res.Merchant.ID, res.Account.ID, goodInput, 10)
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	wantUsed := func(want int) {
		t.Helper()
		st, err := db.CapStatus(ctx, res.Account.ID, keyport.ModeLive)
		if err != nil || st.Used != want || st.Cap != 2 {
			t.Fatalf("cap status %+v, %v; want %d used", st, err, want)
		}
		keys := currentKeys(t, db, res.Account.ID, keyport.ModeLive)
		counted := count(t, db, `SELECT count(*) FROM live_key_requests WHERE account_id = $1 AND state = 'approved'`, res.Account.ID)
		for _, k := range keys {
			if k.CountsTowardCap(db.Now()) {
				counted++
			}
		}
		if counted != want {
			t.Fatalf("CountsTowardCap and approved requests add up to %d, the cap's count to %d", counted, want)
		}
	}

	one, two, three := file(), file(), file()
	wantUsed(0)
	for _, id := range []int64{one, two} {
		if err := db.ApproveRequest(ctx, staff, id); err != nil {
			t.Fatal(err)
		}
	}
	wantUsed(2)
	if err := db.ApproveRequest(ctx, staff, three); !isCap(err, true) {
		t.Fatalf("third approval: %v", err)
	}
	if _, err := db.FileRequest(ctx, owner, res.Merchant.ID, res.Account.ID, goodInput, 10); !isCap(err, false) {
		t.Fatalf("filing at the cap: %v", err)
	}
	if _, err := db.CreateKey(ctx, owner, newKey(res, keyport.ModeLive, "direct")); !isCap(err, false) {
		t.Fatalf("creating a live key at the cap: %v", err)
	}
	public := newKey(res, keyport.ModeLive, "widget")
	public.Type = keyport.KeyPublishable
	if _, err := db.CreateKey(ctx, owner, public); err != nil {
		t.Fatalf("a publishable key takes no slot: %v", err)
	}
	first, err := db.IssueLiveKey(ctx, owner, res.Merchant.ID, res.Account.ID, one)
	if err != nil {
		t.Fatal(err)
	}
	wantUsed(2)
	if err := db.SetTokenCap(ctx, staff, 1); err != nil {
		t.Fatal(err)
	}
	var ce *keyport.CapError
	if _, err := db.IssueLiveKey(ctx, owner, res.Merchant.ID, res.Account.ID, two); !errors.As(err, &ce) || ce.Cap != 1 {
		t.Fatalf("issuing over a lowered cap: %v", err)
	}
	if _, err := db.RollKey(ctx, owner, res.Merchant.ID, res.Account.ID, first.Key.ID, 0); err != nil {
		t.Fatalf("a roll replaces its slot even over a lowered cap: %v", err)
	}
	if err := db.SetTokenCap(ctx, staff, 2); err != nil {
		t.Fatal(err)
	}
	wantUsed(2)
	if _, err := db.IssueLiveKey(ctx, owner, res.Merchant.ID, res.Account.ID, two); err != nil {
		t.Fatalf("issuing the second approved request: %v", err)
	}
	wantUsed(2)
	if err := db.CancelRequest(ctx, owner, res.Merchant.ID, res.Account.ID, three); err != nil {
		t.Fatal(err)
	}
}

// TestTestActivityCountersAddUpTheKeys checks the counters behind the approval
// queue's activity line against the keys themselves, through creating,
// rolling and usage flushes of test and live keys in two accounts.
func TestTestActivityCountersAddUpTheKeys(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	other, err := db.CreateAccount(ctx, keyport.SystemActor, res.Merchant.ID, keyport.NewAccount{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "first"))
	if err != nil {
		t.Fatal(err)
	}
	rolled, err := db.RollKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, first.Key.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	live, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeLive, "live"))
	if err != nil {
		t.Fatal(err)
	}
	now := db.Now()
	uses := []keyport.KeyUse{
		{KeyID: first.Key.ID, Count: 3, LastAt: now},
		{KeyID: rolled.Key.ID, Count: 4, LastAt: now},
		{KeyID: live.Key.ID, Count: 10, LastAt: now},
		{KeyID: other.Secret.Key.ID, Count: 5, LastAt: now},
		{KeyID: first.Key.ID, Count: 1, LastAt: now},
	}
	if err := db.RecordUsage(ctx, uses); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordUsage(ctx, uses[:1]); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM api_accounts a
		WHERE a.test_keys <> (SELECT count(*) FROM api_keys k WHERE k.account_id = a.id AND k.mode = 'test')
		   OR a.test_calls <> (SELECT COALESCE(sum(k.use_count), 0) FROM api_keys k WHERE k.account_id = a.id AND k.mode = 'test')`); n != 0 {
		t.Fatalf("%d accounts whose activity counters disagree with their keys", n)
	}
	req, err := db.RequestByID(ctx, requestIn(t, db, res, keyport.RequestPending))
	if err != nil {
		t.Fatal(err)
	}
	if a := req.Activity; a.TestKeys != 2 || a.TestCalls != 11 {
		t.Fatalf("activity %+v, want 2 test keys and 11 calls", a)
	}
}
