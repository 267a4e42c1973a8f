package web

import "strings"

// isLoadTestRoute reports whether path is one of the routes only a build with
// -tags loadtest has: the tests that walk every route of the shipped app
// leave them out, so that they pass in both builds.
func isLoadTestRoute(path string) bool {
	return strings.HasPrefix(path, "/v1/loadtest/")
}
