package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"keyport"
)

func TestAnswerOnceReplaysTheFirstAnswerForTheSameRequest(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	first, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "first"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "second"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	db.Now = func() time.Time { return now }
	idem := func(keyID int64, key, body string) *keyport.Idempotency {
		i, err := keyport.NewIdempotency(keyID, key, "POST", "/v1/rates", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	runs := 0
	work := func() (keyport.Answer, error) {
		runs++
		return keyport.Answer{Status: 200, Body: []byte(`{"run": ` + strconv.Itoa(runs) + `}`)}, nil
	}
	steps := []struct {
		name     string
		idem     *keyport.Idempotency
		advance  time.Duration
		body     string
		replayed bool
		err      error
	}{
		{"without a key, every call runs", nil, 0, `{"run": 1}`, false, nil},
		{"without a key, again", nil, 0, `{"run": 2}`, false, nil},
		{"first call with a key", idem(first.Key.ID, "k-1", "a"), 0, `{"run": 3}`, false, nil},
		{"same key, same request", idem(first.Key.ID, "k-1", "a"), time.Hour, `{"run": 3}`, true, nil},
		{"same key, another body", idem(first.Key.ID, "k-1", "b"), 0, "", false, keyport.ErrIdempotencyKeyReused},
		{"the same key string of another API key", idem(second.Key.ID, "k-1", "b"), 0, `{"run": 4}`, false, nil},
		{"keys are case-sensitive", idem(first.Key.ID, "K-1", "a"), 0, `{"run": 5}`, false, nil},
		{"still replayed just before the window ends", idem(first.Key.ID, "k-1", "a"), keyport.IdempotencyWindow - time.Hour - time.Second, `{"run": 3}`, true, nil},
		{"a new answer once the window is over", idem(first.Key.ID, "k-1", "b"), time.Second, `{"run": 6}`, false, nil},
		{"which is replayed in turn", idem(first.Key.ID, "k-1", "b"), 0, `{"run": 6}`, true, nil},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		answer, replayed, err := db.AnswerOnce(ctx, s.idem, work)
		if !errors.Is(err, s.err) || string(answer.Body) != s.body || replayed != s.replayed {
			t.Fatalf("%s: %q, replayed %v, err %v; want %q, %v, %v", s.name, answer.Body, replayed, err, s.body, s.replayed, s.err)
		}
	}

	failing := idem(first.Key.ID, "fails-once", "a")
	if _, _, err := db.AnswerOnce(ctx, failing, func() (keyport.Answer, error) { return keyport.Answer{}, errors.New("boom") }); err == nil {
		t.Fatal("the failing work succeeded")
	}
	if answer, replayed, err := db.AnswerOnce(ctx, failing, work); err != nil || replayed || string(answer.Body) != `{"run": 7}` {
		t.Fatalf("after a failure: %q, replayed %v, err %v; want the work to run", answer.Body, replayed, err)
	}

	now = now.Add(keyport.IdempotencyWindow)
	purged, err := db.PurgeIdempotencyKeys(ctx)
	if err != nil || purged != 4 {
		t.Fatalf("purged %d (%v), want the 4 stored answers", purged, err)
	}
	if n := count(t, db, `SELECT count(*) FROM idempotency_keys`); n != 0 {
		t.Fatalf("%d answers left", n)
	}
}

func TestConcurrentRetriesCreateOneShipment(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	created, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "retrying"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := db.LookupKey(ctx, sha256.Sum256([]byte(created.Plaintext)))
	if err != nil {
		t.Fatal(err)
	}
	courier, err := db.Courier(ctx, "dpd")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RegisterAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, courier, dpdAuth("Acme Ltd", "yes", "p1")); err != nil {
		t.Fatal(err)
	}
	idem, err := keyport.NewIdempotency(k.ID, "order-42", "POST", "/v1/shipments", []byte(`{"same": "body"}`))
	if err != nil {
		t.Fatal(err)
	}
	var renders atomic.Int32
	render := func(sh keyport.Shipment) (keyport.Answer, error) {
		renders.Add(1)
		return keyport.Answer{Status: 201, Body: []byte(`{"id": ` + strconv.FormatInt(sh.ID, 10) + `}`)}, nil
	}
	const retries = 20
	bodies := make([]string, retries)
	var replays atomic.Int32
	var wg sync.WaitGroup
	for i := range retries {
		wg.Go(func() {
			tracking, _ := keyport.NewTrackingNumber()
			answer, replayed, err := db.ShipWithKey(ctx, k, "127.0.0.1", keyport.Shipment{Courier: "dpd", ServiceCode: "DPD_NEXT_DAY",
				Status: keyport.ShipmentCreated, TrackingNumber: tracking, LabelRef: "LBL", Currency: "GBP",
				FromPostcode: "M1 1AE", FromCountry: "GB", ToPostcode: "EH1 1YZ", ToCountry: "GB", WeightGrams: 100}, idem, render)
			if err != nil {
				t.Error(err)
				return
			}
			if replayed {
				replays.Add(1)
			}
			bodies[i] = string(answer.Body)
		})
	}
	wg.Wait()
	if n := count(t, db, `SELECT count(*) FROM shipments WHERE account_id = $1`, res.Account.ID); n != 1 {
		t.Fatalf("%d shipments from %d retries of one request", n, retries)
	}
	if renders.Load() != 1 || replays.Load() != retries-1 {
		t.Fatalf("%d renders and %d replays, want 1 and %d", renders.Load(), replays.Load(), retries-1)
	}
	for i, b := range bodies {
		if b != bodies[0] {
			t.Fatalf("retry %d answered %q, the first %q", i, b, bodies[0])
		}
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = $1`, keyport.AuditShipmentCreated.String()); n != 1 {
		t.Fatalf("%d shipment.created audit events", n)
	}
}
