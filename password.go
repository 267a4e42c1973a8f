package keyport

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits, in characters.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 128
)

// Argon2id parameters shared by every cost: one lane, 32-byte keys, 16-byte salts.
const (
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// PasswordCost is the argon2id work spent on each new password hash.
// Stored hashes carry their own cost, so a hash made at one cost verifies
// under any other.
type PasswordCost struct {
	// MemoryKiB is the memory each hash fills, in KiB.
	MemoryKiB uint32
	// Passes is the number of passes over that memory.
	Passes uint32
}

// DefaultPasswordCost is the cost of every stored password: 19 MiB of memory
// and two passes, OWASP's argon2id baseline.
var DefaultPasswordCost = PasswordCost{MemoryKiB: 19 * 1024, Passes: 2}

// MinimalPasswordCost is the least work argon2id accepts. It is for test
// suites, whose hundreds of sign-ins would otherwise spend minutes hashing;
// it protects nothing and is never used by the keyport command.
var MinimalPasswordCost = PasswordCost{MemoryKiB: 8, Passes: 1}

// orDefault is c, or DefaultPasswordCost when c is zero.
func (c PasswordCost) orDefault() PasswordCost {
	if c.MemoryKiB == 0 || c.Passes == 0 {
		return DefaultPasswordCost
	}
	return c
}

//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = loadCommonPasswords(commonPasswordsText)

func loadCommonPasswords(text string) map[string]struct{} {
	set := map[string]struct{}{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			set[strings.ToLower(line)] = struct{}{}
		}
	}
	return set
}

// IsCommonPassword reports whether the password is in the embedded list of common passwords.
func IsCommonPassword(password string) bool {
	_, ok := commonPasswords[strings.ToLower(password)]
	return ok
}

// CheckPassword returns a message when a new password breaks the password
// rules. personal are the user's details (name, merchant name, email), none
// of whose words the password may contain.
func CheckPassword(password string, personal ...string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case password == "":
		return "Password is required."
	case !utf8.ValidString(password) || strings.ContainsRune(password, 0):
		return "Password contains characters that are not allowed."
	case n < MinPasswordLength:
		return fmt.Sprintf("Password must be at least %d characters.", MinPasswordLength)
	case n > MaxPasswordLength:
		return fmt.Sprintf("Password must be at most %d characters.", MaxPasswordLength)
	case IsCommonPassword(password):
		return "This password is too common. Choose one that is harder to guess."
	case containsAny(strings.ToLower(password), personalWords(personal)):
		return "Password must not contain your name, your email or your merchant's name."
	}
	return ""
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// minPersonalWord is the shortest word of a user's details that a password
// may not contain: shorter ones are parts of too many good passwords.
const minPersonalWord = 4

// personalWords are the words of a user's details (name, merchant name,
// email) that their password must not contain, lower-cased: each run of
// four or more letters or digits, and of an email the whole address and its
// local part when it is that long.
func personalWords(details []string) []string {
	var words []string
	for _, d := range details {
		d = strings.ToLower(strings.TrimSpace(d))
		if local, _, ok := strings.Cut(d, "@"); ok {
			words = append(words, d)
			if utf8.RuneCountInString(local) >= minPersonalWord {
				words = append(words, local)
			}
			d = local
		}
		for _, w := range strings.FieldsFunc(d, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if utf8.RuneCountInString(w) >= minPersonalWord {
				words = append(words, w)
			}
		}
	}
	return words
}

// HashPassword returns an argon2id hash of password at DefaultPasswordCost,
// in the PHC string format.
func HashPassword(password string) (string, error) {
	return DefaultPasswordCost.Hash(password)
}

// Hash returns an argon2id hash of password at cost c (DefaultPasswordCost
// when c is zero), in the PHC string format.
func (c PasswordCost) Hash(password string) (string, error) {
	c = c.orDefault()
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	var key []byte
	if err := passwordWork.Run(func() {
		key = argon2.IDKey([]byte(password), salt, c.Passes, c.MemoryKiB, argonThreads, argonKeyLen)
	}); err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.MemoryKiB, c.Passes, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// ErrBadHash means a stored password hash cannot be read.
var ErrBadHash = errors.New("unreadable password hash")

// VerifyPassword reports whether password matches an argon2id hash made by HashPassword.
func VerifyPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrBadHash
	}
	var version int
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil || threads == 0 || time == 0 {
		return false, ErrBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, ErrBadHash
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrBadHash
	}
	var got []byte
	if err := passwordWork.Run(func() { got = argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want))) }); err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// noUserSalt salts the work VerifyNoUser spends; its result is thrown away.
var noUserSalt = make([]byte, argonSaltLen)

// VerifyNoUser spends the work of verifying a password hashed at cost c
// (DefaultPasswordCost when c is zero), so that a login naming no known user
// takes as long as one naming a real account, and is refused alike when the
// password work is busy (ErrPasswordWorkBusy).
func (c PasswordCost) VerifyNoUser(password string) error {
	c = c.orDefault()
	return passwordWork.Run(func() {
		_ = argon2.IDKey([]byte(password), noUserSalt, c.Passes, c.MemoryKiB, argonThreads, argonKeyLen)
	})
}

// ErrPasswordWorkBusy refuses a password hash or check when as many are
// running as the process has CPUs and the queue behind them is full, or its
// wait ran out: the request may be retried in a moment.
var ErrPasswordWorkBusy = errors.New("password work busy")

// WorkGate bounds work that costs much memory and CPU (argon2id takes 19 MiB
// for each hash): at most Slots run at once, at most Queue more wait, each at
// most Wait; any more are refused at once with ErrPasswordWorkBusy.
type WorkGate struct {
	slots   chan struct{}
	queue   int64
	wait    time.Duration
	waiting atomic.Int64
}

// NewWorkGate returns a gate of slots running at once and queue waiting, each up to wait.
func NewWorkGate(slots, queue int, wait time.Duration) *WorkGate {
	return &WorkGate{slots: make(chan struct{}, max(slots, 1)), queue: int64(queue), wait: wait}
}

// passwordWork bounds every argon2id hash and check of the process: one per
// CPU at a time, four per CPU queued for up to five seconds.
var passwordWork = NewWorkGate(runtime.GOMAXPROCS(0), 4*runtime.GOMAXPROCS(0), 5*time.Second)

// Run runs fn in a slot, waiting for one if the queue has room, or returns
// ErrPasswordWorkBusy without running it.
func (g *WorkGate) Run(fn func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		if g.waiting.Add(1) > g.queue {
			g.waiting.Add(-1)
			return ErrPasswordWorkBusy
		}
		t := time.NewTimer(g.wait)
		select {
		case g.slots <- struct{}{}:
			t.Stop()
			g.waiting.Add(-1)
		case <-t.C:
			g.waiting.Add(-1)
			return ErrPasswordWorkBusy
		}
	}
	defer func() { <-g.slots }()
	fn()
	return nil
}

// GeneratePassword returns a random password for generated accounts (demo, first admin).
func GeneratePassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
