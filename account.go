package keyport

import "crypto/rand"

// NewAccountKey returns a fresh account key: "acct_" and 24 random base62
// characters. It identifies an API account; it is not a credential.
func NewAccountKey() (string, error) {
	body := make([]byte, 24)
	if err := fillBase62(body, rand.Reader); err != nil {
		return "", err
	}
	return "acct_" + string(body), nil
}
