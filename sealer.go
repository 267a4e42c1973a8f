package keyport

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// EncryptionKeySize is the size of the key that encrypts secrets at rest (AES-256).
const EncryptionKeySize = 32

// ErrUnsealable means a sealed value could not be decrypted: a wrong key, or
// bytes that were changed or moved to another object.
var ErrUnsealable = errors.New("sealed value cannot be decrypted with this key")

// Sealer encrypts and decrypts small secrets at rest with AES-256-GCM. Each
// sealed value carries its own random nonce and is bound to a context string,
// so a value copied into another row does not decrypt.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != EncryptionKeySize {
		return nil, fmt.Errorf("encryption key must be %d bytes, got %d", EncryptionKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext bound to context; the result is nonce || ciphertext.
func (s *Sealer) Seal(plaintext []byte, context string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plaintext, []byte(context)), nil
}

// Open decrypts a value sealed with the same key and context.
func (s *Sealer) Open(sealed []byte, context string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrUnsealable
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, ErrUnsealable
	}
	return out, nil
}

// ParseEncryptionKey reads a 32-byte key written as 64 hex characters or as
// standard or URL-safe base64.
func ParseEncryptionKey(text string) ([]byte, error) {
	if b, ok := ParseKeyText(text, EncryptionKeySize); ok {
		return b, nil
	}
	return nil, errors.New("must be 32 bytes written as 64 hex characters or base64")
}

// ParseKeyText reads a secret key of size bytes written as hex or base64
// (standard or URL alphabet, padded or not), as operators paste keys into the
// environment; ok is false for any other text.
func ParseKeyText(text string, size int) (key []byte, ok bool) {
	text = strings.TrimSpace(text)
	if b, err := hex.DecodeString(text); err == nil && len(b) == size {
		return b, true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil && len(b) == size {
			return b, true
		}
	}
	return nil, false
}
