package keyport

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// KeySearchKind is what a term typed to find keys turned out to be.
type KeySearchKind int

// The kinds of search terms.
const (
	// SearchAll is a blank term: it selects every key.
	SearchAll KeySearchKind = iota
	// SearchWholeKey is a well-formed key, found by its hash.
	SearchWholeKey
	// SearchRedacted is a key's redacted form, such as "sk_live_Ab12…9xYz" or
	// "sk_live_Ab12********9xYz": its first and last four characters, and
	// its prefix unless only the body was copied.
	SearchRedacted
	// SearchKeyStart is a key's prefix and at least the first four characters
	// of its body, such as "sk_live_Ab12".
	SearchKeyStart
	// SearchText is anything else: part of a key's name, the start of a
	// redacted form such as "sk_live_A", or the last four characters of a
	// key such as "9xYz" or "…9xYz".
	SearchText
)

// KeySearchMaxLen is the longest search term accepted, in characters.
const KeySearchMaxLen = 200

// KeySearch is a term typed to find keys, classified by ParseKeySearch.
type KeySearch struct {
	// Term is the term as typed, trimmed.
	Term string
	Kind KeySearchKind
	// Hash is the SHA-256 of a whole key.
	Hash [32]byte
	// Prefix, First4 and Last4 are the parts of a key the term gives: all
	// three for a whole key, First4 and Last4 (and Prefix when typed) for
	// a redacted form, Prefix and First4 for a key start. A text term may
	// set Last4 alone, when it is four characters of a key's end.
	Prefix, First4, Last4 string
	// Start, for a text term that begins a redacted form, is what the prefix
	// and first four characters of a matching key begin with.
	Start string
}

var (
	redactedForm = regexp.MustCompile(`^((?:sk|pk)_(?:test|live)_)?([0-9A-Za-z]{4})(?:…|\.\.\.|\*+)([0-9A-Za-z]{4})$`)
	keyStartForm = regexp.MustCompile(`^((?:sk|pk)_(?:test|live)_)([0-9A-Za-z]{4,36})$`)
	lastFourForm = regexp.MustCompile(`^(?:…|\.\.\.|\*+)?([0-9A-Za-z]{4})$`)
	spacedPrefix = regexp.MustCompile(`^((?:sk|pk)_(?:test|live)_)\s+`)
)

// keyPrefixes are the prefixes of every kind of key.
var keyPrefixes = []string{"sk_test_", "sk_live_", "pk_test_", "pk_live_"}

// ParseKeySearch classifies a term typed to find keys: blank, a whole key, a
// redacted form, a key's prefix with the start of its body, or text. A
// space between a prefix and the body, as a copied list cell holds, is
// dropped. A term that is not one line of valid text, or longer than
// KeySearchMaxLen, is refused with a ValidationError on the field "q".
func ParseKeySearch(term string) (KeySearch, error) {
	term = strings.TrimSpace(term)
	switch {
	case !CleanText(term, false):
		return KeySearch{}, FieldError("q", "The search contains characters that are not allowed.")
	case utf8.RuneCountInString(term) > KeySearchMaxLen:
		return KeySearch{}, FieldError("q", "Search for at most 200 characters.")
	}
	s := KeySearch{Term: term}
	if term == "" {
		return s, nil
	}
	compact := spacedPrefix.ReplaceAllString(term, "$1")
	if k, err := ParseKey(compact); err == nil {
		s.Kind = SearchWholeKey
		s.Hash = k.Hash()
		s.Prefix, s.First4, s.Last4 = k.Prefix(), k.First4(), k.Last4()
		return s, nil
	}
	if m := redactedForm.FindStringSubmatch(compact); m != nil {
		s.Kind = SearchRedacted
		s.Prefix, s.First4, s.Last4 = m[1], m[2], m[3]
		return s, nil
	}
	if m := keyStartForm.FindStringSubmatch(compact); m != nil {
		s.Kind = SearchKeyStart
		s.Prefix, s.First4 = m[1], m[2][:4]
		return s, nil
	}
	s.Kind = SearchText
	if startsRedactedForm(compact) {
		s.Start = compact
	}
	if m := lastFourForm.FindStringSubmatch(term); m != nil {
		s.Last4 = m[1]
	}
	return s, nil
}

// startsRedactedForm reports whether s, two characters or more, is the
// beginning of some key's prefix followed by at most three characters of
// its body.
func startsRedactedForm(s string) bool {
	if len(s) < 2 {
		return false
	}
	for _, p := range keyPrefixes {
		if len(s) <= len(p) {
			if strings.HasPrefix(p, s) {
				return true
			}
			continue
		}
		if rest, ok := strings.CutPrefix(s, p); ok && len(rest) < 4 && isBase62(rest) {
			return true
		}
	}
	return false
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if base62Values[s[i]] == 0xff {
			return false
		}
	}
	return true
}

// Pinpoints reports whether the term names keys closely enough to search
// every merchant's: a whole key, a redacted form with its prefix, or a
// prefix with the first four characters of the body.
func (s KeySearch) Pinpoints() bool {
	switch s.Kind {
	case SearchWholeKey, SearchKeyStart:
		return true
	case SearchRedacted:
		return s.Prefix != ""
	}
	return false
}

// Shown is the term as a page may show it and put in its links: a whole key
// is shown redacted, a redacted form as lists show it, and a key start as
// the prefix and the four characters it is matched by.
func (s KeySearch) Shown() string {
	switch s.Kind {
	case SearchWholeKey, SearchRedacted:
		return Redact(s.Prefix, s.First4, s.Last4)
	case SearchKeyStart:
		return s.Prefix + s.First4
	}
	return s.Term
}

// FitsAnAddress reports whether the search may travel in a page's address:
// every search but a whole key, which must never enter an address bar, a
// browser's history or a log.
func (s KeySearch) FitsAnAddress() bool { return s.Kind != SearchWholeKey }
