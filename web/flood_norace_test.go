//go:build !race

package web

// forgedKeyFlood is how many forged keys TestAPIForgedKeyFloodKeepsVerifiedKeysCached sends.
const forgedKeyFlood = 200_000
