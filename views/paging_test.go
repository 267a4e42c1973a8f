package views

import (
	"net/url"
	"testing"

	"keyport"
	"keyport/store"
)

func TestPageParamsParseAndLink(t *testing.T) {
	p := PageParams{Before: "test_before", After: "test_after"}
	for _, tc := range []struct {
		query string
		want  store.PageRequest
	}{
		{"", store.PageRequest{}},
		{"test_before=7", store.PageRequest{Cursor: store.Cursor{ID: 7}, Before: true}},
		{"test_after=3.7", store.PageRequest{Cursor: store.Cursor{Key: 3, ID: 7}}},
		{"test_before=7&test_after=9", store.PageRequest{Cursor: store.Cursor{ID: 7}, Before: true}},
		{"test_before=bad&test_after=9", store.PageRequest{Cursor: store.Cursor{ID: 9}}},
		{"page=20", store.PageRequest{}},
		{"before=7", store.PageRequest{}},
	} {
		q, _ := url.ParseQuery(tc.query)
		if got := p.Parse(q); got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.query, got, tc.want)
		}
	}
	q := url.Values{"mode": {"live"}, "test_after": {"1"}, "live_before": {"5"}}
	if got := p.Link(q, store.PageRequest{Cursor: store.Cursor{ID: 8}, Before: true}); got != "live_before=5&mode=live&test_before=8" {
		t.Errorf("link %q", got)
	}
	if got := p.Link(q, store.PageRequest{}); got != "live_before=5&mode=live" {
		t.Errorf("first page link %q", got)
	}
}

func TestKeysViewLinksKeepEveryOtherListsPage(t *testing.T) {
	at := func(id int64) store.PageRequest { return store.PageRequest{Cursor: store.Cursor{ID: id}, Before: true} }
	v := KeysView{Tab: store.KeysTab{
		Account: keyport.APIAccount{ID: 7},
		Live:    store.ModeKeys{CurrentRequest: at(1), RevokedRequest: at(2)},
		Test:    store.ModeKeys{CurrentRequest: at(3), RevokedRequest: at(4)},
	}}
	cases := []struct{ got, want string }{
		{v.CurrentPageURL(keyport.ModeTest, at(9)),
			"/accounts/7/keys?live_before=2&live_keys_before=1&test_before=4&test_keys_before=9#keys-test"},
		{v.RevokedPageURL(keyport.ModeLive, store.PageRequest{}),
			"/accounts/7/keys?live_keys_before=1&test_before=4&test_keys_before=3#keys-live"},
		{v.SectionURL(keyport.ModeLive),
			"/accounts/7/keys/section?live_before=2&live_keys_before=1&mode=live&test_before=4&test_keys_before=3"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
}

func TestManageViewPageField(t *testing.T) {
	cases := []struct {
		page        store.PageRequest
		name, value string
	}{
		{store.PageRequest{}, "", ""},
		{store.PageRequest{Cursor: store.Cursor{ID: 5}, Before: true}, "before", "5"},
		{store.PageRequest{Cursor: store.Cursor{Key: 1, ID: 5}}, "after", "1.5"},
	}
	for _, tc := range cases {
		if name, value := (ManageView{Page: tc.page}).PageField(); name != tc.name || value != tc.value {
			t.Errorf("%+v: %q=%q, want %q=%q", tc.page, name, value, tc.name, tc.value)
		}
	}
}
