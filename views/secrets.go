package views

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"keyport"
)

// SecretsView is what the API secrets page shows.
type SecretsView struct {
	Page      keyport.SecretsPage
	Accounts  []keyport.APIAccount
	Now       time.Time
	CSRF      string
	CanManage bool
}

// PageURL links to another page of the same filter.
func (v SecretsView) PageURL(page int) string {
	q := url.Values{}
	f := v.Page.Filter
	if f.AccountID != 0 {
		q.Set("account", strconv.FormatInt(f.AccountID, 10))
	}
	for name, value := range map[string]string{"mode": string(f.Mode), "type": string(f.Type), "status": string(f.Status)} {
		if value != "" {
			q.Set(name, value)
		}
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return "/secrets"
	}
	return "/secrets?" + q.Encode()
}

// SecretURL is the URL of one key on the API secrets page.
func SecretURL(id int64) string { return fmt.Sprintf("/secrets/%d", id) }

// KeyBody is the redacted part of a key after its prefix: "ij30********bvrw".
func KeyBody(k keyport.APIKey) string { return k.Redacted()[len(k.Prefix):] }

// TypeLabel is a key type for people.
func TypeLabel(t keyport.KeyType) string {
	if t == keyport.KeyPublishable {
		return "Publishable"
	}
	return "Secret"
}

// Choice is one option of a filter.
type Choice struct{ Value, Label string }

// ModeChoices, TypeChoices and StatusChoices are the API secrets page's filter options.
var (
	ModeChoices   = []Choice{{"", "All modes"}, {"test", "Test"}, {"live", "Live"}}
	TypeChoices   = []Choice{{"", "All types"}, {"secret", "Secret"}, {"publishable", "Publishable"}}
	StatusChoices = []Choice{{"", "All statuses"}, {"active", "Active"}, {"expired", "Expired"}, {"revoked", "Revoked"}}
)

// PermissionsView is the eye panel of one key: every catalog permission, granted or not.
type PermissionsView struct {
	Frame
	Key    keyport.APIKey
	Grants []keyport.Grant
	Now    time.Time
}
