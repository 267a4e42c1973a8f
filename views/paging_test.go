package views

import (
	"net/url"
	"testing"

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
