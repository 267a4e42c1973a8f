package views

import "testing"

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
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}
