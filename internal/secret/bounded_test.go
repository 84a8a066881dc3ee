package secret

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// endless answers every request 200 with a JSON body that never ends,
// as a broken or hostile secret service might; declared says whether it
// announces a Content-Length past the bound first.
func endless(declared bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if declared {
			w.Header().Set("Content-Length", strconv.Itoa(64<<20))
		}
		chunk := bytes.Repeat([]byte("a"), 32<<10)
		_, _ = io.WriteString(w, `{"data":{"data":{"api_key":"`)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if r.Context().Err() != nil {
				return
			}
		}
	}
}

// A secret service that answers without end, or announces a reply past
// the bound, fails the fetch with the bound named: the gateway reads at
// most maxReplyBytes of it.
func TestSecretServiceRepliesBounded(t *testing.T) {
	awsEnv(t)
	for _, declared := range []bool{false, true} {
		name := "streamed"
		if declared {
			name = "declared"
		}
		t.Run("vault/"+name, func(t *testing.T) {
			f := newFakeVault(t)
			f.Config.Handler = endless(declared)
			r, _ := newResolver(t)
			_, _, err := parse(t, r, "vault:kv/llm/openai#api_key", vaultSection(f.URL, "{method: token, token: hvs.static}"))
			wantTooLarge(t, err)
		})
		t.Run("aws-sm/"+name, func(t *testing.T) {
			f := newFakeSecretsManager(t)
			f.Config.Handler = endless(declared)
			r, _ := newResolver(t)
			_, _, err := parse(t, r, "aws-sm:prod/openai", "secrets: {aws: {endpoint: \""+f.URL+"\", timeout: 20s}}\n")
			wantTooLarge(t, err)
		})
		t.Run("azure-kv/"+name, func(t *testing.T) {
			f := newFakeKeyVault(t)
			f.Config.Handler = endless(declared)
			r := New(Options{HTTPClient: f.client(), AzureCredential: &fakeCredential{}, Retries: -1})
			_, _, err := parse(t, r, "azure-kv:myvault/openai", "")
			wantTooLarge(t, err)
		})
	}
}

func wantTooLarge(t *testing.T, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "larger than 2097152 bytes") {
		t.Fatalf("got %v, want the reply refused as too large", err)
	}
}

// A reply of exactly the bound is read whole; one byte more is not.
func TestBoundedBodyEdge(t *testing.T) {
	for _, c := range []struct {
		n    int
		fail bool
	}{{10, false}, {11, true}} {
		b := &boundedBody{rc: io.NopCloser(bytes.NewReader(make([]byte, c.n))), left: 10}
		got, err := io.ReadAll(b)
		if c.fail != (err == errReplyTooLarge) || (!c.fail && len(got) != c.n) {
			t.Errorf("%d bytes: read %d, %v", c.n, len(got), err)
		}
	}
}
