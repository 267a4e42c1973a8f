// Package static embeds the browser assets: vendored htmx, our CSS and JavaScript.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
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
