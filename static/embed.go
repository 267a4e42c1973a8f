// Package static embeds the browser assets: vendored htmx, our CSS and JavaScript.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"path"
	"sync"

	"github.com/andybalholm/brotli"
)

// FS holds the asset files.
//
//go:embed *.js *.css *.svg
var FS embed.FS

// HTMX is the file name of the vendored htmx release.
const HTMX = "htmx-2.0.11.min.js"

var versions = hashAssets()

func hashAssets() map[string]string {
	out := map[string]string{}
	entries, _ := fs.ReadDir(FS, ".")
	for _, e := range entries {
		b, err := fs.ReadFile(FS, e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		out[e.Name()] = hex.EncodeToString(sum[:4])
	}
	return out
}

// Path returns the URL of an asset with its content hash, so browsers may cache it for good.
func Path(name string) string {
	return "/static/" + name + "?v=" + versions[name]
}

// Asset is one file of FS as it is served: its bytes, and the same bytes
// compressed with each content coding that makes them smaller.
type Asset struct {
	ContentType string
	// ETag names Body; each encoding has an ETag of its own, so that caches
	// never answer a request with bytes of another coding.
	ETag string
	Body []byte
	// Encodings lists the compressed forms, brotli before gzip: the order
	// that wins when a client accepts both alike.
	Encodings []Encoding
}

// Encoding is an asset compressed with one content coding.
type Encoding struct {
	// Coding is the Content-Encoding token: "br" or "gzip".
	Coding string
	ETag   string
	Body   []byte
}

// Lookup returns the asset named name, or false when there is none. The
// text assets (CSS, JavaScript, SVG) are compressed once, by Prepare or else
// on the first call.
func Lookup(name string) (Asset, bool) {
	a, ok := assets()[name]
	return a, ok
}

// Prepare compresses the assets now, so that no request waits for it.
func Prepare() { assets() }

var assets = sync.OnceValue(loadAssets)

// textTypes are the file extensions whose assets are compressed.
var textTypes = map[string]bool{".css": true, ".js": true, ".svg": true}

func loadAssets() map[string]Asset {
	out := map[string]Asset{}
	entries, _ := fs.ReadDir(FS, ".")
	for _, e := range entries {
		body, err := fs.ReadFile(FS, e.Name())
		if err != nil {
			continue
		}
		ext := path.Ext(e.Name())
		sum := sha256.Sum256(body)
		tag := hex.EncodeToString(sum[:12])
		a := Asset{ContentType: mime.TypeByExtension(ext), ETag: `"` + tag + `"`, Body: body}
		if a.ContentType == "" {
			a.ContentType = "application/octet-stream"
		}
		if textTypes[ext] {
			a.Encodings = encode(body, tag)
		}
		out[e.Name()] = a
	}
	return out
}

// encode compresses body with each coding, keeping the forms smaller than
// body; tag is the hash its ETags are made of.
func encode(body []byte, tag string) []Encoding {
	var out []Encoding
	for _, c := range codings {
		packed := c.compress(body)
		if len(packed) < len(body) {
			out = append(out, Encoding{Coding: c.name, ETag: `"` + tag + c.suffix + `"`, Body: packed})
		}
	}
	return out
}

// coding is a content coding the assets are compressed with.
type coding struct {
	name, suffix string
	compress     func([]byte) []byte
}

var codings = []coding{
	{name: "br", suffix: "-br", compress: func(b []byte) []byte {
		return pack(b, func(w io.Writer) io.WriteCloser { return brotli.NewWriterLevel(w, brotli.BestCompression) })
	}},
	{name: "gzip", suffix: "-gz", compress: func(b []byte) []byte {
		return pack(b, func(w io.Writer) io.WriteCloser {
			zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
			return zw
		})
	}},
}

// pack compresses b with the writer newWriter makes. Writing to a
// bytes.Buffer does not fail, so neither can the compressors.
func pack(b []byte, newWriter func(io.Writer) io.WriteCloser) []byte {
	var buf bytes.Buffer
	w := newWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}
