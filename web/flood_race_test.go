//go:build race

package web

// forgedKeyFlood is smaller under the race detector, which makes every SQLite
// lookup many times slower; it still fills the unknown-key cache several times.
const forgedKeyFlood = 40_000
