//go:build !linux

package main

import (
	"errors"
	"time"
)

var errNoCPUTimes = errors.New("CPU times are only read on Linux")

// processCPU is not available outside Linux.
func processCPU(int) (time.Duration, error) { return 0, errNoCPUTimes }

// selfCPU is not available outside Linux.
func selfCPU() (time.Duration, error) { return 0, errNoCPUTimes }
