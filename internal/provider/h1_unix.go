//go:build unix

package provider

import (
	"net"
	"syscall"
)

// alive reports whether an idle connection is still open: a non-blocking
// peek that finds nothing to read. End of file means the peer closed it;
// data on an idle HTTP/1.1 connection is never an answer to anything.
func alive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, errno := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = errno == syscall.EAGAIN || errno == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && open
}
