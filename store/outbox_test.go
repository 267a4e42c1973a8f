package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"keyport"
)

// clockedDB is a test database whose clock the test moves.
func clockedDB(t *testing.T) (*DB, func(time.Duration)) {
	t.Helper()
	db := openTestDB(t)
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	return db, func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
	}
}

// enqueueTest writes n messages to distinct recipients in one transaction.
func enqueueTest(t *testing.T, db *DB, n int) {
	t.Helper()
	err := db.tx(context.Background(), "enqueue test messages", func(tx *sql.Tx) error {
		for i := range n {
			if err := db.enqueue(context.Background(), tx, keyport.MessagePasswordChanged, fmt.Sprintf("user-%d@acme.test", i),
				map[string]string{"name": fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAMessageIsWrittenWithItsChangeOrNotAtAll(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Acme", Name: "Ann", Email: "ann@acme.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	actor := keyport.Actor{UserID: res.Owner.ID, Label: "ann@acme.test"}
	if _, _, err := db.CreateInvitation(ctx, nil, actor, res.Merchant.ID, keyport.NewInvitation{Email: "ann@acme.test", Role: keyport.RoleDeveloper}); err == nil {
		t.Fatal("an invitation of an existing account was accepted")
	}
	if n := count(t, db, `SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("a refused change left %d messages", n)
	}
	select {
	case <-db.MessagesWritten():
		t.Fatal("a rolled back message woke the sender")
	default:
	}

	_, token, err := db.CreateInvitation(ctx, nil, actor, res.Merchant.ID, keyport.NewInvitation{Email: "dev@acme.test", Role: keyport.RoleDeveloper})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-db.MessagesWritten():
	default:
		t.Fatal("a committed message did not wake the sender")
	}
	var payload []byte
	if err := db.sql.QueryRow(`SELECT payload FROM outbox WHERE kind = 'invitation' AND recipient = 'dev@acme.test'`).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(payload, []byte(token)) {
		t.Fatal("the invitation token is stored in plaintext in the outbox")
	}
	msgs, err := db.ClaimMessages(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Data["token"] != token || msgs[0].Data["merchant"] != "Acme" || msgs[0].Data["inviter"] != "ann@acme.test" ||
		msgs[0].To != "dev@acme.test" || len(msgs[0].UID) != 32 {
		t.Fatalf("claimed %+v", msgs)
	}
	if _, err := db.sql.Exec(`UPDATE outbox SET recipient = 'moved@acme.test', uid = 'another'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.Exec(`UPDATE outbox SET claimed_until = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimMessages(ctx, 10, time.Minute); !errors.Is(err, keyport.ErrUnsealable) {
		t.Fatalf("a payload moved to another message opened: %v", err)
	}
}

func TestAClaimedMessageWaitsForItsLeaseToEnd(t *testing.T) {
	db, advance := clockedDB(t)
	ctx := context.Background()
	enqueueTest(t, db, 3)
	first, err := db.ClaimMessages(ctx, 2, time.Minute)
	if err != nil || len(first) != 2 || first[0].ID >= first[1].ID {
		t.Fatalf("first claim: %+v, %v", first, err)
	}
	second, err := db.ClaimMessages(ctx, 10, time.Minute)
	if err != nil || len(second) != 1 || second[0].ID == first[0].ID || second[0].ID == first[1].ID {
		t.Fatalf("second claim: %+v, %v", second, err)
	}
	if again, _ := db.ClaimMessages(ctx, 10, time.Minute); len(again) != 0 {
		t.Fatalf("claimed messages were claimed again: %+v", again)
	}
	advance(time.Minute)
	again, err := db.ClaimMessages(ctx, 10, time.Minute)
	if err != nil || len(again) != 3 {
		t.Fatalf("after the lease: %d messages, %v", len(again), err)
	}
}

func TestFailedDeliveriesBackOffThenGiveUpAfterThreeDays(t *testing.T) {
	db, advance := clockedDB(t)
	ctx := context.Background()
	enqueueTest(t, db, 1)
	refusal := errors.New("451 4.3.0 try again later")
	var waits []time.Duration
	for attempt := 1; ; attempt++ {
		msgs, err := db.ClaimMessages(ctx, 10, time.Minute)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("attempt %d: claimed %d, %v", attempt, len(msgs), err)
		}
		if msgs[0].Attempts != attempt-1 {
			t.Fatalf("attempt %d: the message says %d attempts before", attempt, msgs[0].Attempts)
		}
		if err := db.MessageDelivered(ctx, msgs[0], 15*time.Millisecond, refusal); err != nil {
			t.Fatal(err)
		}
		var state string
		var next int64
		if err := db.sql.QueryRow(`SELECT state, next_attempt_at FROM outbox`).Scan(&state, &next); err != nil {
			t.Fatal(err)
		}
		if state == "failed" {
			break
		}
		wait := unixTime(next).Sub(db.Now())
		waits = append(waits, wait)
		if again, _ := db.ClaimMessages(ctx, 10, time.Minute); len(again) != 0 {
			t.Fatal("a message was claimed before its next attempt")
		}
		advance(wait)
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
		32 * time.Minute, 64 * time.Minute, 128 * time.Minute, 4 * time.Hour}
	for i, w := range want {
		if waits[i] != w {
			t.Fatalf("wait %d is %s, want %s (waits %v)", i+1, waits[i], w, waits)
		}
	}
	var total time.Duration
	for _, w := range waits {
		total += w
	}
	if total > keyport.OutboxRetryFor || total < keyport.OutboxRetryFor-4*time.Hour {
		t.Fatalf("retried for %s, want up to 3 days", total)
	}
	attempts := count(t, db, `SELECT count(*) FROM outbox_attempts WHERE error = '451 4.3.0 try again later' AND duration_ms = 15`)
	if attempts != len(waits)+1 || count(t, db, `SELECT count(*) FROM outbox WHERE state = 'failed' AND attempts = $1`, attempts) != 1 {
		t.Fatalf("%d attempts recorded for %d waits", attempts, len(waits))
	}
	if err := db.RetryMessage(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := db.ClaimMessages(ctx, 10, time.Minute); len(msgs) != 1 {
		t.Fatal("Retry now did not make a failed message due")
	}
}

func TestHeldAndSentMessages(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	enqueueTest(t, db, 2)
	msgs, err := db.ClaimMessages(ctx, 10, time.Minute)
	if err != nil || len(msgs) != 2 {
		t.Fatal(msgs, err)
	}
	if err := db.MessageDelivered(ctx, msgs[0], 0, fmt.Errorf("deliver: %w", keyport.ErrNoMailServer)); err != nil {
		t.Fatal(err)
	}
	if err := db.MessageDelivered(ctx, msgs[1], 20*time.Millisecond, nil); err != nil {
		t.Fatal(err)
	}
	counts, err := db.OutboxCounts(ctx)
	if err != nil || counts[keyport.OutboxHeld] != 1 || counts[keyport.OutboxSent] != 1 || counts[keyport.OutboxPending] != 0 {
		t.Fatalf("counts %v, %v", counts, err)
	}
	held, err := db.Outbox(ctx, keyport.OutboxHeld, 0)
	if err != nil || len(held) != 1 || held[0].LastError != "deliver: not sent: no SMTP configured" || held[0].Attempts != 0 {
		t.Fatalf("held: %+v, %v", held, err)
	}
	if again, _ := db.ClaimMessages(ctx, 10, time.Minute); len(again) != 0 {
		t.Fatal("held or sent messages were claimed again")
	}
	if err := db.RetryMessage(ctx, msgs[1].ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a sent message was retried: %v", err)
	}
	if err := db.RetryMessage(ctx, msgs[0].ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := db.ClaimMessages(ctx, 10, time.Minute); len(again) != 1 || again[0].ID != msgs[0].ID {
		t.Fatal("a retried held message is not due")
	}
	all, err := db.Outbox(ctx, "", 0)
	if err != nil || len(all) != 2 || all[0].ID < all[1].ID || all[0].State != keyport.OutboxSent || all[0].SentAt.IsZero() {
		t.Fatalf("all: %+v, %v", all, err)
	}
	if older, _ := db.Outbox(ctx, "", all[0].ID); len(older) != 1 || older[0].ID != all[1].ID {
		t.Fatalf("the page below %d: %+v", all[0].ID, older)
	}
	attempts, err := db.MessageAttempts(ctx, msgs[1].ID)
	if err != nil || len(attempts) != 1 || attempts[0].Error != "" || attempts[0].Duration != 20*time.Millisecond {
		t.Fatalf("attempts %+v, %v", attempts, err)
	}
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE state = 'sent' AND length(payload) = 0`); n != 1 {
		t.Fatal("a sent message keeps its sealed data")
	}
	if n, err := db.PurgeSentMessages(ctx, all[0].SentAt); err != nil || n != 0 {
		t.Fatalf("purged %d messages sent at the cutoff (%v)", n, err)
	}
	if n, err := db.PurgeSentMessages(ctx, all[0].SentAt.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if n := count(t, db, `SELECT count(*) FROM outbox`) + count(t, db, `SELECT count(*) FROM outbox_attempts`); n != 2 {
		t.Fatalf("%d rows left, want the retried message and its attempt", n)
	}
}

func TestConcurrentSendersClaimEachMessageOnce(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	const messages, senders = 200, 6
	enqueueTest(t, db, messages)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for {
				msgs, err := db.ClaimMessages(ctx, 7, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(msgs) == 0 {
					return
				}
				mu.Lock()
				for _, m := range msgs {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != messages {
		t.Fatalf("%d of %d messages claimed", len(seen), messages)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("message %d claimed %d times", id, n)
		}
	}
}

func TestPasswordResetTokens(t *testing.T) {
	db, advance := clockedDB(t)
	ctx := context.Background()
	res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Acme", Name: "Ann", Email: "ann@acme.test"}, "old-hash", "")
	if err != nil {
		t.Fatal(err)
	}
	th := keyport.NewResetThrottle()
	if err := db.RequestPasswordReset(ctx, th, "nobody@acme.test", "198.51.100.1"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM outbox`) + count(t, db, `SELECT count(*) FROM password_resets`); n != 0 {
		t.Fatal("a reset for an unknown email wrote a token or a message")
	}
	if err := db.RequestPasswordReset(ctx, th, "ann@acme.test", "198.51.100.1"); err != nil {
		t.Fatal(err)
	}
	msgs, err := db.ClaimMessages(ctx, 10, time.Minute)
	if err != nil || len(msgs) != 1 || msgs[0].Kind != keyport.MessagePasswordReset || msgs[0].To != "ann@acme.test" {
		t.Fatal(msgs, err)
	}
	token := msgs[0].Data["token"]
	if len(token) != 43 {
		t.Fatalf("token %q is not 256 bits", token)
	}
	if n := count(t, db, `SELECT count(*) FROM password_resets WHERE token_hash = $1`, []byte(token)); n != 0 {
		t.Fatal("the reset token is stored in plaintext")
	}
	if u, err := db.PasswordResetUser(ctx, token); err != nil || u.ID != res.Owner.ID {
		t.Fatal(u, err)
	}
	if _, err := db.sql.Exec(`INSERT INTO sessions (id_hash, user_id, data, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)`,
		[]byte("a-session-id-hash-of-32-bytes!!!"), res.Owner.ID, []byte("{}"), 1, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ResetPassword(ctx, token, "new-hash", "198.51.100.2"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM users WHERE id = $1 AND password_hash = 'new-hash'`, res.Owner.ID); n != 1 {
		t.Fatal("the password did not change")
	}
	if n := count(t, db, `SELECT count(*) FROM sessions WHERE user_id = $1`, res.Owner.ID); n != 0 {
		t.Fatal("a session survived the reset")
	}
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE kind = 'password_changed' AND recipient = 'ann@acme.test'`); n != 1 {
		t.Fatal("no message tells the user their password changed")
	}
	if _, err := db.ResetPassword(ctx, token, "third-hash", ""); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a reset token worked twice: %v", err)
	}

	if err := db.RequestPasswordReset(ctx, th, "ann@acme.test", "198.51.100.1"); err != nil {
		t.Fatal(err)
	}
	var second string
	for _, m := range mustClaim(t, db) {
		if m.Kind == keyport.MessagePasswordReset {
			second = m.Data["token"]
		}
	}
	advance(keyport.PasswordResetTTL)
	if _, err := db.PasswordResetUser(ctx, second); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a token works after 30 minutes: %v", err)
	}
	if _, err := db.ResetPassword(ctx, second, "late-hash", ""); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("an expired token reset the password: %v", err)
	}
}

func mustClaim(t *testing.T, db *DB) []keyport.Message {
	t.Helper()
	msgs, err := db.ClaimMessages(context.Background(), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestResetRequestsAreLimitedPerEmailAndPerIP(t *testing.T) {
	db, advance := clockedDB(t)
	ctx := context.Background()
	if _, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Acme", Name: "Ann", Email: "ann@acme.test"}, "hash", ""); err != nil {
		t.Fatal(err)
	}
	th := keyport.NewResetThrottle()
	for i := range 5 {
		if err := db.RequestPasswordReset(ctx, th, "ann@acme.test", fmt.Sprintf("198.51.100.%d", i)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM password_resets`); n != th.PerAccount {
		t.Fatalf("%d reset tokens for one email in 15 minutes, want %d", n, th.PerAccount)
	}
	for i := range th.PerIP - 5 {
		if err := db.RequestPasswordReset(ctx, th, fmt.Sprintf("x%d@acme.test", i), "203.0.113.9"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if err := db.RequestPasswordReset(ctx, th, fmt.Sprintf("y%d@acme.test", i), "203.0.113.9"); err != nil {
			t.Fatal(err)
		}
	}
	var te *keyport.ThrottledError
	if err := db.RequestPasswordReset(ctx, th, "ann@acme.test", "203.0.113.9"); !errors.As(err, &te) || te.Wait <= 0 {
		t.Fatalf("the %dth request from one IP: %v", th.PerIP+1, err)
	}
	advance(th.Window)
	if err := db.RequestPasswordReset(ctx, th, "ann@acme.test", "203.0.113.9"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM password_resets`); n != th.PerAccount+1 {
		t.Fatalf("%d tokens, want %d", n, th.PerAccount+1)
	}
}
