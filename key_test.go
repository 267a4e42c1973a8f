package keyport

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// Keys computed independently of this package (Python zlib.crc32 and base62).
var knownKeys = []struct {
	raw  string
	typ  KeyType
	mode Mode
}{
	{"sk_test_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y16Ly9L", KeySecret, ModeTest},
	{"sk_live_Eeeby3abP3E2Zs8IQ9Y7aJZqhB6bae2hsRrM", KeySecret, ModeLive},
	{"pk_test_CN6Zj4a3dDVhYRnKTbxTNJFoBinF5a1qRGZt", KeyPublishable, ModeTest},
	{"pk_live_JXVuLkSIc47WQAmL9xVQ2zg4mZaouq2XSWo3", KeyPublishable, ModeLive},
	{"sk_test_0000000000000000000000000000002OMZgq", KeySecret, ModeTest},
	{"pk_live_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz3QZuIp", KeyPublishable, ModeLive},
}

var allKinds = []struct {
	typ    KeyType
	mode   Mode
	prefix string
}{
	{KeySecret, ModeTest, "sk_test_"},
	{KeySecret, ModeLive, "sk_live_"},
	{KeyPublishable, ModeTest, "pk_test_"},
	{KeyPublishable, ModeLive, "pk_live_"},
}

func mustMint(t testing.TB, typ KeyType, mode Mode) ParsedKey {
	t.Helper()
	k, err := MintKey(typ, mode)
	if err != nil {
		t.Fatalf("MintKey(%q, %q): %v", typ, mode, err)
	}
	return k
}

// replaceAt returns s with the byte at i replaced by a different base62 character.
func replaceAt(s string, i int) string {
	c := base62Alphabet[(strings.IndexByte(base62Alphabet, s[i])+1)%len(base62Alphabet)]
	return s[:i] + string(c) + s[i+1:]
}

func TestParseKeyValid(t *testing.T) {
	for _, kind := range allKinds {
		k := mustMint(t, kind.typ, kind.mode)
		got, err := ParseKey(k.Raw)
		if err != nil {
			t.Fatalf("ParseKey(%q): %v", k.Raw, err)
		}
		if got != k {
			t.Errorf("ParseKey(%q) = %+v, want %+v", k.Raw, got, k)
		}
	}
	for _, known := range knownKeys {
		got, err := ParseKey(known.raw)
		if err != nil {
			t.Fatalf("ParseKey(%q): %v", known.raw, err)
		}
		want := ParsedKey{Type: known.typ, Mode: known.mode, Raw: known.raw}
		if got != want {
			t.Errorf("ParseKey(%q) = %+v, want %+v", known.raw, got, want)
		}
	}
}

func TestParseKeyMalformed(t *testing.T) {
	good := mustMint(t, KeySecret, ModeTest).Raw
	body := good[keyPrefixLen:]
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"prefix only", "sk_test_"},
		{"unknown type", "xk_test_" + body},
		{"unknown mode", "sk_prod_" + body},
		{"upper case prefix", "SK_TEST_" + body},
		{"missing underscore", "sk_test" + body},
		{"underscore replaced", "sk-test_" + body},
		{"second underscore replaced", "sk_test-" + body},
		{"too short", good[:keyLen-1]},
		{"too long", good + "0"},
		{"body too short", "sk_test_" + body[:keyBodyLen-1]},
		{"hyphen in body", good[:keyPrefixLen+5] + "-" + good[keyPrefixLen+6:]},
		{"underscore in body", good[:keyPrefixLen+5] + "_" + good[keyPrefixLen+6:]},
		{"non-ASCII in body", good[:keyPrefixLen+5] + "é" + good[keyPrefixLen+7:]},
		{"non-ASCII added", good[:keyPrefixLen+5] + "é" + good[keyPrefixLen+6:]},
		{"NUL in checksum", good[:keyLen-1] + "\x00"},
		{"first body char changed", replaceAt(good, keyPrefixLen)},
		{"middle body char changed", replaceAt(good, keyPrefixLen+15)},
		{"last random char changed", replaceAt(good, keyLen-keyChecksumLen-1)},
		{"first checksum char changed", replaceAt(good, keyLen-keyChecksumLen)},
		{"last checksum char changed", replaceAt(good, keyLen-1)},
		{"type swapped", "pk_test_" + body},
		{"mode swapped", "sk_live_" + body},
		{"checksum overflowing uint32", good[:keyLen-keyChecksumLen] + "zzzzzz"},
		{"spaces", strings.Repeat(" ", keyLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if !errors.Is(err, ErrMalformedKey) {
				t.Fatalf("ParseKey(%q) error = %v, want ErrMalformedKey", tt.in, err)
			}
			if got != (ParsedKey{}) {
				t.Errorf("ParseKey(%q) = %+v, want zero ParsedKey", tt.in, got)
			}
		})
	}
}

func TestParseKeyEverySingleChange(t *testing.T) {
	good := mustMint(t, KeyPublishable, ModeLive).Raw
	for i := 0; i < keyLen; i++ {
		for c := 0; c < 256; c++ {
			if byte(c) == good[i] {
				continue
			}
			s := good[:i] + string([]byte{byte(c)}) + good[i+1:]
			if _, err := ParseKey(s); !errors.Is(err, ErrMalformedKey) {
				t.Fatalf("ParseKey(%q) error = %v, want ErrMalformedKey", s, err)
			}
		}
	}
}

func TestMintKey(t *testing.T) {
	seen := map[string]bool{}
	for _, kind := range allKinds {
		for range 250 {
			k := mustMint(t, kind.typ, kind.mode)
			if k.Type != kind.typ || k.Mode != kind.mode {
				t.Fatalf("MintKey(%q, %q) = %+v", kind.typ, kind.mode, k)
			}
			if len(k.Raw) != len(kind.prefix)+36 {
				t.Fatalf("len(%q) = %d, want %d", k.Raw, len(k.Raw), len(kind.prefix)+36)
			}
			if !strings.HasPrefix(k.Raw, kind.prefix) {
				t.Fatalf("%q does not start with %q", k.Raw, kind.prefix)
			}
			if k.Prefix() != kind.prefix {
				t.Fatalf("Prefix() = %q, want %q", k.Prefix(), kind.prefix)
			}
			if seen[k.Raw] {
				t.Fatalf("MintKey returned %q twice", k.Raw)
			}
			seen[k.Raw] = true
		}
	}
}

func TestMintKeyChecksum(t *testing.T) {
	k := mustMint(t, KeySecret, ModeLive)
	var want [keyChecksumLen]byte
	encodeChecksum(want[:], crc32.ChecksumIEEE([]byte(k.Raw[:keyLen-keyChecksumLen])))
	if got := k.Raw[keyLen-keyChecksumLen:]; got != string(want[:]) {
		t.Errorf("checksum of %q = %q, want %q", k.Raw, got, want)
	}
}

func TestMintKeyInvalid(t *testing.T) {
	tests := []struct {
		typ  KeyType
		mode Mode
	}{
		{"", ModeTest},
		{"restricted", ModeLive},
		{KeySecret, ""},
		{KeyPublishable, "prod"},
		{"Secret", "Test"},
	}
	for _, tt := range tests {
		k, err := MintKey(tt.typ, tt.mode)
		if err == nil {
			t.Errorf("MintKey(%q, %q) = %+v, want error", tt.typ, tt.mode, k)
		}
	}
}

func TestKeyEncodeChecksum(t *testing.T) {
	tests := []struct {
		sum  uint32
		want string
	}{
		{0, "000000"},
		{61, "00000z"},
		{62, "000010"},
		{1<<32 - 1, "4gfFC3"},
	}
	for _, tt := range tests {
		var got [keyChecksumLen]byte
		encodeChecksum(got[:], tt.sum)
		if string(got[:]) != tt.want {
			t.Errorf("encodeChecksum(%d) = %q, want %q", tt.sum, got, tt.want)
		}
	}
}

func TestKeyFillBase62Unbiased(t *testing.T) {
	var all []byte
	for range 4 {
		for b := 0; b < 256; b++ {
			all = append(all, byte(b))
		}
	}
	dst := make([]byte, 4*248)
	if err := fillBase62(dst, bytes.NewReader(all)); err != nil {
		t.Fatal(err)
	}
	counts := map[byte]int{}
	for _, c := range dst {
		counts[c]++
	}
	if len(counts) != 62 {
		t.Fatalf("got %d distinct characters, want 62", len(counts))
	}
	for c, n := range counts {
		if n != 16 {
			t.Errorf("character %q appeared %d times, want 16", c, n)
		}
	}
}

func TestKeyFillBase62ReadError(t *testing.T) {
	dst := make([]byte, 30)
	if err := fillBase62(dst, bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("fillBase62 with a short reader succeeded, want error")
	}
}

func TestKeyPrefix(t *testing.T) {
	for _, kind := range allKinds {
		if got := KeyPrefix(kind.typ, kind.mode); got != kind.prefix {
			t.Errorf("KeyPrefix(%q, %q) = %q, want %q", kind.typ, kind.mode, got, kind.prefix)
		}
	}
	if got := KeyPrefix("restricted", ModeTest); got != "" {
		t.Errorf("KeyPrefix(restricted, test) = %q, want empty", got)
	}
	if got := KeyPrefix(KeySecret, "prod"); got != "" {
		t.Errorf("KeyPrefix(secret, prod) = %q, want empty", got)
	}
}

func TestKeyTypeModeValid(t *testing.T) {
	if !KeySecret.Valid() || !KeyPublishable.Valid() || KeyType("").Valid() || KeyType("sk").Valid() {
		t.Error("KeyType.Valid gives wrong answers")
	}
	if !ModeTest.Valid() || !ModeLive.Valid() || Mode("").Valid() || Mode("prod").Valid() {
		t.Error("Mode.Valid gives wrong answers")
	}
}

func TestKeyParts(t *testing.T) {
	k, err := ParseKey(knownKeys[0].raw)
	if err != nil {
		t.Fatal(err)
	}
	if k.String() != knownKeys[0].raw {
		t.Errorf("String() = %q", k.String())
	}
	if k.Prefix() != "sk_test_" {
		t.Errorf("Prefix() = %q", k.Prefix())
	}
	if k.First4() != "Ky9P" {
		t.Errorf("First4() = %q, want Ky9P", k.First4())
	}
	if k.Last4() != "Ly9L" {
		t.Errorf("Last4() = %q, want Ly9L", k.Last4())
	}
	if got, want := Redact(k.Prefix(), k.First4(), k.Last4()), "sk_test_Ky9P********Ly9L"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	var zero ParsedKey
	if zero.First4() != "" || zero.Last4() != "" || zero.Prefix() != "" {
		t.Error("zero ParsedKey has non-empty parts")
	}
}

func TestKeyRedact(t *testing.T) {
	if got, want := Redact("sk_test_", "ij30", "bvrw"), "sk_test_ij30********bvrw"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
}

func TestKeyHash(t *testing.T) {
	k := mustMint(t, KeySecret, ModeLive)
	if got, want := k.Hash(), sha256.Sum256([]byte(k.Raw)); got != want {
		t.Errorf("Hash() = %x, want %x", got, want)
	}
	other := mustMint(t, KeySecret, ModeLive)
	if k.Hash() == other.Hash() {
		t.Error("distinct keys have the same hash")
	}
}

func FuzzParseKey(f *testing.F) {
	for _, kind := range allKinds {
		f.Add(mustMint(f, kind.typ, kind.mode).Raw)
	}
	for _, known := range knownKeys {
		f.Add(known.raw)
	}
	good := knownKeys[0].raw
	f.Add("")
	f.Add("sk_test_")
	f.Add("xk_test_" + good[keyPrefixLen:])
	f.Add("sk_prod_" + good[keyPrefixLen:])
	f.Add(good[:keyLen-1])
	f.Add(good + "0")
	f.Add(replaceAt(good, keyPrefixLen+3))
	f.Add(replaceAt(good, keyLen-1))
	f.Add(good[:keyPrefixLen+5] + "é" + good[keyPrefixLen+7:])
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseKey(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedKey) {
				t.Fatalf("ParseKey(%q) error = %v, want ErrMalformedKey", s, err)
			}
			return
		}
		if p.String() != s {
			t.Fatalf("ParseKey(%q).String() = %q", s, p.String())
		}
		if !p.Type.Valid() || !p.Mode.Valid() {
			t.Fatalf("ParseKey(%q) = %+v with invalid type or mode", s, p)
		}
		if p.Prefix() != s[:keyPrefixLen] {
			t.Fatalf("ParseKey(%q).Prefix() = %q", s, p.Prefix())
		}
		again, err := ParseKey(p.String())
		if err != nil {
			t.Fatalf("ParseKey(%q) failed on re-parse: %v", p.String(), err)
		}
		if again.Type != p.Type || again.Mode != p.Mode {
			t.Fatalf("re-parse of %q = %+v, want %+v", s, again, p)
		}
	})
}

func BenchmarkMintKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MintKey(KeySecret, ModeLive); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseKey(b *testing.B) {
	raw := mustMint(b, KeySecret, ModeLive).Raw
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseKey(raw); err != nil {
			b.Fatal(err)
		}
	}
}
