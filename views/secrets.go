package views

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"keyport"
	"keyport/store"
)

// SecretsView is what the API secrets page shows.
type SecretsView struct {
	Page      store.SecretsPage
	Accounts  []keyport.APIAccount
	Now       time.Time
	CSRF      string
	CanManage bool
	// Base is the page's URL: "/secrets", or an admin's support view of one merchant.
	Base string
	// Support marks the admins' read-only support view, where revoking needs a reason.
	Support bool
	// MerchantName names the merchant in the support view.
	MerchantName string
	// SearchTerm is what the search box shows: the search as Shown, or the
	// refused text next to SearchError.
	SearchTerm string
	// SearchError is the message next to a refused search; no key is listed then.
	SearchError string
}

// Searching reports whether a search term selects the keys listed.
func (v SecretsView) Searching() bool { return v.Page.Filter.Search.Kind != keyport.SearchAll }

// SupportSecretsURL is the admins' support view of a merchant's API secrets.
func SupportSecretsURL(merchantID int64) string {
	return fmt.Sprintf("/admin/merchants/%d/secrets", merchantID)
}

// KeyURL is the URL of one key under the page's base.
func (v SecretsView) KeyURL(id int64) string { return fmt.Sprintf("%s/%d", v.Base, id) }

// RevokeURL is the confirmation of revoking the key id, which leads back to
// this page of the list.
func (v SecretsView) RevokeURL(id int64) string {
	return v.KeyURL(id) + "/revoke?" + url.Values{"back": {v.PageURL(v.Page.Filter.Page)}}.Encode()
}

// PageURL links to the page req of the same filter and search. A whole key
// searched for is carried as its redacted form, which never leaves it in an
// address.
func (v SecretsView) PageURL(req store.PageRequest) string {
	return v.filterURL(req, v.Page.Filter.Search.Shown())
}

// ClearSearchURL is the first page of the same filter without the search.
func (v SecretsView) ClearSearchURL() string { return v.filterURL(store.PageRequest{}, "") }

func (v SecretsView) filterURL(req store.PageRequest, search string) string {
	q := url.Values{}
	f := v.Page.Filter
	if search != "" {
		q.Set("q", search)
	}
	if f.AccountID != 0 {
		q.Set("account", strconv.FormatInt(f.AccountID, 10))
	}
	for name, value := range map[string]string{"mode": string(f.Mode), "type": string(f.Type), "status": string(f.Status)} {
		if value != "" {
			q.Set(name, value)
		}
	}
	if query := DefaultPageParams.Link(q, req); query != "" {
		return v.Base + "?" + query
	}
	return v.Base
}

// KeyBody is the redacted part of a key after its prefix: "ij30********bvrw".
func KeyBody(k keyport.APIKey) string { return k.Redacted()[len(k.Prefix):] }

// ShortKey is a publishable key shortened for a table: its first and last
// four characters after the prefix, the whole value being one Copy away.
func ShortKey(k keyport.APIKey) string { return k.First4 + "…" + k.Last4 }

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

// SupportRevokeForm is the admins' form to revoke a merchant's key with a reason.
type SupportRevokeForm struct {
	Frame
	Action string
	CSRF   string
	Key    keyport.APIKey
	Form   Form
}
