package views

import (
	"testing"

	"keyport"
	"keyport/store"
)

func TestAccountURLs(t *testing.T) {
	cases := []struct{ got, want string }{
		{AccountURL(7), "/accounts/7"},
		{KeysURL(7), "/accounts/7/keys"},
		{KeyURL(7, 42), "/accounts/7/keys/42"},
		{TokensURL(7), "/accounts/7/tokens"},
		{RequestsURL(7), "/accounts/7/requests"},
		{RequestURL(7, 3), "/accounts/7/requests/3"},
		{AuthsURL(7), "/accounts/7/auths"},
		{AuthURL(7, 9), "/accounts/7/auths/9"},
		{ShipmentsURL(7), "/accounts/7/shipments"},
		{ManageURL(7, keyport.ModeTest, store.PageRequest{}), "/accounts/7/keys/manage?mode=test"},
		{ManageURL(7, keyport.ModeLive, store.PageRequest{Cursor: store.Cursor{ID: 5}, Before: true}), "/accounts/7/keys/manage?before=5&mode=live"},
		{ManageURL(7, "", store.PageRequest{Cursor: store.Cursor{Key: 1, ID: 5}}), "/accounts/7/tokens?after=1.5"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}
