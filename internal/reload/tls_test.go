package reload_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/reload"
)

// A reload whose TLS files cannot be read is refused with the field named,
// and the running configuration keeps serving.
func TestReloadRefusesUnreadableTLSFiles(t *testing.T) {
	e := newEnv(t, t.TempDir())
	missing := filepath.Join(t.TempDir(), "missing.pem")
	text := strings.Replace(cfgText("1"), "providers: [{name: mock, type: mock}]",
		`providers: [{name: mock, type: mock}, {name: internal, type: openai_compatible, base_url: "https://models.internal/v1", tls: {ca_file: "`+missing+`"}}]`, 1)
	e.write(strings.Replace(text, `server: {listen: "127.0.0.1:0"}`,
		`server: {listen: "127.0.0.1:0", tls: {cert_file: "`+missing+`", key_file: "`+missing+`"}}`, 1))
	st, err := e.r.Reload(reload.TriggerSignal)
	if err == nil || st.LastResult == "success" || len(e.applied) != 0 {
		t.Fatalf("reload applied: %+v, %v", st, err)
	}
	for _, want := range []string{"providers[1].tls.ca_file: cannot read", "server.tls.cert_file: cannot read"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if st.Version != 1 {
		t.Errorf("version %d, want the running 1", st.Version)
	}
}
