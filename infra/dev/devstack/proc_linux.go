package devstack

import "syscall"

// childAttr makes the kernel kill a child process when the stack's process
// dies, even by a signal it cannot handle.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
