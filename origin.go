package keyport

import (
	"errors"
	"net/url"
	"slices"
	"strings"
)

// MaxAllowedOrigins is the most origins a publishable key may list.
const MaxAllowedOrigins = 20

// ParseOrigins reads a list of web origins (scheme, host and port, such as
// https://shop.example.com) separated by spaces, commas or line breaks, and
// returns them in lower case without duplicates.
func ParseOrigins(text string) ([]string, error) {
	var out []string
	for _, item := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		origin, err := parseOrigin(item)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, origin) {
			out = append(out, origin)
		}
	}
	if len(out) > MaxAllowedOrigins {
		return nil, errors.New("List at most 20 origins.")
	}
	return out, nil
}

func parseOrigin(item string) (string, error) {
	bad := errors.New("Each origin is a scheme and host with an optional port, such as https://shop.example.com, without a path: " + quoteShort(item) + " is not.")
	u, err := url.Parse(item)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !asciiOnly(u.Host) || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", bad
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// asciiOnly reports whether s is ASCII: browsers send international host
// names in their ASCII (punycode) form, which is what an allowed origin must match.
func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// quoteShort quotes at most 60 characters of s for a message.
func quoteShort(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return `"` + s + `"`
}

// AllowsOrigin reports whether a browser page at origin may use a key that
// lists allowed: any origin when the list is empty.
func AllowsOrigin(allowed []string, origin string) bool {
	return len(allowed) == 0 || slices.Contains(allowed, strings.ToLower(origin))
}
