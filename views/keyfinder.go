package views

import (
	"net/url"
	"time"

	"keyport"
	"keyport/store"
)

// KeyFinderURL is the API team's page that finds the merchant of a key.
const KeyFinderURL = "/admin/keys"

// KeyFinderSearchURL is the key finder's answer to a search that fits an address.
func KeyFinderSearchURL(s keyport.KeySearch) string {
	return KeyFinderURL + "?" + url.Values{"q": {s.Shown()}}.Encode()
}

// KeyFinderLimit is how many keys the key finder lists at most.
const KeyFinderLimit = 50

// KeyFinderView is what the key finder shows: the search box and the keys found.
type KeyFinderView struct {
	// Term is what the search box shows: the search as Shown, or the refused text.
	Term   string
	Search keyport.KeySearch
	// Error is the message next to a refused search.
	Error string
	Found []store.FoundKey
	// More reports that more keys match than Found lists.
	More bool
	Now  time.Time
	CSRF string
}

// Searched reports whether the page answers a search it accepted.
func (v KeyFinderView) Searched() bool { return v.Error == "" && v.Search.Kind != keyport.SearchAll }

// FoundKeyURL is the support view of a found key's merchant, narrowed to
// the key when its account is not deleted (the view leaves deleted accounts out).
func FoundKeyURL(f store.FoundKey) string {
	if f.AccountDeleted {
		return SupportSecretsURL(f.MerchantID)
	}
	return SupportSecretsURL(f.MerchantID) + "?" + url.Values{"q": {f.Redacted()}}.Encode()
}

// SupportKeyURL is the support view's URL of one key of a merchant.
func SupportKeyURL(merchantID, keyID int64) string {
	return SupportSecretsURL(merchantID) + "/" + itoa(keyID)
}
