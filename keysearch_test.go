package keyport

import (
	"errors"
	"strings"
	"testing"
)

func TestParseKeySearchClassifiesTheTerm(t *testing.T) {
	live := mustMint(t, KeySecret, ModeLive)
	pub := mustMint(t, KeyPublishable, ModeTest)
	body := live.Raw[8:]
	tests := []struct {
		name                  string
		term                  string
		kind                  KeySearchKind
		prefix, first4, last4 string
		start                 string
		pinpoints             bool
		shown                 string
	}{
		{name: "blank", term: "  ", kind: SearchAll, shown: ""},
		{name: "whole secret key", term: live.Raw, kind: SearchWholeKey, prefix: "sk_live_", first4: live.First4(), last4: live.Last4(),
			pinpoints: true, shown: Redact("sk_live_", live.First4(), live.Last4())},
		{name: "whole key with spaces around", term: " \t" + pub.Raw + " ", kind: SearchWholeKey, prefix: "pk_test_", first4: pub.First4(),
			last4: pub.Last4(), pinpoints: true, shown: Redact("pk_test_", pub.First4(), pub.Last4())},
		{name: "whole key copied from a list cell", term: "sk_live_ " + body, kind: SearchWholeKey, prefix: "sk_live_", first4: live.First4(),
			last4: live.Last4(), pinpoints: true, shown: Redact("sk_live_", live.First4(), live.Last4())},
		{name: "redacted with an ellipsis", term: "sk_live_Ab12…9xYz", kind: SearchRedacted, prefix: "sk_live_", first4: "Ab12", last4: "9xYz",
			pinpoints: true, shown: "sk_live_Ab12********9xYz"},
		{name: "redacted with three dots", term: "pk_test_Ab12...9xYz", kind: SearchRedacted, prefix: "pk_test_", first4: "Ab12", last4: "9xYz",
			pinpoints: true, shown: "pk_test_Ab12********9xYz"},
		{name: "redacted as lists show it", term: "sk_test_Ab12********9xYz", kind: SearchRedacted, prefix: "sk_test_", first4: "Ab12",
			last4: "9xYz", pinpoints: true, shown: "sk_test_Ab12********9xYz"},
		{name: "redacted from a list cell", term: "sk_test_ Ab12********9xYz", kind: SearchRedacted, prefix: "sk_test_", first4: "Ab12",
			last4: "9xYz", pinpoints: true, shown: "sk_test_Ab12********9xYz"},
		{name: "redacted body without its prefix", term: "Ab12********9xYz", kind: SearchRedacted, first4: "Ab12", last4: "9xYz",
			shown: "Ab12********9xYz"},
		{name: "prefix and first four", term: "sk_live_Ab12", kind: SearchKeyStart, prefix: "sk_live_", first4: "Ab12", pinpoints: true,
			shown: "sk_live_Ab12"},
		{name: "prefix and more of the body", term: "sk_live_" + body[:20], kind: SearchKeyStart, prefix: "sk_live_", first4: live.First4(),
			pinpoints: true, shown: "sk_live_" + live.First4()},
		{name: "key with a bad checksum", term: live.Raw[:43] + string(otherBase62(live.Raw[43])), kind: SearchKeyStart, prefix: "sk_live_",
			first4: live.First4(), pinpoints: true, shown: "sk_live_" + live.First4()},
		{name: "prefix and three characters", term: "sk_live_Ab1", kind: SearchText, start: "sk_live_Ab1", shown: "sk_live_Ab1"},
		{name: "bare prefix", term: "pk_live_", kind: SearchText, start: "pk_live_", shown: "pk_live_"},
		{name: "part of a prefix", term: "sk_", kind: SearchText, start: "sk_", shown: "sk_"},
		{name: "last four", term: "9xYz", kind: SearchText, last4: "9xYz", shown: "9xYz"},
		{name: "last four after an ellipsis", term: "…9xYz", kind: SearchText, last4: "9xYz", shown: "…9xYz"},
		{name: "last four after asterisks", term: "****9xYz", kind: SearchText, last4: "9xYz", shown: "****9xYz"},
		{name: "name text", term: "CI server", kind: SearchText, shown: "CI server"},
		{name: "one letter", term: "s", kind: SearchText, shown: "s"},
		{name: "LIKE wildcards", term: "50%_off", kind: SearchText, shown: "50%_off"},
		{name: "unicode", term: "Zoë 配送", kind: SearchText, shown: "Zoë 配送"},
		{name: "prefix of another kind", term: "rk_live_Ab12", kind: SearchText, shown: "rk_live_Ab12"},
		{name: "redacted with a short end", term: "sk_live_Ab12…9xY", kind: SearchText, shown: "sk_live_Ab12…9xY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseKeySearch(tt.term)
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind != tt.kind || s.Prefix != tt.prefix || s.First4 != tt.first4 || s.Last4 != tt.last4 || s.Start != tt.start {
				t.Fatalf("got kind %d prefix %q first4 %q last4 %q start %q, want %d %q %q %q %q", s.Kind, s.Prefix, s.First4, s.Last4, s.Start,
					tt.kind, tt.prefix, tt.first4, tt.last4, tt.start)
			}
			if s.Term != strings.TrimSpace(tt.term) {
				t.Errorf("term %q", s.Term)
			}
			if got := s.Pinpoints(); got != tt.pinpoints {
				t.Errorf("pinpoints %v, want %v", got, tt.pinpoints)
			}
			if got := s.Shown(); got != tt.shown {
				t.Errorf("shown %q, want %q", got, tt.shown)
			}
			if s.Kind == SearchWholeKey {
				k, _ := ParseKey(strings.Join(strings.Fields(tt.term), ""))
				if s.Hash != k.Hash() {
					t.Error("the hash is not the key's")
				}
			} else if s.Hash != [32]byte{} {
				t.Error("a term that is not a whole key has a hash")
			}
		})
	}
}

func TestParseKeySearchRefusesBadText(t *testing.T) {
	tests := []struct {
		name, term string
	}{
		{"NUL byte", "CI\x00server"},
		{"invalid UTF-8", "CI\xffserver"},
		{"control characters", "CI\x1b[31m"},
		{"line break", "CI\nserver"},
		{"too long", strings.Repeat("é", KeySearchMaxLen+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeySearch(tt.term)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields["q"] == "" {
				t.Fatalf("got %v, want a message for q", err)
			}
		})
	}
	if _, err := ParseKeySearch(strings.Repeat("é", KeySearchMaxLen)); err != nil {
		t.Fatalf("the longest term is refused: %v", err)
	}
}

// otherBase62 is a base62 character other than c.
func otherBase62(c byte) byte {
	return base62Alphabet[(strings.IndexByte(base62Alphabet, c)+1)%len(base62Alphabet)]
}
