package keyport

import (
	"crypto/sha256"
	"errors"
	"time"
)

// IdempotencyWindow is how long the answer to a POST made under an
// Idempotency-Key is replayed to the same request with the same key.
const IdempotencyWindow = 24 * time.Hour

// MaxIdempotencyKeyLength is the longest Idempotency-Key accepted.
const MaxIdempotencyKeyLength = 255

// ErrIdempotencyKeyReused refuses an Idempotency-Key already used, within the
// window, by the same API key for another request.
var ErrIdempotencyKeyReused = errors.New("idempotency key reused for another request")

// Idempotency is a POST made under an Idempotency-Key: the API key that made
// it, the client's key, and a digest of the request.
type Idempotency struct {
	KeyID   int64
	Key     string
	Request [32]byte
}

// NewIdempotency checks an Idempotency-Key header value and digests the
// request it came with (method, path and body). An empty value means the
// request has none: nil, nil.
func NewIdempotency(keyID int64, header, method, path string, body []byte) (*Idempotency, error) {
	if header == "" {
		return nil, nil
	}
	if len(header) > MaxIdempotencyKeyLength || !visibleASCII(header) {
		return nil, FieldError("Idempotency-Key", "must be 1 to 255 visible ASCII characters, such as a UUID")
	}
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(body)
	idem := &Idempotency{KeyID: keyID, Key: header}
	h.Sum(idem.Request[:0])
	return idem, nil
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Answer is an API answer as it is stored for replays: its status and JSON body.
type Answer struct {
	Status int
	Body   []byte
}
