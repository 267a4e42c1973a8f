package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"keyport"
)

// SessionUserKey is the session value that holds the signed-in user's id (int64).
const SessionUserKey = "user_id"

// SessionIPKey and SessionBrowserKey are the session values (string) of the
// client IP and the browser a session was signed in from, stored in its row
// when it is created.
const (
	SessionIPKey      = "ip"
	SessionBrowserKey = "browser"
)

// SessionSudoKey is the session value (int64, Unix seconds) of when the user
// last proved who they are: at sign-in, or on the confirmation page that
// sensitive actions send them to.
const SessionSudoKey = "sudo_at"

// SessionKeepKey is the session value (bool) saying the user asked to stay
// signed in: its cookie then lasts the session's lifetime. Without it the
// cookie is a browser-session cookie, gone when the browser closes.
const SessionKeepKey = "keep"

// MaxSessionsPerUser is the most sessions a user keeps: signing in once more
// ends the oldest.
const MaxSessionsPerUser = 30

// SessionStore is a gorilla/sessions store whose cookie carries only a signed,
// random session id; the session itself is a row in SQLite, so deleting the row
// ends the session everywhere. Only sessions of signed-in users are stored.
type SessionStore struct {
	db     *DB
	codecs []securecookie.Codec
	// Options is copied into every new session and decides the cookie attributes.
	Options sessions.Options
	// IdleTimeout ends a session that has not been used for this long.
	IdleTimeout time.Duration
	// MaxLifetime ends a session this long after sign-in, however busy.
	MaxLifetime time.Duration
}

// NewSessionStore returns a store signing its cookies with hashKey (at least 32 bytes).
func (db *DB) NewSessionStore(hashKey []byte, idle, lifetime time.Duration, secure bool) *SessionStore {
	codec := securecookie.New(hashKey, nil)
	codec.MaxAge(int(lifetime / time.Second))
	codec.SetSerializer(securecookie.NopEncoder{})
	return &SessionStore{
		db:     db,
		codecs: []securecookie.Codec{codec},
		Options: sessions.Options{
			Path:     "/",
			MaxAge:   int(lifetime / time.Second),
			HttpOnly: true,
			Secure:   secure,
			SameSite: http.SameSiteLaxMode,
		},
		IdleTimeout: idle,
		MaxLifetime: lifetime,
	}
}

// Get returns the session of this name for the request, cached per request.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie, or returns a new empty
// session when there is none, it is forged, or it has expired.
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	session := sessions.NewSession(s, name)
	opts := s.Options
	session.Options = &opts
	session.IsNew = true
	cookie, err := r.Cookie(name)
	if err != nil {
		return session, nil
	}
	var value []byte
	if err := securecookie.DecodeMulti(name, cookie.Value, &value, s.codecs...); err != nil {
		return session, nil
	}
	id, seen := splitSessionCookie(value)
	ok, err := s.load(r.Context(), id, seen, MethodWrites(r.Method), session)
	if err != nil || !ok {
		return session, err
	}
	session.ID = id
	session.IsNew = false
	if keep, _ := session.Values[SessionKeepKey].(bool); !keep {
		session.Options.MaxAge = 0
	}
	return session, nil
}

// sessionSeenKey is the session value holding when the session was last used
// (Unix seconds), as the later of its row and its cookie say. It is not stored.
const sessionSeenKey = "seen_at"

// MethodWrites reports whether a request of this method may change data. Only
// such requests write sessions; reading a page never does.
func MethodWrites(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// load reads the session row into session. The idle timeout counts from the
// later of the row's last_seen_at and seen, the signed time in the cookie, so
// that a session used only to read pages stays alive without a write. Only a
// request that may write (write true) deletes an expired row or moves
// last_seen_at.
func (s *SessionStore) load(ctx context.Context, id string, seen int64, write bool, session *sessions.Session) (bool, error) {
	hash := hashSessionID(id)
	var userID, created, lastSeen int64
	var data []byte
	err := s.db.queryRow(ctx, `SELECT user_id, data, created_at, last_seen_at FROM sessions WHERE id_hash = $1`, hash[:]).
		Scan(&userID, &data, &created, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now := s.db.Now()
	used := max(lastSeen, seen)
	if now.Sub(unixTime(used)) > s.IdleTimeout || now.Sub(unixTime(created)) > s.MaxLifetime {
		if !write {
			return false, nil
		}
		_, err := s.db.exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hash[:])
		return false, err
	}
	if len(data) > 0 {
		if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&session.Values); err != nil {
			session.Values = map[any]any{}
		}
	}
	session.Values[SessionUserKey] = userID
	session.Values[sessionSeenKey] = used
	if write && now.Sub(unixTime(lastSeen)) >= time.Minute {
		if _, err := s.db.exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, now.Unix(), hash[:]); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Refresh renews the cookie of a loaded session when its last use is a minute
// old or more, so that the cookie carries the time of this use. It sets a
// cookie and writes nothing to the database.
func (s *SessionStore) Refresh(w http.ResponseWriter, session *sessions.Session) error {
	if session.IsNew || session.ID == "" {
		return nil
	}
	seen, _ := session.Values[sessionSeenKey].(int64)
	now := s.db.now()
	if now-seen < int64(time.Minute/time.Second) {
		return nil
	}
	session.Values[sessionSeenKey] = now
	return s.setCookie(w, session, now)
}

// setCookie sets the session's cookie: its id and the time it was last used, signed.
func (s *SessionStore) setCookie(w http.ResponseWriter, session *sessions.Session, seen int64) error {
	value := session.ID + "|" + strconv.FormatInt(seen, 10)
	encoded, err := securecookie.EncodeMulti(session.Name(), []byte(value), s.codecs...)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(session.Name(), encoded, session.Options))
	return nil
}

// splitSessionCookie reads a cookie value as a session id and the time it was
// last used; a cookie written before the time was added has only the id.
func splitSessionCookie(value []byte) (id string, seen int64) {
	id, at, ok := strings.Cut(string(value), "|")
	if ok {
		seen, _ = strconv.ParseInt(at, 10, 64)
	}
	return id, seen
}

// Save writes the session row and sets the cookie. A session with a negative
// MaxAge is deleted and its cookie expired; a session without a user is not stored.
// Storing a new session also ends the user's oldest sessions beyond
// MaxSessionsPerUser.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	ctx := r.Context()
	userID, _ := session.Values[SessionUserKey].(int64)
	if session.Options.MaxAge < 0 || userID == 0 {
		if session.ID != "" {
			if err := s.Delete(ctx, session.ID); err != nil {
				return err
			}
		}
		expired := *session.Options
		expired.MaxAge = -1
		http.SetCookie(w, sessions.NewCookie(session.Name(), "", &expired))
		return nil
	}
	values := make(map[any]any, len(session.Values))
	for k, v := range session.Values {
		if k != SessionUserKey && k != sessionSeenKey && k != SessionIPKey && k != SessionBrowserKey {
			values[k] = v
		}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		return err
	}
	now := s.db.now()
	if session.ID == "" {
		id, err := newSessionID()
		if err != nil {
			return err
		}
		ip, _ := session.Values[SessionIPKey].(string)
		browser, _ := session.Values[SessionBrowserKey].(string)
		if err := s.insert(ctx, id, userID, buf.Bytes(), now, ip, browser); err != nil {
			return err
		}
		session.ID = id
	} else {
		hash := hashSessionID(session.ID)
		if _, err := s.db.exec(ctx, `UPDATE sessions SET data = $1, last_seen_at = $2 WHERE id_hash = $3`, buf.Bytes(), now, hash[:]); err != nil {
			return err
		}
	}
	session.Values[sessionSeenKey] = now
	return s.setCookie(w, session, now)
}

// insert stores a new session of a user, first ending the user's oldest
// sessions so that at most MaxSessionsPerUser remain.
func (s *SessionStore) insert(ctx context.Context, id string, userID int64, data []byte, now int64, ip, browser string) error {
	return s.db.tx(ctx, "start session", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id_hash FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id_hash`, userID)
		if err != nil {
			return err
		}
		var older [][]byte
		for n := 1; rows.Next(); n++ {
			var hash []byte
			if err := rows.Scan(&hash); err != nil {
				rows.Close()
				return err
			}
			if n >= MaxSessionsPerUser {
				older = append(older, hash)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, hash := range older {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hash); err != nil {
				return err
			}
		}
		hash := hashSessionID(id)
		_, err = tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, data, created_at, last_seen_at, ip, browser)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, hash[:], userID, data, now, now, ip, browser)
		return err
	})
}

// DeleteExpired deletes the sessions past their lifetime, which no request
// can use any more, and returns how many. (A session only idle cannot be told
// from the database: reading pages renews its cookie, not its row.)
func (s *SessionStore) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.exec(ctx, `DELETE FROM sessions WHERE created_at < $1`, s.db.now()-int64(s.MaxLifetime/time.Second))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Delete removes one session by its id.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	hash := hashSessionID(id)
	_, err := s.db.exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hash[:])
	return err
}

// DeleteUserSessions ends every session of a user, except the one with id keep (may be empty).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	hash := hashSessionID(keep)
	_, err := db.exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2`, userID, hash[:])
	return err
}

// CountActive returns how many sessions of a user are neither idle nor past their
// lifetime. The session with id current (may be empty) counts while within its
// lifetime: it is in use, though pages, which never write, leave its
// last_seen_at behind.
func (s *SessionStore) CountActive(ctx context.Context, userID int64, current string) (int, error) {
	list, err := s.UserSessions(ctx, userID, current)
	return len(list), err
}

// SessionInfo is what a user sees of one of their sessions.
type SessionInfo struct {
	// PublicID names the session in pages and forms: the first 8 bytes of the
	// SHA-256 of its id, in hex, which tells nothing of the id itself.
	PublicID   string
	IP         string
	Browser    string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// Current is true for the session of the request.
	Current bool
}

// UserSessions returns the active sessions of a user (within their lifetime,
// and written to within the idle timeout unless it is the session with id
// current), the newest first.
func (s *SessionStore) UserSessions(ctx context.Context, userID int64, current string) ([]SessionInfo, error) {
	now := s.db.Now()
	hash := hashSessionID(current)
	rows, err := s.db.query(ctx, `SELECT id_hash, ip, browser, created_at, last_seen_at FROM sessions
		WHERE user_id = $1 AND created_at >= $2 AND (last_seen_at >= $3 OR id_hash = $4) ORDER BY created_at DESC, id_hash`,
		userID, now.Add(-s.MaxLifetime).Unix(), now.Add(-s.IdleTimeout).Unix(), hash[:])
	return collect(rows, err, func(row scanner) (SessionInfo, error) {
		var si SessionInfo
		var idHash []byte
		var created, seen int64
		if err := row.Scan(&idHash, &si.IP, &si.Browser, &created, &seen); err != nil {
			return si, err
		}
		si.PublicID = publicSessionID(idHash)
		si.CreatedAt, si.LastSeenAt = unixTime(created), unixTime(seen)
		si.Current = bytes.Equal(idHash, hash[:])
		return si, nil
	})
}

func publicSessionID(idHash []byte) string { return hex.EncodeToString(idHash[:min(8, len(idHash))]) }

// EndSession ends the session of a user named by its public id, audited as
// actor, and returns what it was; a session of another user or an unknown
// one is ErrNotFound.
func (s *SessionStore) EndSession(ctx context.Context, actor keyport.Actor, u keyport.User, publicID string) (SessionInfo, error) {
	var ended SessionInfo
	err := s.db.tx(ctx, fmt.Sprintf("end a session of user %d", u.ID), func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id_hash, ip, browser, created_at FROM sessions WHERE user_id = $1`, u.ID)
		type row struct {
			hash    []byte
			info    SessionInfo
			created int64
		}
		list, err := collect(rows, err, func(sc scanner) (row, error) {
			var r row
			err := sc.Scan(&r.hash, &r.info.IP, &r.info.Browser, &r.created)
			return r, err
		})
		if err != nil {
			return err
		}
		for _, r := range list {
			if publicSessionID(r.hash) != publicID {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, r.hash); err != nil {
				return err
			}
			ended = r.info
			ended.PublicID, ended.CreatedAt = publicID, unixTime(r.created)
			return s.db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditSessionEnded, "user", u.ID, strings.TrimSpace(ended.Browser+" "+ended.IP))
		}
		return keyport.ErrNotFound
	})
	return ended, err
}

// CountAllActive returns how many sessions of every user are within their
// lifetime and were written to within the idle timeout.
func (s *SessionStore) CountAllActive(ctx context.Context) (int, error) {
	now := s.db.Now()
	var n int
	err := s.db.queryRow(ctx, `SELECT count(*) FROM sessions WHERE created_at >= $1 AND last_seen_at >= $2`,
		now.Add(-s.MaxLifetime).Unix(), now.Add(-s.IdleTimeout).Unix()).Scan(&n)
	return n, err
}

func newSessionID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashSessionID(id string) [32]byte { return sha256.Sum256([]byte(id)) }
