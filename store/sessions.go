package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// SessionUserKey is the session value that holds the signed-in user's id (int64).
const SessionUserKey = "user_id"

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
	var id []byte
	if err := securecookie.DecodeMulti(name, cookie.Value, &id, s.codecs...); err != nil {
		return session, nil
	}
	ok, err := s.load(r.Context(), string(id), session)
	if err != nil || !ok {
		return session, err
	}
	session.ID = string(id)
	session.IsNew = false
	return session, nil
}

func (s *SessionStore) load(ctx context.Context, id string, session *sessions.Session) (bool, error) {
	hash := hashSessionID(id)
	var userID, created, lastSeen int64
	var data []byte
	err := s.db.queryRow(ctx, `SELECT user_id, data, created_at, last_seen_at FROM sessions WHERE id_hash = ?`, hash[:]).
		Scan(&userID, &data, &created, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now := s.db.Now()
	if now.Sub(unixTime(lastSeen)) > s.IdleTimeout || now.Sub(unixTime(created)) > s.MaxLifetime {
		_, err := s.db.exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hash[:])
		return false, err
	}
	if len(data) > 0 {
		if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&session.Values); err != nil {
			session.Values = map[any]any{}
		}
	}
	session.Values[SessionUserKey] = userID
	if now.Sub(unixTime(lastSeen)) >= time.Minute {
		if _, err := s.db.exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, now.Unix(), hash[:]); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Save writes the session row and sets the cookie. A session with a negative
// MaxAge is deleted and its cookie expired; a session without a user is not stored.
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
		if k != SessionUserKey {
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
		hash := hashSessionID(id)
		if _, err := s.db.exec(ctx, `INSERT INTO sessions (id_hash, user_id, data, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`,
			hash[:], userID, buf.Bytes(), now, now); err != nil {
			return err
		}
		session.ID = id
	} else {
		hash := hashSessionID(session.ID)
		if _, err := s.db.exec(ctx, `UPDATE sessions SET data = ?, last_seen_at = ? WHERE id_hash = ?`, buf.Bytes(), now, hash[:]); err != nil {
			return err
		}
	}
	encoded, err := securecookie.EncodeMulti(session.Name(), []byte(session.ID), s.codecs...)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(session.Name(), encoded, session.Options))
	return nil
}

// Delete removes one session by its id.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	hash := hashSessionID(id)
	_, err := s.db.exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hash[:])
	return err
}

// DeleteUserSessions ends every session of a user, except the one with id keep (may be empty).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	hash := hashSessionID(keep)
	_, err := db.exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?`, userID, hash[:])
	return err
}

// CountActive returns how many sessions of a user are neither idle nor past their lifetime.
func (s *SessionStore) CountActive(ctx context.Context, userID int64) (int, error) {
	now := s.db.Now()
	var n int
	err := s.db.queryRow(ctx, `SELECT count(*) FROM sessions WHERE user_id = ? AND last_seen_at >= ? AND created_at >= ?`,
		userID, now.Add(-s.IdleTimeout).Unix(), now.Add(-s.MaxLifetime).Unix()).Scan(&n)
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
