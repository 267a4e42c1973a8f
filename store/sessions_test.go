package store

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"keyport"
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

func TestUserSessionsListAndEndOneOfTheUsersOwn(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res, err := db.CreateSignup(ctx, signup, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.CreateAdmin(ctx, "Admin", "admin@example.test", "hash")
	if err != nil {
		t.Fatal(err)
	}
	st := db.NewSessionStore(make([]byte, 32), 30*time.Minute, 12*time.Hour, false)
	sess, _ := st.New(httptest.NewRequest(http.MethodPost, "/login", nil), "s")
	sess.Values[SessionUserKey], sess.Values[SessionIPKey], sess.Values[SessionBrowserKey] = res.Owner.ID, "198.51.100.4", "Firefox on Linux"
	if err := st.Save(httptest.NewRequest(http.MethodPost, "/login", nil), httptest.NewRecorder(), sess); err != nil {
		t.Fatal(err)
	}
	second := startSession(t, st, res.Owner.ID)
	theirs := startSession(t, st, other.ID)
	list, err := st.UserSessions(ctx, res.Owner.ID, sess.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("sessions %+v, %v", list, err)
	}
	var mine SessionInfo
	for _, si := range list {
		if si.Current {
			mine = si
		}
	}
	if mine.IP != "198.51.100.4" || mine.Browser != "Firefox on Linux" || len(mine.PublicID) != 16 || strings.Contains(mine.PublicID, sess.ID) {
		t.Fatalf("the current session is listed as %+v", mine)
	}
	theirList, _ := st.UserSessions(ctx, other.ID, "")
	if _, err := st.EndSession(ctx, keyport.SystemActor, res.Owner, theirList[0].PublicID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a user ended another user's session: %v", err)
	}
	ended, err := st.EndSession(ctx, keyport.SystemActor, res.Owner, mine.PublicID)
	if err != nil || ended.Browser != "Firefox on Linux" {
		t.Fatalf("ended %+v, %v", ended, err)
	}
	if n, _ := st.CountActive(ctx, res.Owner.ID, ""); n != 1 {
		t.Fatalf("%d sessions left, want 1", n)
	}
	if signedInAs(t, st, second) != res.Owner.ID || signedInAs(t, st, theirs) != other.ID {
		t.Fatal("ending one session ended another")
	}
}
