package tracing

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/observe/tracing/tracingtest"
)

func noEnv(string) (string, bool) { return "", false }

// export starts and ends one span with a tracer of cfg, shuts it down and
// returns Shutdown's error (a failed export is not one: it goes to the
// SDK's error handler).
func export(t *testing.T, cfg config.Tracing) error {
	t.Helper()
	s, err := Resolve(&cfg, noEnv)
	require.NoError(t, err)
	tr, err := New(s, "v1.2.3")
	require.NoError(t, err)
	_, span := tr.Tracer().Start(context.Background(), "test span")
	span.End()
	return tr.Shutdown(context.Background())
}

// An https:// endpoint is trusted through ca_file; without it, the
// receiver's certificate is unknown and nothing is exported.
func TestCAFile(t *testing.T) {
	rcv, ca := tracingtest.NewHTTPS(t)
	require.NoError(t, export(t, config.Tracing{Endpoint: rcv.Endpoint}))
	assert.Empty(t, rcv.Spans(), "a receiver whose certificate is unknown is sent nothing")
	require.NoError(t, export(t, config.Tracing{Endpoint: rcv.Endpoint, CAFile: ca, ServiceName: "gw-tls"}))
	spans := rcv.Spans()
	require.Len(t, spans, 1)
	assert.Equal(t, "test span", spans[0].Name)
	assert.Equal(t, "gw-tls", spans[0].Service)
}

func TestOffIsNil(t *testing.T) {
	tr, err := New(Settings{}, "")
	require.NoError(t, err)
	assert.Nil(t, tr)
	assert.Nil(t, tr.Tracer())
	assert.NoError(t, tr.Shutdown(context.Background()))
}
