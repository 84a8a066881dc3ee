package secret

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeSecretsManager serves GetSecretValue as the Secrets Manager API
// reference describes it: AWS JSON 1.1, POST / with X-Amz-Target
// "secretsmanager.GetSecretValue" and a body {"SecretId": ...}, signed
// with SigV4; the answer {"ARN", "Name", "VersionId", "SecretString",
// "VersionStages", "CreatedDate"}, or an error status with
// {"__type": "<code>", "Message": ...}.
type fakeSecretsManager struct {
	*httptest.Server
	mu      sync.Mutex
	secrets map[string]string
	denied  map[string]bool
	calls   int
}

func newFakeSecretsManager(t *testing.T) *fakeSecretsManager {
	f := &fakeSecretsManager{secrets: map[string]string{}, denied: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSecretsManager) put(id, v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[id] = v
}

func awsError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "Message": msg})
}

func (f *fakeSecretsManager) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		awsError(w, http.StatusBadRequest, "UnknownOperationException", "")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDFAKE/") ||
		!strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/secretsmanager/aws4_request") {
		awsError(w, http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	var in struct{ SecretId string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.SecretId == "" {
		awsError(w, http.StatusBadRequest, "InvalidParameterException", "SecretId is required")
		return
	}
	if f.denied[in.SecretId] {
		awsError(w, http.StatusBadRequest, "AccessDeniedException", "User is not authorized to perform: secretsmanager:GetSecretValue")
		return
	}
	v, ok := f.secrets[in.SecretId]
	if !ok {
		awsError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + in.SecretId + "-a1b2c3", "Name": in.SecretId,
		"VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1", "SecretString": v,
		"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": 1.523477145713e9,
	})
}

// awsEnv gives the SDK's default chain static credentials and a region,
// and nothing else to read.
func awsEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
}

func TestAWSSecretsManager(t *testing.T) {
	awsEnv(t)
	f := newFakeSecretsManager(t)
	f.put("prod/openai", "sk-aws-plain")
	f.put("prod/json", `{"api_key":"sk-aws-json","n":1}`)
	f.denied["prod/denied"] = true
	sec := "secrets: {aws: {endpoint: \"" + f.URL + "\", timeout: 2s}}\n"
	r, rec := newResolver(t)
	cfg, l, err := parse(t, r, "aws-sm:prod/openai", sec)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Providers[0].APIKey.Value() != "sk-aws-plain" {
		t.Fatalf("api_key %q", cfg.Providers[0].APIKey.Value())
	}
	cfg, _, err = parse(t, r, "aws-sm:prod/json#api_key", sec)
	if err != nil || cfg.Providers[0].APIKey.Value() != "sk-aws-json" {
		t.Fatalf("json key: %v", err)
	}
	r.Use(l)
	f.put("prod/openai", "sk-aws-rotated")
	if !r.Refresh(t.Context()) {
		t.Fatal("rotation in Secrets Manager not seen")
	}
	for _, c := range []struct{ ref, want string }{
		{"aws-sm:prod/missing", "providers[0].api_key: aws-sm:prod/missing: Secrets Manager: not found (ResourceNotFoundException) (400)"},
		{"aws-sm:prod/denied", "providers[0].api_key: aws-sm:prod/denied: Secrets Manager: permission denied (AccessDeniedException) (400)"},
		{"aws-sm:prod/json#nope", `providers[0].api_key: aws-sm:prod/json#nope: Secrets Manager: the secret has no key "nope"`},
		{"aws-sm:prod/openai#k", "providers[0].api_key: aws-sm:prod/openai#k: Secrets Manager: the secret is not a JSON object, so it has no keys"},
		{"aws-sm:prod/json#n", `providers[0].api_key: aws-sm:prod/json#n: Secrets Manager: the key "n" is not a string`},
		{"aws-sm:#k", `providers[0].api_key: aws-sm:#k: want "aws-sm:<secret-id>[#<json-key>]": the secret ID is missing`},
	} {
		if _, _, err := parse(t, r, c.ref, sec); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v\nwant %s", c.ref, err, c.want)
		}
	}
	b, _ := json.Marshal(rec.all())
	if strings.Contains(string(b), "sk-aws") || !strings.Contains(string(b), "aws-sm:prod/openai") {
		t.Fatalf("audit: %s", b)
	}
	// Down: a clear error within the timeout.
	f.Close()
	if _, _, err := parse(t, New(Options{}), "aws-sm:prod/openai", sec); err == nil ||
		!strings.HasPrefix(err.Error(), "providers[0].api_key: aws-sm:prod/openai: Secrets Manager is unreachable") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("down: %v", err)
	}
}
