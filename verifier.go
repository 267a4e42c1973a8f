package keyport

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrInvalidKey is a presented key that does not verify: malformed, unknown,
// revoked, expired, or of a disabled or deleted account or merchant. The
// Verifier returns one of the errors below, each of which is ErrInvalidKey
// for errors.Is and says why, for metrics; the API answers all of them alike.
var ErrInvalidKey = errors.New("invalid key")

// Why a presented key does not verify.
var (
	// ErrKeyMalformed is a key that does not have Keyport's format or checksum.
	ErrKeyMalformed = fmt.Errorf("%w: malformed", ErrInvalidKey)
	// ErrKeyUnknown is a well-formed key that no merchant holds.
	ErrKeyUnknown = fmt.Errorf("%w: unknown", ErrInvalidKey)
	// ErrKeyRevoked is a key that was revoked or rolled.
	ErrKeyRevoked = fmt.Errorf("%w: revoked", ErrInvalidKey)
	// ErrKeyExpired is a key past its expiry time.
	ErrKeyExpired = fmt.Errorf("%w: expired", ErrInvalidKey)
	// ErrKeyDisabled is a key of a disabled or deleted API account or of a disabled merchant.
	ErrKeyDisabled = fmt.Errorf("%w: disabled", ErrInvalidKey)
)

// VerifiedKey is what a request needs to know about the key that authenticated it.
type VerifiedKey struct {
	ID            int64
	AccountID     int64
	MerchantID    int64
	Type          KeyType
	Mode          Mode
	Access        Access
	Permissions   []string
	SuppressCosts bool
	// ExpiresAt is the Unix second the key stops working, 0 for never.
	ExpiresAt int64
	// Usable is false when the key is revoked or its account or merchant is disabled or deleted.
	Usable bool
	// Revoked is true when the key itself was revoked or rolled.
	Revoked bool
	// Redacted is the key's display form, used as the audit actor of its changes.
	Redacted string
	// AllowedOrigins are the web origins a publishable key may be used from; empty allows any.
	AllowedOrigins []string
}

// Allows reports whether the key may call an endpoint that needs permission:
// Catalog.Permits, the rule the permissions panel shows.
func (k VerifiedKey) Allows(permission string) bool {
	return PermissionCatalog.Permits(k.Type, k.Access, k.Permissions, permission)
}

// Actor is the key as the author of audited changes.
func (k VerifiedKey) Actor(ip string) Actor { return Actor{Label: k.Redacted, IP: ip} }

// KeySource is the database as the Verifier sees it.
type KeySource interface {
	// KeySeq returns the number of the last published KeyChange. It only
	// moves forward, and only after the change is committed and listed by
	// KeyChangesSince.
	KeySeq() uint64
	// KeyChangesSince returns the changes published after seq, oldest first,
	// numbered seq+1, seq+2…, or false when it no longer holds all of them.
	KeyChangesSince(seq uint64) ([]KeyChange, bool)
	// LookupKey returns the key with this SHA-256, usable or not, or ErrNotFound.
	LookupKey(ctx context.Context, hash [32]byte) (VerifiedKey, error)
}

// Bounds of the Verifier's caches; a full cache starts again empty.
const (
	// KnownKeyCacheLimit bounds the cached keys the source holds.
	KnownKeyCacheLimit = 100_000
	// UnknownKeyCacheLimit bounds the cached keys the source does not hold,
	// apart from the others, so that a flood of forged keys never evicts the
	// keys that verify.
	UnknownKeyCacheLimit = 10_000
)

// Verifier checks presented keys. Malformed keys are refused without touching
// the database; others are looked up by SHA-256 once and then answered from
// memory. Before answering it applies the KeyChanges published since it last
// looked, dropping the cached keys each one touches, so a revocation, roll, or
// disabled account takes effect on the very next request while every other
// key stays cached. Expiry needs no change: a cached key carries its expiry
// time. Keys the source does not hold are cached apart, in a smaller cache.
type Verifier struct {
	src KeySource

	mu    sync.RWMutex
	seq   uint64
	known map[[32]byte]VerifiedKey
	// hashOf finds a known key's hash by its id, so that a key's change drops
	// it without scanning the cache.
	hashOf  map[int64][32]byte
	unknown map[[32]byte]struct{}

	// hits and misses count the well-formed keys answered from memory and
	// those read from the source.
	hits, misses atomic.Uint64
}

// NewVerifier returns a Verifier reading keys from src.
func NewVerifier(src KeySource) *Verifier {
	return &Verifier{src: src, seq: src.KeySeq(), known: make(map[[32]byte]VerifiedKey), hashOf: make(map[int64][32]byte),
		unknown: make(map[[32]byte]struct{})}
}

// Verify returns the key raw names if it is usable at now, else one of the
// errors that are ErrInvalidKey and say why. Other errors are the database failing.
func (v *Verifier) Verify(ctx context.Context, raw string, now time.Time) (VerifiedKey, error) {
	parsed, err := ParseKey(raw)
	if err != nil {
		return VerifiedKey{}, ErrKeyMalformed
	}
	var buf [keyLen]byte
	copy(buf[:], parsed.Raw)
	hash := sha256.Sum256(buf[:])

	seq := v.src.KeySeq()
	v.mu.RLock()
	behind := v.seq < seq
	k, found, cached := v.cached(hash)
	v.mu.RUnlock()
	if behind {
		v.catchUp(seq)
		v.mu.RLock()
		k, found, cached = v.cached(hash)
		v.mu.RUnlock()
	}
	if cached {
		v.hits.Add(1)
	} else {
		v.misses.Add(1)
		k, found, err = v.load(ctx, hash)
		if err != nil {
			return VerifiedKey{}, err
		}
	}
	switch {
	case !found:
		return VerifiedKey{}, ErrKeyUnknown
	case k.Revoked:
		return VerifiedKey{}, ErrKeyRevoked
	case !k.Usable:
		return VerifiedKey{}, ErrKeyDisabled
	case k.ExpiresAt != 0 && now.Unix() >= k.ExpiresAt:
		return VerifiedKey{}, ErrKeyExpired
	}
	return k, nil
}

// CacheStats returns how many well-formed keys the Verifier answered from
// memory and how many it read from its source, since it was made.
func (v *Verifier) CacheStats() (hits, misses uint64) {
	return v.hits.Load(), v.misses.Load()
}

// CacheSizes returns how many answers the Verifier holds in memory: keys the
// source holds, and keys it does not.
func (v *Verifier) CacheSizes() (known, unknown int) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.known), len(v.unknown)
}

// cached returns what the caches hold about hash; v.mu must be held.
func (v *Verifier) cached(hash [32]byte) (k VerifiedKey, found, cached bool) {
	if k, ok := v.known[hash]; ok {
		return k, true, true
	}
	_, cached = v.unknown[hash]
	return VerifiedKey{}, false, cached
}

// catchUp applies the changes published up to seq, or empties the caches
// when the source no longer lists them all.
func (v *Verifier) catchUp(seq uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seq >= seq {
		return
	}
	changes, ok := v.src.KeyChangesSince(v.seq)
	if !ok {
		clear(v.known)
		clear(v.hashOf)
		clear(v.unknown)
		v.seq = seq
		return
	}
	v.seq += uint64(len(changes))
	v.apply(changes)
}

// apply drops every cached answer the changes touch; v.mu must be held.
func (v *Verifier) apply(changes []KeyChange) {
	var accounts, merchants map[int64]bool
	for _, c := range changes {
		switch c.Scope {
		case ScopeHash:
			delete(v.unknown, c.Hash)
			v.forget(c.Hash)
		case ScopeKey:
			if hash, ok := v.hashOf[c.ID]; ok {
				v.forget(hash)
			}
		case ScopeAccount:
			accounts = addID(accounts, c.ID)
		case ScopeMerchant:
			merchants = addID(merchants, c.ID)
		}
	}
	if accounts == nil && merchants == nil {
		return
	}
	for hash, k := range v.known {
		if accounts[k.AccountID] || merchants[k.MerchantID] {
			v.forget(hash)
		}
	}
}

// forget drops a known key; v.mu must be held.
func (v *Verifier) forget(hash [32]byte) {
	if k, ok := v.known[hash]; ok {
		delete(v.hashOf, k.ID)
		delete(v.known, hash)
	}
}

func addID(set map[int64]bool, id int64) map[int64]bool {
	if set == nil {
		set = make(map[int64]bool)
	}
	set[id] = true
	return set
}

// load reads a key from the source and caches the answer unless a change was
// published while it was reading, when the answer may already be out of date.
func (v *Verifier) load(ctx context.Context, hash [32]byte) (VerifiedKey, bool, error) {
	seq := v.src.KeySeq()
	k, err := v.src.LookupKey(ctx, hash)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return k, false, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seq != seq || v.src.KeySeq() != seq {
		return k, found, nil
	}
	if found {
		if len(v.known) >= KnownKeyCacheLimit {
			clear(v.known)
			clear(v.hashOf)
		}
		v.known[hash] = k
		v.hashOf[k.ID] = hash
	} else {
		if len(v.unknown) >= UnknownKeyCacheLimit {
			clear(v.unknown)
		}
		v.unknown[hash] = struct{}{}
	}
	return k, found, nil
}
