//go:build !linux

package testenv

import "syscall"

// childAttr: only Linux offers a parent-death signal; elsewhere an emulator
// exits when its stdin pipe from the test binary closes.
func childAttr() *syscall.SysProcAttr { return nil }
