package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// A server certificate that cannot be read stops validate and serve with
// the field named.
func TestTLSUnreadableCertificateAtStart(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	cfg := writeFile(t, `
server:
  tls: {cert_file: "`+missing+`", key_file: "`+missing+`"}
providers: [{name: mock, type: mock}]
models: [{name: m, targets: [{provider: mock, model: mock}]}]
`)
	for _, cmd := range []string{"validate", "serve"} {
		var stderr bytes.Buffer
		code := run([]string{cmd, "--config", cfg}, io.Discard, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), "server.tls.cert_file: cannot read: no such file or directory") {
			t.Errorf("%s: exit %d, %s", cmd, code, stderr.String())
		}
	}
}
