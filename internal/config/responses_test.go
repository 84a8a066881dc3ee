package config

import (
	"strings"
	"testing"
	"time"
)

func TestResponsesSection(t *testing.T) {
	env := func(string) (string, bool) { return "", false }
	cfg, err := Parse([]byte("server: {}\n"), env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Responses.Retention.Std() != 720*time.Hour || cfg.Responses.MaxStoredBytes != 4<<20 {
		t.Errorf("defaults = %+v", cfg.Responses)
	}
	cfg, err = Parse([]byte("responses: {retention: \"2h\", max_stored_bytes: 1024}\n"), env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Responses.Retention.Std() != 2*time.Hour || cfg.Responses.MaxStoredBytes != 1024 {
		t.Errorf("set = %+v", cfg.Responses)
	}
	for _, tc := range []struct{ yaml, want string }{
		{`responses: {retention: "10s"}`, "responses.retention: must be at least 1m"},
		{`responses: {retention: "-1h"}`, "responses.retention"},
		{`responses: {max_stored_bytes: 68000000}`, "responses.max_stored_bytes: must be from 1 to 67108864"},
		{`responses: {max_stored_bytes: -1}`, "responses.max_stored_bytes"},
		{`responses: {ttl: "1h"}`, "ttl"},
	} {
		_, err := Parse([]byte(tc.yaml+"\n"), env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
