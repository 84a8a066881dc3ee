// Package testbin builds the llmgw binary once for a test package that
// runs the gateway as real processes.
package testbin

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Main builds the gateway into a temporary directory, sets *binary to its
// path, runs the package's tests and exits with their code: a test
// package's TestMain is `func TestMain(m *testing.M) { testbin.Main(m,
// &binary) }`.
func Main(m *testing.M, binary *string) {
	dir, err := os.MkdirTemp("", "llmgw-bin")
	if err != nil {
		panic(err)
	}
	*binary = filepath.Join(dir, "llmgw")
	out, err := exec.Command("go", "build", "-o", *binary, "github.com/llmgw/llmgw/cmd/llmgw").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Log collects a process's output; it is safe for concurrent use.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
