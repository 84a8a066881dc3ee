package config

import (
	"errors"
	"strings"
	"testing"
)

// stubResolver answers every reference with "resolved:" and the reference,
// or fails with err.
type stubResolver struct {
	err  error
	refs []string
}

func (s *stubResolver) ResolveSecret(_ *Secrets, ref string) (string, error) {
	s.refs = append(s.refs, ref)
	if s.err != nil {
		return "", s.err
	}
	return "resolved:" + ref, nil
}

func TestSecretReferencesResolved(t *testing.T) {
	doc := `
providers:
  - {name: oa, type: openai, api_key: "file:/run/key", headers: {X-A: "vault:kv/a/b#c", X-B: plain}}
server: {admin_token: "${TOKEN}"}
secrets:
  refresh_interval: 30s
  vault: {address: "http://127.0.0.1:8200", auth: {method: approle, role_id: r, secret_id: "file:/run/sid"}}
`
	r := &stubResolver{}
	env := func(k string) (string, bool) { return map[string]string{"TOKEN": "file:/run/admin"}[k], k == "TOKEN" }
	cfg, err := ParseWith([]byte(doc), env, r)
	if err != nil {
		t.Fatal(err)
	}
	// The secrets section's own first, then the others in field order.
	want := []string{"file:/run/sid", "file:/run/admin", "file:/run/key", "vault:kv/a/b#c"}
	if strings.Join(r.refs, " ") != strings.Join(want, " ") {
		t.Fatalf("resolved %v, want %v", r.refs, want)
	}
	if cfg.Providers[0].APIKey.Value() != "resolved:file:/run/key" || cfg.Providers[0].Headers["X-A"].Value() != "resolved:vault:kv/a/b#c" ||
		cfg.Providers[0].Headers["X-B"].Value() != "plain" || cfg.Server.AdminToken.Value() != "resolved:file:/run/admin" {
		t.Fatalf("values: %+v", cfg.Providers[0])
	}
	if cfg.Secrets.RefreshInterval.Std().String() != "30s" || cfg.Secrets.Vault.Auth.Mount != "approle" {
		t.Fatalf("secrets: %+v", cfg.Secrets)
	}
	red := cfg.Redacted()
	if red.Secrets.Vault.Auth.SecretID.Value() != "[redacted]" || cfg.Secrets.Vault.Auth.SecretID.Value() == "[redacted]" {
		t.Fatal("Redacted does not redact secrets.vault.auth.secret_id, or changes the original")
	}
}

func TestSecretReferenceErrors(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		// Without a resolver a reference is refused, not taken as a value.
		{`providers: [{name: oa, type: openai, api_key: "file:/run/key"}]`,
			"providers[0].api_key: file:/run/key: secret references are resolved only when the gateway loads its configuration"},
		{`providers: [{name: oa, type: openai, api_key: "aws-sm:prod/openai#"}]`,
			`providers[0].api_key: aws-sm:prod/openai#: want "aws-sm:<secret-id>[#<json-key>]": the key after # is empty`},
		{`{secrets: {aws: {endpoint: "localhost:4566"}}}`, "secrets.aws.endpoint: must be an http:// or https:// URL"},
		{`providers: [{name: oa, type: openai, api_key: "azure-kv:my_vault/openai"}]`,
			`providers[0].api_key: azure-kv:my_vault/openai: want "azure-kv:<vault-name-or-https-url>/<secret-name>": a vault name is 3 to 24 letters, digits and hyphens`},
		{`providers: [{name: oa, type: openai, api_key: "azure-kv:openai"}]`,
			`providers[0].api_key: azure-kv:openai: want "azure-kv:<vault-name-or-https-url>/<secret-name>": the secret name is missing`},
		{`providers: [{name: oa, type: openai, api_key: "vault:kv/a#b"}]`,
			"providers[0].api_key: vault:kv/a#b: no Vault is configured (secrets.vault)"},
		{`{secrets: {vault: {address: "http://v", auth: {method: token, token: "vault:kv/a/b#c"}}}}`,
			"secrets.vault.auth.token: only a file: reference is allowed here, not vault:"},
		{`{secrets: {refresh_interval: 10ms}}`, "secrets.refresh_interval: must be at least 1s"},
		{`{secrets: {vault: {auth: {method: token, token: t}}}}`, "secrets.vault.address: required"},
		{`{secrets: {vault: {address: "ftp://v", auth: {method: token, token: t}}}}`, "secrets.vault.address: must be an http:// or https:// URL"},
		{`{secrets: {vault: {address: "http://v", auth: {method: ldap}}}}`, `secrets.vault.auth.method: unknown method "ldap" (want token, approle or kubernetes)`},
		{`{secrets: {vault: {address: "http://v", auth: {method: token}}}}`, `secrets.vault.auth.token: required by method "token"`},
		{`{secrets: {vault: {address: "http://v", auth: {method: approle}}}}`, `secrets.vault.auth.role_id: required by method "approle"`},
		{`{secrets: {vault: {address: "http://v", auth: {method: kubernetes}}}}`, `secrets.vault.auth.role: required by method "kubernetes"`},
		{`{secrets: {vault: {address: "http://v", auth: {method: token, token: t, role: r}}}}`, `secrets.vault.auth: method "token" takes only token`},
		{`{secrets: {vault: {address: "http://v", auth: {method: token, token: t}, bogus: 1}}}`, `secrets.vault.bogus: unknown field`},
	} {
		_, err := ParseWith([]byte(c.doc), nil, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n err = %v\nwant %s", c.doc, err, c.want)
		}
	}
	// A resolver's error is reported at the field; the value is never
	// fetched when the document does not decode.
	r := &stubResolver{err: errors.New("Vault read: permission denied (403)")}
	_, err := ParseWith([]byte(`{providers: [{name: oa, type: openai, api_key: "file:/k"}]}`), nil, r)
	if err == nil || err.Error() != "providers[0].api_key: Vault read: permission denied (403)" {
		t.Fatalf("err = %v", err)
	}
	r = &stubResolver{}
	if _, err := ParseWith([]byte(`{providers: [{name: oa, type: openai, api_key: "file:/k"}], bogus: 1}`), nil, r); err == nil || len(r.refs) != 0 {
		t.Fatalf("fetched %v from a document that does not decode (%v)", r.refs, err)
	}
}

func TestParseAzureRef(t *testing.T) {
	for in, want := range map[string]AzureRef{
		"myvault/openai":                       {VaultURL: "https://myvault.vault.azure.net", Name: "openai"},
		"https://kv.vault.azure.cn/openai-key": {VaultURL: "https://kv.vault.azure.cn", Name: "openai-key"},
	} {
		if got, err := ParseAzureRef(in); err != nil || got != want {
			t.Errorf("%s: %+v %v", in, got, err)
		}
	}
}

func TestParseVaultRef(t *testing.T) {
	got, err := ParseVaultRef("kv/team/llm/openai#api_key")
	if err != nil || got != (VaultRef{Mount: "kv", Path: "team/llm/openai", Key: "api_key"}) {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"kv#k", "kv/a", "kv/a#", "/a#k", "kv/a/../b#k", "kv//a#k"} {
		if _, err := ParseVaultRef(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
