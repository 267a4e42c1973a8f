package keyport

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// ErrInvalidKey is a presented key that does not verify: malformed, unknown,
// revoked, expired, or of a disabled or deleted account or merchant.
var ErrInvalidKey = errors.New("Token does not exist")

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
	// Redacted is the key's display form, used as the audit actor of its changes.
	Redacted string
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
	// KeyEpoch changes after every committed write that may change whether a key verifies.
	KeyEpoch() uint64
	// LookupKey returns the key with this SHA-256, usable or not, or ErrNotFound.
	LookupKey(ctx context.Context, hash [32]byte) (VerifiedKey, error)
}

// verifierCacheLimit bounds the cache; when full it starts again empty.
const verifierCacheLimit = 100_000

type cachedKey struct {
	key   VerifiedKey
	found bool
}

// Verifier checks presented keys. Malformed keys are refused without touching
// the database; others are looked up by SHA-256 once and then answered from
// memory until the source's key epoch changes, so a revocation, roll, or
// disabled account takes effect on the very next request.
type Verifier struct {
	src KeySource

	mu    sync.RWMutex
	epoch uint64
	cache map[[32]byte]cachedKey
}

// NewVerifier returns a Verifier reading keys from src.
func NewVerifier(src KeySource) *Verifier {
	return &Verifier{src: src, epoch: src.KeyEpoch(), cache: make(map[[32]byte]cachedKey)}
}

// Verify returns the key raw names if it is usable at now, else ErrInvalidKey.
// Other errors are the database failing.
func (v *Verifier) Verify(ctx context.Context, raw string, now time.Time) (VerifiedKey, error) {
	parsed, err := ParseKey(raw)
	if err != nil {
		return VerifiedKey{}, ErrInvalidKey
	}
	var buf [keyLen]byte
	copy(buf[:], parsed.Raw)
	hash := sha256.Sum256(buf[:])

	epoch := v.src.KeyEpoch()
	v.mu.RLock()
	entry, ok := v.cache[hash]
	stale := v.epoch < epoch
	v.mu.RUnlock()
	if stale {
		v.reset(epoch)
		ok = false
	}
	if !ok {
		entry, err = v.load(ctx, hash, epoch)
		if err != nil {
			return VerifiedKey{}, err
		}
	}
	k := entry.key
	if !entry.found || !k.Usable || (k.ExpiresAt != 0 && now.Unix() >= k.ExpiresAt) {
		return VerifiedKey{}, ErrInvalidKey
	}
	return k, nil
}

func (v *Verifier) reset(epoch uint64) {
	v.mu.Lock()
	if v.epoch < epoch {
		v.epoch = epoch
		clear(v.cache)
	}
	v.mu.Unlock()
}

// load reads a key from the source and caches the answer unless the epoch
// moved while it was reading, when the answer may already be out of date.
func (v *Verifier) load(ctx context.Context, hash [32]byte, epoch uint64) (cachedKey, error) {
	k, err := v.src.LookupKey(ctx, hash)
	entry := cachedKey{key: k, found: err == nil}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return entry, err
	}
	v.mu.Lock()
	if v.epoch == epoch {
		if len(v.cache) >= verifierCacheLimit {
			clear(v.cache)
		}
		v.cache[hash] = entry
	}
	v.mu.Unlock()
	return entry, nil
}
