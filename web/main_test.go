package web

import (
	"os"
	"testing"
)

// TestMain stops the Chromium process the browser tests share once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	stopSharedBrowser()
	os.Exit(code)
}
