package testenv

import "syscall"

// childAttr makes the kernel kill an emulator when the test binary dies,
// even by a signal it cannot handle.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
