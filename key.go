package keyport

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"io"
)

// KeyType says whether a key is a secret key or a publishable key.
type KeyType string

// The key types.
const (
	KeySecret      KeyType = "secret"
	KeyPublishable KeyType = "publishable"
)

// Valid reports whether t is one of the known key types.
func (t KeyType) Valid() bool {
	return t == KeySecret || t == KeyPublishable
}

// Mode says whether a key works against test data or live data.
type Mode string

// The key modes.
const (
	ModeTest Mode = "test"
	ModeLive Mode = "live"
)

// Valid reports whether m is one of the known modes.
func (m Mode) Valid() bool {
	return m == ModeTest || m == ModeLive
}

// ErrMalformedKey means a string is not a syntactically valid API key: wrong
// prefix, wrong length, a character outside base62, or a bad checksum.
var ErrMalformedKey = errors.New("malformed key")

const (
	base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

	keyPrefixLen   = 8
	keyRandomLen   = 30
	keyChecksumLen = 6
	keyBodyLen     = keyRandomLen + keyChecksumLen
	keyLen         = keyPrefixLen + keyBodyLen
)

var base62Values = makeBase62Values()

func makeBase62Values() [256]byte {
	var values [256]byte
	for i := range values {
		values[i] = 0xff
	}
	for i := 0; i < len(base62Alphabet); i++ {
		values[base62Alphabet[i]] = byte(i)
	}
	return values
}

// ParsedKey is a syntactically valid key.
type ParsedKey struct {
	Type KeyType
	Mode Mode
	Raw  string
}

// KeyPrefix returns the prefix of keys of type t in mode m, such as
// "sk_test_", or "" if t or m is not valid.
func KeyPrefix(t KeyType, m Mode) string {
	switch {
	case t == KeySecret && m == ModeTest:
		return "sk_test_"
	case t == KeySecret && m == ModeLive:
		return "sk_live_"
	case t == KeyPublishable && m == ModeTest:
		return "pk_test_"
	case t == KeyPublishable && m == ModeLive:
		return "pk_live_"
	}
	return ""
}

// MintKey returns a new random key of type t in mode m. It fails only if t or
// m is not valid or the system's random source fails.
func MintKey(t KeyType, m Mode) (ParsedKey, error) {
	if !t.Valid() {
		return ParsedKey{}, FieldError("type", "must be secret or publishable")
	}
	if !m.Valid() {
		return ParsedKey{}, FieldError("mode", "must be test or live")
	}
	var buf [keyLen]byte
	copy(buf[:keyPrefixLen], KeyPrefix(t, m))
	if err := fillBase62(buf[keyPrefixLen:keyPrefixLen+keyRandomLen], rand.Reader); err != nil {
		return ParsedKey{}, err
	}
	sum := crc32.ChecksumIEEE(buf[:keyLen-keyChecksumLen])
	encodeChecksum(buf[keyLen-keyChecksumLen:], sum)
	return ParsedKey{Type: t, Mode: m, Raw: string(buf[:])}, nil
}

// fillBase62 fills dst with base62 characters drawn uniformly from r. Bytes of
// 248 and above are rejected so that each character comes from exactly four
// byte values.
func fillBase62(dst []byte, r io.Reader) error {
	const limit = 256 - 256%len(base62Alphabet)
	var buf [64]byte
	n := 0
	for n < len(dst) {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return err
		}
		for _, b := range buf {
			if n == len(dst) {
				break
			}
			if int(b) < limit {
				dst[n] = base62Alphabet[int(b)%len(base62Alphabet)]
				n++
			}
		}
	}
	return nil
}

// encodeChecksum writes sum into dst as base62, most significant digit first,
// left-padded with '0'.
func encodeChecksum(dst []byte, sum uint32) {
	v := sum
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = base62Alphabet[v%62]
		v /= 62
	}
}

// ParseKey checks that s is a well-formed key and returns it with its type
// and mode. Any defect gives ErrMalformedKey.
func ParseKey(s string) (ParsedKey, error) {
	if len(s) != keyLen {
		return ParsedKey{}, ErrMalformedKey
	}
	var k ParsedKey
	switch s[:3] {
	case "sk_":
		k.Type = KeySecret
	case "pk_":
		k.Type = KeyPublishable
	default:
		return ParsedKey{}, ErrMalformedKey
	}
	switch s[3:keyPrefixLen] {
	case "test_":
		k.Mode = ModeTest
	case "live_":
		k.Mode = ModeLive
	default:
		return ParsedKey{}, ErrMalformedKey
	}
	table := crc32.IEEETable
	crc := ^uint32(0)
	for i := 0; i < keyLen-keyChecksumLen; i++ {
		c := s[i]
		if i >= keyPrefixLen && base62Values[c] == 0xff {
			return ParsedKey{}, ErrMalformedKey
		}
		crc = table[byte(crc)^c] ^ (crc >> 8)
	}
	var want uint64
	for i := keyLen - keyChecksumLen; i < keyLen; i++ {
		v := base62Values[s[i]]
		if v == 0xff {
			return ParsedKey{}, ErrMalformedKey
		}
		want = want*62 + uint64(v)
	}
	if want != uint64(^crc) {
		return ParsedKey{}, ErrMalformedKey
	}
	k.Raw = s
	return k, nil
}

// String returns the raw key.
func (k ParsedKey) String() string {
	return k.Raw
}

// Prefix returns the key's prefix, such as "sk_test_".
func (k ParsedKey) Prefix() string {
	return KeyPrefix(k.Type, k.Mode)
}

// Hash returns the SHA-256 of the raw key.
func (k ParsedKey) Hash() [32]byte {
	return sha256.Sum256([]byte(k.Raw))
}

// First4 returns the first four characters of the key's body, or "" if the
// key is not of the right length.
func (k ParsedKey) First4() string {
	if len(k.Raw) != keyLen {
		return ""
	}
	return k.Raw[keyPrefixLen : keyPrefixLen+4]
}

// Last4 returns the last four characters of the key's body, or "" if the key
// is not of the right length.
func (k ParsedKey) Last4() string {
	if len(k.Raw) != keyLen {
		return ""
	}
	return k.Raw[keyLen-4:]
}

// Redact returns the displayable form of a key from its prefix and the first
// and last four characters of its body, such as "sk_test_ij30********bvrw".
func Redact(prefix, first4, last4 string) string {
	return prefix + first4 + "********" + last4
}
