package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel send the server SIGTERM if the load test
// itself dies without stopping it (killed, or a signal it cannot handle).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
