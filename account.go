package keyport

import "crypto/rand"

// NewAccountKey returns a fresh account key: "acct_" and 24 random base62
// characters. It identifies an API account; it is not a credential.
func NewAccountKey() (string, error) {
	body, err := randomBase62(24)
	if err != nil {
		return "", err
	}
	return "acct_" + body, nil
}

// randomBase62Tmp is replaced by the credential code's generator.
func randomBase62(n int) (string, error) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	out := make([]byte, 0, n)
	buf := make([]byte, 64)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out), nil
}
