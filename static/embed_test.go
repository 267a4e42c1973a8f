package static

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

func TestEncodeKeepsOnlySmallerForms(t *testing.T) {
	text := []byte(strings.Repeat("body { color: #222; }\n", 50))
	got := encode(text, "abc")
	if len(got) != 2 || got[0].Coding != "br" || got[1].Coding != "gzip" {
		t.Fatalf("codings %v, want br then gzip", got)
	}
	if got[0].ETag != `"abc-br"` || got[1].ETag != `"abc-gz"` {
		t.Fatalf("ETags %s %s", got[0].ETag, got[1].ETag)
	}
	noise := make([]byte, 256)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	if got := encode(noise, "abc"); len(got) != 0 {
		t.Fatalf("random bytes kept %d compressed forms larger than themselves", len(got))
	}
}

func TestEveryTextAssetIsCompressed(t *testing.T) {
	for _, name := range []string{"app.css", "app.js", HTMX, "favicon.svg"} {
		a, ok := Lookup(name)
		if !ok {
			t.Fatalf("no asset %s", name)
		}
		if len(a.Encodings) != 2 {
			t.Fatalf("%s has %d encodings", name, len(a.Encodings))
		}
		for _, e := range a.Encodings {
			if len(e.Body) >= len(a.Body) || bytes.Equal(e.Body, a.Body) {
				t.Fatalf("%s %s: %d bytes for %d", name, e.Coding, len(e.Body), len(a.Body))
			}
			t.Logf("%s: %d bytes, %s %d", name, len(a.Body), e.Coding, len(e.Body))
		}
	}
	if _, ok := Lookup("embed.go"); ok {
		t.Fatal("the package's source is an asset")
	}
}
