package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/provider/vertex"
)

// maxCredentialsFile bounds a credentials file: a key file is a few KiB.
const maxCredentialsFile = 1 << 20

// newVertex builds a vertex provider, reading its credentials file, if
// any. The error names the file's path, never its content.
func newVertex(pc *config.Provider, headers map[string]string, client *http.Client, streamIdle time.Duration) (*vertex.Provider, error) {
	v := pc.Vertex
	if v == nil {
		return nil, errors.New("vertex: provider " + pc.Name + ": no vertex block")
	}
	creds := []byte(v.Credentials.Value())
	if v.CredentialsFile != "" {
		f, err := os.Open(v.CredentialsFile)
		if err != nil {
			return nil, fmt.Errorf("vertex: provider %s: credentials_file: %w", pc.Name, err)
		}
		creds, err = io.ReadAll(io.LimitReader(f, maxCredentialsFile+1))
		_ = f.Close()
		if err != nil || len(creds) > maxCredentialsFile {
			return nil, fmt.Errorf("vertex: provider %s: credentials_file %s: unreadable or larger than 1 MiB", pc.Name, v.CredentialsFile)
		}
	}
	return vertex.New(vertex.Config{
		Name: pc.Name, Project: v.Project, Location: v.Location, Credentials: creds, BaseURL: pc.BaseURL,
		Headers: headers, HTTPClient: client, StreamIdleTimeout: streamIdle,
	})
}
