//go:build !linux

package devstack

import "syscall"

// childAttr: only Linux offers a parent-death signal; elsewhere Close stops the child.
func childAttr() *syscall.SysProcAttr { return nil }
