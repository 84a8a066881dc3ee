package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/observe"
)

// server.log_level sets the level of the logger as the gateway builds it,
// for every level; the access log line and the payload line are at INFO,
// logged at debug and info, not at warn or error.
func TestLogLevels(t *testing.T) {
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	for i, name := range []string{"debug", "info", "warn", "error"} {
		t.Run(name, func(t *testing.T) {
			yaml := strings.Replace(baseConfig, "server:\n", "server:\n  log_level: "+name+"\n", 1) +
				"keys: [{name: k, key: acme-static-key-0001, tenant: acme}]\nlogging: {payloads: {tenants: [acme]}}\n"
			snap := compileConfig(t, yaml, map[string]string{"UPSTREAM": "http://upstream.invalid/v1"}, gateway.Options{})
			if got := snap.Config.Server.Level(); got != levels[i] {
				t.Fatalf("level %v", got)
			}
			var out bytes.Buffer
			w := observe.NewLogWriter(&out, 0, 0)
			log := observe.NewLogger(w, snap.Config.Server.Level())
			for j, l := range levels {
				if log.Enabled(t.Context(), l) != (j >= i) {
					t.Errorf("%v enabled: %v", l, j < i)
				}
			}
			srv := New(snap, log)
			req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(fmt.Sprintf(userHello, "mock", "")))
			req.Header.Set("Authorization", "Bearer acme-static-key-0001")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			msgs := map[string]string{}
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if l == "" {
					continue
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("%v: %q", err, l)
				}
				msgs[m["msg"].(string)], _ = m["level"].(string)
			}
			for _, msg := range []string{"request", "payload"} {
				level, logged := msgs[msg]
				if logged != (i <= 1) || (logged && level != "INFO") {
					t.Errorf("%s line logged %v at %q:\n%s", msg, logged, level, out.String())
				}
			}
		})
	}
}
