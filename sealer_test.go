package keyport

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"
)

func TestSealerRoundTripAndRefusals(t *testing.T) {
	key := bytes.Repeat([]byte{1}, EncryptionKeySize)
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"password":"hunter2-but-longer"}`)
	sealed, err := s.Seal(plain, "registered_auth/1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed value holds the plaintext")
	}
	again, _ := s.Seal(plain, "registered_auth/1")
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of the same value are identical: the nonce is not random")
	}
	got, err := s.Open(sealed, "registered_auth/1")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q, %v", got, err)
	}
	other, _ := NewSealer(bytes.Repeat([]byte{2}, EncryptionKeySize))
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, open := range map[string]func() ([]byte, error){
		"other context": func() ([]byte, error) { return s.Open(sealed, "registered_auth/2") },
		"other key":     func() ([]byte, error) { return other.Open(sealed, "registered_auth/1") },
		"tampered":      func() ([]byte, error) { return s.Open(tampered, "registered_auth/1") },
		"truncated":     func() ([]byte, error) { return s.Open(sealed[:10], "registered_auth/1") },
		"empty":         func() ([]byte, error) { return s.Open(nil, "registered_auth/1") },
	} {
		if _, err := open(); !errors.Is(err, ErrUnsealable) {
			t.Errorf("%s: err = %v, want ErrUnsealable", name, err)
		}
	}
	if _, err := NewSealer(key[:16]); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
}

func TestParseEncryptionKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, EncryptionKeySize)
	tests := []struct {
		name, text string
		ok         bool
	}{
		{"hex", hex.EncodeToString(key), true},
		{"base64", base64.StdEncoding.EncodeToString(key), true},
		{"base64 url raw", base64.RawURLEncoding.EncodeToString(key), true},
		{"surrounding space", " " + hex.EncodeToString(key) + "\n", true},
		{"short hex", hex.EncodeToString(key[:16]), false},
		{"long base64", base64.StdEncoding.EncodeToString(append(key, 1)), false},
		{"not a key", "correct horse battery staple", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEncryptionKey(tt.text)
			if tt.ok && (err != nil || !bytes.Equal(got, key)) {
				t.Fatalf("got %x, %v", got, err)
			}
			if !tt.ok && err == nil {
				t.Fatalf("accepted %q", tt.text)
			}
		})
	}
}
