// Package redistest runs a Redis server of a test's own, on a free port,
// for tests that must stop and restart it.
package redistest

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Server is a redis-server process the test controls.
type Server struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

// Start starts a server, stopped when the test ends. Like every test of
// Redis it needs LLMGW_TEST_REDIS_URL in CI (CI must provide Redis) and is
// skipped without it elsewhere.
func Start(t *testing.T) *Server {
	t.Helper()
	if os.Getenv("LLMGW_TEST_REDIS_URL") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LLMGW_TEST_REDIS_URL is not set; CI must provide Redis")
		}
		t.Skip("LLMGW_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: .ci/run installs it")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Running reports whether the server was started and not stopped since.
func (s *Server) Running() bool { return s.cmd != nil }

// Restart starts the server again on its port, empty, and waits until it
// accepts connections.
func (s *Server) Restart() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.t.TempDir())
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for range 100 {
		if c, err := net.Dial("tcp", s.Addr()); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatal("redis-server did not start")
}

// Stop kills the server.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}
