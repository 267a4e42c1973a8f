package views

import (
	"net/url"
	"strconv"

	"keyport"
	"keyport/store"
)

// AccountURL is the URL prefix of an API account's pages; every URL of an
// account's pages, in views and in web, is built from it.
func AccountURL(accountID int64) string { return "/accounts/" + strconv.FormatInt(accountID, 10) }

// KeysURL is the URL of an account's Developer keys tab.
func KeysURL(accountID int64) string { return AccountURL(accountID) + "/keys" }

// KeyURL is the URL prefix of one key's actions (revoke, roll).
func KeyURL(accountID, keyID int64) string {
	return KeysURL(accountID) + "/" + strconv.FormatInt(keyID, 10)
}

// TokensURL is the URL of an account's Keys & Tokens pop-up.
func TokensURL(accountID int64) string { return AccountURL(accountID) + "/tokens" }

// ManageURL is the URL of a pop-up that lists an account's current keys, on
// the page req asks for: "Manage Your Tokens" of one mode, or the Keys &
// Tokens pop-up of both modes when mode is empty.
func ManageURL(accountID int64, mode keyport.Mode, req store.PageRequest) string {
	u, q := TokensURL(accountID), url.Values{}
	if mode != "" {
		u = KeysURL(accountID) + "/manage"
		q.Set("mode", string(mode))
	}
	if query := DefaultPageParams.Link(q, req); query != "" {
		u += "?" + query
	}
	return u
}

// RequestsURL is the URL of an account's live key requests.
func RequestsURL(accountID int64) string { return AccountURL(accountID) + "/requests" }

// RequestURL is the URL prefix of one live key request's actions.
func RequestURL(accountID, requestID int64) string {
	return RequestsURL(accountID) + "/" + strconv.FormatInt(requestID, 10)
}

// AuthsURL is the URL of an account's registered auths.
func AuthsURL(accountID int64) string { return AccountURL(accountID) + "/auths" }

// AuthURL is the URL prefix of one registered auth's actions.
func AuthURL(accountID, authID int64) string {
	return AuthsURL(accountID) + "/" + strconv.FormatInt(authID, 10)
}

// ShipmentsURL is the URL of an account's shipments.
func ShipmentsURL(accountID int64) string { return AccountURL(accountID) + "/shipments" }
