package keyport

import (
	"slices"
	"sync"
	"sync/atomic"
)

// KeyScope says which keys a KeyChange touches.
type KeyScope uint8

// The scopes of key changes.
const (
	// ScopeKey is one key, by id: revoked, or rolled so that its expiry moved.
	ScopeKey KeyScope = iota + 1
	// ScopeAccount is every key of one API account: disabled, enabled or deleted.
	ScopeAccount
	// ScopeMerchant is every key of one merchant: disabled or enabled.
	ScopeMerchant
	// ScopeHash is the key with one SHA-256, which did not exist until now.
	ScopeHash
)

// KeyChange is a committed change that may alter whether some keys verify.
type KeyChange struct {
	Scope KeyScope
	// ID is the key, account or merchant id of the scope; 0 for ScopeHash.
	ID int64
	// Hash is the SHA-256 of the created key, for ScopeHash only.
	Hash [32]byte
}

// KeyChanged is a change of one key, such as its revocation.
func KeyChanged(keyID int64) KeyChange { return KeyChange{Scope: ScopeKey, ID: keyID} }

// AccountChanged is a change of every key of an API account.
func AccountChanged(accountID int64) KeyChange { return KeyChange{Scope: ScopeAccount, ID: accountID} }

// MerchantChanged is a change of every key of a merchant.
func MerchantChanged(merchantID int64) KeyChange {
	return KeyChange{Scope: ScopeMerchant, ID: merchantID}
}

// KeyCreated is the creation of the key with this SHA-256.
func KeyCreated(hash [32]byte) KeyChange { return KeyChange{Scope: ScopeHash, Hash: hash} }

// keyChangeLogSize is how many recent changes a KeyChangeLog keeps.
const keyChangeLogSize = 1024

// KeyChangeLog is a bounded, in-memory record of the most recent key changes,
// numbered 1, 2, 3… in the order they were published. It is the one place a
// KeySource learns of changes, whatever made them. The zero value is empty and
// ready to use.
type KeyChangeLog struct {
	mu     sync.Mutex
	seq    atomic.Uint64
	recent []KeyChange
}

// Publish appends changes to the log. The sequence number moves forward by
// one per change, only after the changes can be read with Since.
func (l *KeyChangeLog) Publish(changes ...KeyChange) {
	if len(changes) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recent = append(l.recent, changes...)
	if len(l.recent) > keyChangeLogSize {
		n := copy(l.recent, l.recent[len(l.recent)-keyChangeLogSize/2:])
		l.recent = l.recent[:n]
	}
	l.seq.Add(uint64(len(changes)))
}

// Reset publishes that any key may have changed, with no detail: readers
// behind it find Since answering false, and start over. It is for changes
// this process cannot know one by one, such as those committed elsewhere
// while it was not listening.
func (l *KeyChangeLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recent = l.recent[:0]
	l.seq.Add(1)
}

// Seq returns the number of the last change published; it only moves forward.
func (l *KeyChangeLog) Seq() uint64 { return l.seq.Load() }

// Since returns the changes numbered after seq, oldest first, so that seq plus
// their count is the sequence number they reach. It returns false when the log
// no longer holds all of them.
func (l *KeyChangeLog) Since(seq uint64) ([]KeyChange, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last := l.seq.Load()
	if seq >= last {
		return nil, true
	}
	if last-seq > uint64(len(l.recent)) {
		return nil, false
	}
	return slices.Clone(l.recent[len(l.recent)-int(last-seq):]), true
}
