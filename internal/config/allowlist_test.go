package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// An allow-list left out allows everything and an empty one nothing: the
// difference must survive decoding and encoding, in both directions.
func TestAllowListAbsentEmptyAndNull(t *testing.T) {
	const keys = minimal + `keys:
  - {name: all, key: k1}
  - {name: none, key: k2, models: []}
  - {name: some, key: k3, models: [a]}
`
	cfg, err := Parse([]byte(keys), nil)
	require.NoError(t, err)
	assert.Nil(t, cfg.Keys[0].Models, "absent")
	require.NotNil(t, cfg.Keys[1].Models, "models: [] must stay an empty, non-nil list")
	assert.Empty(t, cfg.Keys[1].Models)
	assert.Equal(t, AllowList{"a"}, cfg.Keys[2].Models)

	// A copy, a YAML round trip and JSON keep "none" apart from "all".
	red := cfg.Redacted()
	assert.NotNil(t, red.Keys[1].Models)
	assert.Nil(t, red.Keys[0].Models)
	y, err := yaml.Marshal(red)
	require.NoError(t, err)
	// Redacted keys are all alike; give them distinct values to parse back.
	for i := 0; strings.Contains(string(y), "'[redacted]'"); i++ {
		y = []byte(strings.Replace(string(y), "'[redacted]'", fmt.Sprintf("k%d", i), 1))
	}
	back, err := Parse(y, nil)
	require.NoError(t, err, string(y))
	assert.Nil(t, back.Keys[0].Models, string(y))
	assert.NotNil(t, back.Keys[1].Models, string(y))
	j, err := json.Marshal(red.Keys)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"name":"all","key":"[redacted]"},{"name":"none","key":"[redacted]","models":[]},{"name":"some","key":"[redacted]","models":["a"]}]`, string(j))

	// A null is neither: refused with its path.
	for _, null := range []string{"models: null", "models: ~", "models:"} {
		_, err := Parse([]byte(minimal+"keys:\n  - name: k\n    key: k1\n    "+null+"\n"), nil)
		assert.Contains(t, problemLines(err), "keys[0].models: null is ambiguous here: leave the field out to allow all, or write [] to allow none", null)
	}
}
