package keyport

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters every authenticator app supports (RFC 6238's defaults).
const (
	totpIssuer = "Keyport"
	totpPeriod = 30
)

// TOTPSkew is how many time steps before or after the current one a code is
// still accepted, for clocks that drift a little.
const TOTPSkew = 1

// RecoveryCodeCount is how many recovery codes a user gets at once.
const RecoveryCodeCount = 10

// NewTOTPSecret returns a new random TOTP secret (base32, 160 bits) for email.
func NewTOTPSecret(email string) (string, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: email, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", err
	}
	return key.Secret(), nil
}

// TOTPURL is the otpauth:// address of secret for email, what an
// authenticator app reads from the QR code.
func TOTPURL(secret, email string) string {
	q := url.Values{"secret": {secret}, "issuer": {totpIssuer}, "algorithm": {"SHA1"}, "digits": {"6"},
		"period": {fmt.Sprint(totpPeriod)}}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + totpIssuer + ":" + email, RawQuery: q.Encode()}
	return u.String()
}

// GroupSecret writes a base32 secret in groups of four characters, easier to
// type into an app than one long word.
func GroupSecret(secret string) string {
	var groups []string
	for len(secret) > 4 {
		groups = append(groups, secret[:4])
		secret = secret[4:]
	}
	return strings.Join(append(groups, secret), " ")
}

// TOTPCode returns the code of secret at t (used by tests and by nobody else).
func TOTPCode(secret string, t time.Time) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(t.Unix()/totpPeriod), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// MatchTOTP returns the time step at which code is the code of secret, within
// TOTPSkew steps of now. A code is single-use: the store accepts a step only
// once, and never one older than the last it accepted.
func MatchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	for s := current - TOTPSkew; s <= current+TOTPSkew; s++ {
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// recoveryEncoding writes recovery codes without characters that read alike (no o, 1, l or i).
var recoveryEncoding = base32.NewEncoding("abcdefghjkmnpqrstuvwxyz023456789").WithPadding(base32.NoPadding)

// NewRecoveryCodes returns RecoveryCodeCount new random recovery codes of 10
// characters (50 bits each), written as two groups of five.
func NewRecoveryCodes() ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		var b [7]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		s := recoveryEncoding.EncodeToString(b[:])[:10]
		codes[i] = s[:5] + "-" + s[5:]
	}
	return codes, nil
}

// LooksLikeRecoveryCode reports whether code has the shape of a recovery code.
func LooksLikeRecoveryCode(code string) bool {
	return len(normalizeRecoveryCode(code)) == 10
}

func normalizeRecoveryCode(code string) string {
	return strings.NewReplacer("-", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(code)))
}

// HashRecoveryCode is what the database keeps of a recovery code: its SHA-256,
// case, spaces and hyphens aside. The codes are random, so a fast hash is enough.
func HashRecoveryCode(code string) []byte {
	h := sha256.Sum256([]byte(normalizeRecoveryCode(code)))
	return h[:]
}

// SecondFactorScope names the second-factor codes tried for a user.
func SecondFactorScope(userID int64) string { return fmt.Sprintf("2fa:%d", userID) }

// SecondFactorIPScope names the wrong second-factor codes sent from the client IP ip.
func SecondFactorIPScope(ip string) string { return "2fa-ip:" + ip }

// NewSecondFactorThrottle returns the limits of second-factor codes: 5 per
// user and 20 per client IP in 15 minutes. A million codes and 5 tries in
// each window leave a guesser no real chance.
func NewSecondFactorThrottle() *LoginThrottle {
	return &LoginThrottle{PerAccount: 5, PerIP: 20, Window: 15 * time.Minute}
}

// SecondFactorTTL is how long after a good password the second step of a
// sign-in may be completed.
const SecondFactorTTL = 5 * time.Minute

// TwoFactorPolicy is the platform setting that says who must use two-factor
// authentication.
type TwoFactorPolicy string

// The policies, from the loosest.
const (
	// TwoFactorOptional lets every user choose.
	TwoFactorOptional TwoFactorPolicy = "optional"
	// TwoFactorAdmins requires it of platform admins, the default: they can
	// approve live keys for every merchant.
	TwoFactorAdmins TwoFactorPolicy = "admins"
	// TwoFactorEveryone requires it of every user.
	TwoFactorEveryone TwoFactorPolicy = "everyone"
)

// DefaultTwoFactorPolicy is the policy of a new platform.
const DefaultTwoFactorPolicy = TwoFactorAdmins

// TwoFactorPolicies lists the policies in the order the settings page shows them.
var TwoFactorPolicies = []TwoFactorPolicy{TwoFactorOptional, TwoFactorAdmins, TwoFactorEveryone}

// Label is the policy as the settings page names it.
func (p TwoFactorPolicy) Label() string {
	switch p {
	case TwoFactorOptional:
		return "Optional for everyone"
	case TwoFactorAdmins:
		return "Required for platform admins"
	case TwoFactorEveryone:
		return "Required for everyone"
	}
	return string(p)
}

// Valid reports whether p is one of TwoFactorPolicies.
func (p TwoFactorPolicy) Valid() bool { return slices.Contains(TwoFactorPolicies, p) }

// Requires reports whether the policy requires u to use two-factor authentication.
func (p TwoFactorPolicy) Requires(u *User) bool {
	switch p {
	case TwoFactorEveryone:
		return true
	case TwoFactorAdmins:
		return u.IsAdmin()
	}
	return false
}

// MustEnrol reports whether u must set up two-factor authentication before
// doing anything else: the policy requires it and they have none.
func (p TwoFactorPolicy) MustEnrol(u *User) bool { return p.Requires(u) && !u.TwoFactor }
