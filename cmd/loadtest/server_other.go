//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing outside Linux: the server is stopped by the load
// test's own clean-up only.
func dieWithParent(*exec.Cmd) {}
