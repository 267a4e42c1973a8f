package keyport

import (
	"crypto/rand"
	"strings"
	"time"
)

const (
	accountKeyPrefix  = "acct_"
	accountKeyBodyLen = 24
)

// NewAccountKey returns a fresh account key: "acct_" and 24 random base62
// characters. It identifies an API account; it is not a credential.
func NewAccountKey() (string, error) {
	body := make([]byte, accountKeyBodyLen)
	if err := fillBase62(body, rand.Reader); err != nil {
		return "", err
	}
	return accountKeyPrefix + string(body), nil
}

// CheckAccountKey returns a message when an account key is not "acct_" and 24 base62 characters.
func CheckAccountKey(key string) string {
	body, ok := strings.CutPrefix(key, accountKeyPrefix)
	if !ok || len(body) != accountKeyBodyLen {
		return "The account key must be “acct_” followed by 24 letters and digits: use Generate key."
	}
	for i := 0; i < len(body); i++ {
		if strings.IndexByte(base62Alphabet, body[i]) < 0 {
			return "The account key must be “acct_” followed by 24 letters and digits: use Generate key."
		}
	}
	return ""
}

// NewAccount is what a merchant user submits to create an API account.
type NewAccount struct {
	Name       string
	AccountKey string
}

// Normalize trims the fields.
func (a *NewAccount) Normalize() {
	a.Name = strings.TrimSpace(a.Name)
	a.AccountKey = strings.TrimSpace(a.AccountKey)
}

// Validate checks the name and, when given, the account key.
func (a NewAccount) Validate() error {
	var v ValidationError
	if msg := CheckName(a.Name, "Account name"); msg != "" {
		v.Add("name", msg)
	}
	if a.AccountKey != "" {
		if msg := CheckAccountKey(a.AccountKey); msg != "" {
			v.Add("account_key", msg)
		}
	}
	return v.OrNil()
}

// ErrAccountNameTaken is the message for a second live account of the same name.
const ErrAccountNameTaken = "You already have an API account with this name."

// LegacySecretName is the name of the full-access test secret every new API account starts with.
const LegacySecretName = "Legacy API Secret"

// AccountSummary is an API account with the counts the API Accounts page shows.
type AccountSummary struct {
	APIAccount
	ActiveTestKeys int
	ActiveLiveKeys int
	Auths          int
	Shipments      int
}

// CheckDeleteConfirmation returns a message unless typed is the account's name.
func CheckDeleteConfirmation(accountName, typed string) string {
	if strings.TrimSpace(typed) != accountName {
		return "Type the account name exactly as shown to confirm."
	}
	return ""
}

// AccountRevokeReason is recorded on every key revoked because its API account was deleted.
const AccountRevokeReason = "API account deleted"

// Shipment is a parcel sent through a courier service of an API account.
type Shipment struct {
	ID             int64
	AccountID      int64
	MerchantID     int64
	Mode           Mode
	Courier        string
	CourierName    string
	ServiceCode    string
	ServiceName    string
	Status         string
	TrackingNumber string
	LabelRef       string
	AmountMinor    int64
	Currency       string
	FromPostcode   string
	FromCountry    string
	ToPostcode     string
	ToCountry      string
	WeightGrams    int
	CreatedByKey   string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Shipment statuses, in the order a parcel moves through them.
const (
	ShipmentCreated   = "created"
	ShipmentInTransit = "in_transit"
	ShipmentDelivered = "delivered"
	ShipmentCancelled = "cancelled"
)

// ShipmentStatuses are the statuses a shipment can have, in the order a parcel moves through them.
var ShipmentStatuses = []string{ShipmentCreated, ShipmentInTransit, ShipmentDelivered, ShipmentCancelled}

// NewTrackingNumber returns a fresh tracking number: "KP" and 16 random digits.
func NewTrackingNumber() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	out := []byte("KP")
	for _, c := range b {
		out = append(out, '0'+c%10)
	}
	return string(out), nil
}
