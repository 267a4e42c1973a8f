package keyport_test

import (
	"strings"
	"testing"

	"keyport"
)

func TestParseOrigins(t *testing.T) {
	tests := []struct {
		text string
		want string
		err  string
	}{
		{"", "", ""},
		{"https://Shop.Example.com", "https://shop.example.com", ""},
		{"https://a.example, http://localhost:3000\nhttps://a.example/", "https://a.example http://localhost:3000", ""},
		{"https://[::1]:8443", "https://[::1]:8443", ""},
		{"shop.example.com", "", "is not."},
		{"https://shop.example.com/checkout", "", "without a path"},
		{"https://user@shop.example.com", "", "is not."},
		{"https://shop.example.com?x=1", "", "is not."},
		{"ftp://shop.example.com", "", "is not."},
		{"https://bücher.example", "", "is not."},
		{"https://xn--bcher-kva.example", "https://xn--bcher-kva.example", ""},
		{"shop-" + strings.Repeat("é", 80), "", "é…"},
	}
	for _, tt := range tests {
		got, err := keyport.ParseOrigins(tt.text)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseOrigins(%q) = %v, %v; want an error with %q", tt.text, got, err, tt.err)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("ParseOrigins(%q) = %v, %v; want %q", tt.text, got, err, tt.want)
		}
	}
	if keyport.AllowsOrigin([]string{"https://shop.example"}, "https://evil.example") || !keyport.AllowsOrigin(nil, "https://any.example") ||
		!keyport.AllowsOrigin([]string{"https://shop.example"}, "https://SHOP.example") {
		t.Error("AllowsOrigin")
	}
}
