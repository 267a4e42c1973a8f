package store

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// startSession signs user in on st and returns the session's cookie.
func startSession(t *testing.T, st *SessionStore, userID int64) *http.Cookie {
	t.Helper()
	sess, _ := st.New(httptest.NewRequest(http.MethodPost, "/login", nil), "s")
	sess.Values[SessionUserKey] = userID
	rec := httptest.NewRecorder()
	if err := st.Save(httptest.NewRequest(http.MethodPost, "/login", nil), rec, sess); err != nil {
		t.Fatal(err)
	}
	return rec.Result().Cookies()[0]
}

// signedInAs returns the user a cookie signs in, 0 for none.
func signedInAs(t *testing.T, st *SessionStore, cookie *http.Cookie) int64 {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(cookie)
	s, err := st.New(req, "s")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := s.Values[SessionUserKey].(int64)
	return id
}

func TestSigningInOnceMoreThanTheCapEndsTheOldestSession(t *testing.T) {
	db := openTestDB(t)
	res, err := db.CreateSignup(context.Background(), signup, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.CreateAdmin(context.Background(), "Admin", "admin@example.test", "hash")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	db.Now = func() time.Time { return now }
	st := db.NewSessionStore(make([]byte, 32), 30*time.Minute, 12*time.Hour, false)
	theirs := startSession(t, st, other.ID)
	var cookies []*http.Cookie
	for range MaxSessionsPerUser + 2 {
		cookies = append(cookies, startSession(t, st, res.Owner.ID))
		now = now.Add(time.Second)
	}
	if n := count(t, db, "SELECT count(*) FROM sessions WHERE user_id = $1", res.Owner.ID); n != MaxSessionsPerUser {
		t.Fatalf("%d sessions kept, want %d", n, MaxSessionsPerUser)
	}
	for i, c := range cookies {
		want := res.Owner.ID
		if i < 2 {
			want = 0
		}
		if got := signedInAs(t, st, c); got != want {
			t.Fatalf("session %d signs in %d, want %d", i, got, want)
		}
	}
	if signedInAs(t, st, theirs) != other.ID {
		t.Fatal("another user's session ended")
	}
}

func TestDeleteExpiredSessionsEndsOnlyThosePastTheirLifetime(t *testing.T) {
	db := openTestDB(t)
	res, err := db.CreateSignup(context.Background(), signup, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	db.Now = func() time.Time { return now }
	st := db.NewSessionStore(make([]byte, 32), 24*time.Hour, 12*time.Hour, false)
	old := startSession(t, st, res.Owner.ID)
	now = now.Add(6 * time.Hour)
	recent := startSession(t, st, res.Owner.ID)
	now = now.Add(6*time.Hour + time.Second)
	n, err := st.DeleteExpired(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("deleted %d (%v), want the one past its lifetime", n, err)
	}
	if signedInAs(t, st, old) != 0 || count(t, db, "SELECT count(*) FROM sessions") != 1 {
		t.Fatal("the expired session is still there")
	}
	if signedInAs(t, st, recent) != res.Owner.ID {
		t.Fatal("the session within its lifetime ended")
	}
}
