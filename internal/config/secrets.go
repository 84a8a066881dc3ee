package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Secrets says where secret references are resolved and how often they
// are fetched again (docs/secrets.md). Any Secret field may hold, instead
// of its value, a reference: "file:/path" (the file's content, one
// trailing newline dropped), "vault:<mount>/<path>#<key>" (the key of a
// HashiCorp Vault KV version 2 secret) or "aws-sm:<secret-id>[#<key>]"
// (an AWS Secrets Manager secret, or a member of its JSON object) or
// "azure-kv:<vault-name-or-url>/<secret-name>" (an Azure Key Vault
// secret). "${VAR}" is expanded first, as in
// every value. References are resolved when the configuration is loaded
// and again every refresh_interval; a changed value reloads the
// configuration.
type Secrets struct {
	// RefreshInterval is how often every referenced secret is fetched
	// again; a value that changed reloads the configuration, so a rotated
	// key is used without a restart. At least 1s. Default "1m".
	RefreshInterval Duration `yaml:"refresh_interval,omitempty" json:"refresh_interval,omitempty"`
	// Vault is the HashiCorp Vault that "vault:" references are read
	// from. Required when any field holds one.
	Vault *Vault `yaml:"vault,omitempty" json:"vault,omitempty"`
	// AWS tunes the client of "aws-sm:" references (AWS Secrets Manager).
	// Without it, the SDK's default credential chain and region are used
	// (AWS_REGION, AWS_ACCESS_KEY_ID, a profile, web identity, the
	// instance role...).
	AWS *AWSSecrets `yaml:"aws,omitempty" json:"aws,omitempty"`
}

// AWSSecrets tunes the AWS Secrets Manager client.
type AWSSecrets struct {
	// Region of the secrets; default the SDK's (AWS_REGION, the profile).
	// A secret named by ARN is read in the ARN's region's endpoint only
	// when that is this region.
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// Endpoint replaces the Secrets Manager endpoint (a VPC endpoint, a
	// local emulator): an http:// or https:// URL. Default the region's.
	Endpoint string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	// Timeout bounds each fetch, retries included. Default "10s".
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Vault is a HashiCorp Vault server and how the gateway logs in to it.
type Vault struct {
	// Address is the server's base URL, "https://vault.example:8200".
	// Required.
	Address string `yaml:"address" json:"address"`
	// Namespace is the Vault Enterprise namespace requests are made in
	// (the X-Vault-Namespace header); empty for none.
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// Timeout bounds each request to Vault. Default "10s".
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Auth is how the gateway gets its Vault token.
	Auth VaultAuth `yaml:"auth" json:"auth"`
}

// The Vault auth methods of secrets.vault.auth.method.
const (
	VaultAuthToken      = "token"
	VaultAuthAppRole    = "approle"
	VaultAuthKubernetes = "kubernetes"
)

// DefaultVaultJWTFile is where a Kubernetes pod finds its service account
// token.
const DefaultVaultJWTFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// VaultAuth is the way the gateway logs in to Vault. Its own secrets
// (token, secret_id) may be "${VAR}" or "file:" references, never
// "vault:" ones.
type VaultAuth struct {
	// Method is "token" (a token given here), "approle" (role_id and
	// secret_id, POST auth/<mount>/login) or "kubernetes" (the pod's
	// service account JWT read from jwt_file and a Vault role, POST
	// auth/<mount>/login). Required.
	Method string `yaml:"method" json:"method"`
	// Mount is the path the auth method is enabled at. Default the
	// method's name ("approle", "kubernetes"); unused by "token".
	Mount string `yaml:"mount,omitempty" json:"mount,omitempty"`
	// Token is the Vault token of method "token". Required for it.
	Token Secret `yaml:"token,omitempty" json:"token,omitempty"`
	// RoleID is the AppRole role ID of method "approle". Required for it.
	RoleID string `yaml:"role_id,omitempty" json:"role_id,omitempty"`
	// SecretID is the AppRole secret ID of method "approle", sent with
	// role_id at each login; required when the role binds one
	// (bind_secret_id), left out of the login otherwise.
	SecretID Secret `yaml:"secret_id,omitempty" json:"secret_id,omitempty"`
	// Role is the Vault role of method "kubernetes". Required for it.
	Role string `yaml:"role,omitempty" json:"role,omitempty"`
	// JWTFile is the file the service account JWT of method "kubernetes"
	// is read from, at every login. Default
	// /var/run/secrets/kubernetes.io/serviceaccount/token.
	JWTFile string `yaml:"jwt_file,omitempty" json:"jwt_file,omitempty"`
}

// Defaults of the secrets section.
const (
	DefaultSecretsRefresh = time.Minute
	DefaultVaultTimeout   = 10 * time.Second
	DefaultAWSTimeout     = 10 * time.Second
	minSecretsRefresh     = time.Second
)

// Secret reference schemes.
const (
	RefFile    = "file"
	RefVault   = "vault"
	RefAWSSM   = "aws-sm"
	RefAzureKV = "azure-kv"
)

// RefScheme returns the reference scheme of a Secret's text ("file",
// "vault", "aws-sm", "azure-kv") and the rest after the colon, or "" when
// the text is a plain value.
func RefScheme(s string) (scheme, rest string) {
	for _, sch := range []string{RefFile, RefVault, RefAWSSM, RefAzureKV} {
		if r, ok := strings.CutPrefix(s, sch+":"); ok {
			return sch, r
		}
	}
	return "", s
}

// AWSRef is a parsed "aws-sm:<secret-id>[#<json-key>]" reference.
type AWSRef struct{ SecretID, Key string }

// ParseAWSRef parses the part of an aws-sm reference after "aws-sm:".
// The secret ID is a name or an ARN; with a key, the secret's string is a
// JSON object whose string member key is the value.
func ParseAWSRef(rest string) (AWSRef, error) {
	id, key, hasKey := strings.Cut(rest, "#")
	if id == "" {
		return AWSRef{}, errors.New(`want "aws-sm:<secret-id>[#<json-key>]": the secret ID is missing`)
	}
	if hasKey && key == "" {
		return AWSRef{}, errors.New(`want "aws-sm:<secret-id>[#<json-key>]": the key after # is empty`)
	}
	if len(id) > 2048 {
		return AWSRef{}, errors.New("the secret ID is longer than 2048 characters")
	}
	return AWSRef{SecretID: id, Key: key}, nil
}

// AzureRef is a parsed "azure-kv:<vault-name-or-url>/<secret-name>"
// reference: VaultURL is "https://<name>.vault.azure.net" for a bare name.
type AzureRef struct{ VaultURL, Name string }

// ParseAzureRef parses the part of an azure-kv reference after
// "azure-kv:".
func ParseAzureRef(rest string) (AzureRef, error) {
	const want = `want "azure-kv:<vault-name-or-https-url>/<secret-name>"`
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return AzureRef{}, errors.New(want + ": the secret name is missing")
	}
	vault, name := rest[:i], rest[i+1:]
	if !azureName(name, 1, 127) {
		return AzureRef{}, errors.New(want + ": a secret name is 1 to 127 letters, digits and hyphens")
	}
	if strings.Contains(vault, "://") {
		u, err := url.Parse(vault)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return AzureRef{}, errors.New(want + ": the vault URL must be https://host[/path]")
		}
		return AzureRef{VaultURL: strings.TrimSuffix(vault, "/"), Name: name}, nil
	}
	if !azureName(vault, 3, 24) {
		return AzureRef{}, errors.New(want + ": a vault name is 3 to 24 letters, digits and hyphens")
	}
	return AzureRef{VaultURL: "https://" + vault + ".vault.azure.net", Name: name}, nil
}

// azureName reports whether s is min to max letters, digits and hyphens.
func azureName(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// VaultRef is a parsed "vault:<mount>/<path>#<key>" reference.
type VaultRef struct{ Mount, Path, Key string }

// ParseVaultRef parses the part of a vault reference after "vault:".
func ParseVaultRef(rest string) (VaultRef, error) {
	loc, key, ok := strings.Cut(rest, "#")
	if !ok || key == "" {
		return VaultRef{}, fmt.Errorf(`want "vault:<mount>/<path>#<key>": the key is missing`)
	}
	mount, path, ok := strings.Cut(strings.Trim(loc, "/"), "/")
	if !ok || mount == "" || path == "" {
		return VaultRef{}, fmt.Errorf(`want "vault:<mount>/<path>#<key>": the mount or the path is missing`)
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return VaultRef{}, fmt.Errorf("the path has an empty, . or .. segment")
		}
	}
	return VaultRef{Mount: mount, Path: path, Key: key}, nil
}

// SecretResolver fetches the value a secret reference names. ref is the
// whole reference ("vault:kv/llm#openai"); s is the secrets section of
// the configuration being loaded. Errors must not hold the value.
type SecretResolver interface {
	ResolveSecret(s *Secrets, ref string) (string, error)
}

// SecretField is a Secret field of a configuration: its path
// ("providers[0].api_key") and where it is.
type SecretField struct {
	Path string
	// Ptr is the field, or nil for a value of a map (read it with Get,
	// write it with Set).
	get func() Secret
	set func(Secret)
}

// Get returns the field's current text.
func (f SecretField) Get() Secret { return f.get() }

// Set replaces the field's text.
func (f SecretField) Set(s Secret) { f.set(s) }

var secretType = reflect.TypeFor[Secret]()

// SecretFields lists every Secret field of c, in a stable order, with its
// path as validation names it.
func (c *Config) SecretFields() []SecretField {
	var out []SecretField
	walkSecrets(reflect.ValueOf(c).Elem(), "", &out)
	return out
}

func walkSecrets(v reflect.Value, path string, out *[]SecretField) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkSecrets(v.Elem(), path, out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			walkSecrets(v.Field(i), fieldPath(path, name), out)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkSecrets(v.Index(i), indexPath(path, i), out)
		}
	case reflect.Map:
		if v.Type().Elem() != secretType || v.Type().Key().Kind() != reflect.String {
			return
		}
		keys := v.MapKeys()
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = k.String()
		}
		slices.Sort(names)
		for _, k := range names {
			key := reflect.ValueOf(k).Convert(v.Type().Key())
			m := v
			*out = append(*out, SecretField{Path: fieldPath(path, k),
				get: func() Secret { return m.MapIndex(key).Interface().(Secret) },
				set: func(s Secret) { m.SetMapIndex(key, reflect.ValueOf(s)) }})
		}
	case reflect.String:
		if v.Type() == secretType && v.CanSet() {
			fv := v
			*out = append(*out, SecretField{Path: path,
				get: func() Secret { return Secret(fv.String()) },
				set: func(s Secret) { fv.SetString(string(s)) }})
		}
	}
}

// resolveSecrets replaces every reference in a Secret field of c by the
// value r fetches, recording each failure at the field's path. With r
// nil a reference is an error. The secrets section's own secrets may be
// file references only.
func (c *Config) resolveSecrets(r SecretResolver, p *problems) {
	var check problems
	c.Secrets.validate(&check)
	if len(check) > 0 {
		return // reported by validate
	}
	c.Secrets.applyDefaults()
	fields := c.SecretFields()
	// The secrets section's own secrets first: they log in to Vault.
	slices.SortStableFunc(fields, func(a, b SecretField) int {
		as, bs := strings.HasPrefix(a.Path, "secrets."), strings.HasPrefix(b.Path, "secrets.")
		switch {
		case as && !bs:
			return -1
		case bs && !as:
			return 1
		}
		return 0
	})
	for _, f := range fields {
		text := string(f.Get())
		scheme, _ := RefScheme(text)
		if scheme == "" {
			continue
		}
		if strings.HasPrefix(f.Path, "secrets.") && scheme != RefFile {
			p.add(f.Path, "only a file: reference is allowed here, not %s:", scheme)
			continue
		}
		if msg := checkRef(c, scheme, text); msg != "" {
			p.add(f.Path, "%s", msg)
			continue
		}
		if r == nil {
			p.add(f.Path, "%s: secret references are resolved only when the gateway loads its configuration", refName(text))
			continue
		}
		v, err := r.ResolveSecret(&c.Secrets, text)
		if err != nil {
			p.add(f.Path, "%v", err)
			continue
		}
		f.Set(Secret(v))
		for i := range c.Providers {
			if rel, ok := strings.CutPrefix(f.Path, indexPath("providers", i)+"."); ok {
				pr := &c.Providers[i]
				if pr.SecretRefs == nil {
					pr.SecretRefs = map[string]string{}
				}
				pr.SecretRefs[rel] = text
			}
		}
	}
}

// SecretRef returns the reference the provider's secret field held
// ("api_key", "headers.X-Key", "entra.client_secret", as the field's path
// within the provider), or "" when it held its value.
func (p *Provider) SecretRef(field string) string { return p.SecretRefs[field] }

// checkRef returns why the reference text cannot be resolved, or "".
func checkRef(c *Config, scheme, text string) string {
	_, rest := RefScheme(text)
	switch scheme {
	case RefFile:
		if !strings.HasPrefix(rest, "/") {
			return fmt.Sprintf("%s: a file reference needs an absolute path", refName(text))
		}
	case RefVault:
		if _, err := ParseVaultRef(rest); err != nil {
			return fmt.Sprintf("%s: %v", refName(text), err)
		}
		if c.Secrets.Vault == nil {
			return fmt.Sprintf("%s: no Vault is configured (secrets.vault)", refName(text))
		}
	case RefAWSSM:
		if _, err := ParseAWSRef(rest); err != nil {
			return fmt.Sprintf("%s: %v", refName(text), err)
		}
	case RefAzureKV:
		if _, err := ParseAzureRef(rest); err != nil {
			return fmt.Sprintf("%s: %v", refName(text), err)
		}
	}
	return ""
}

// refName returns a reference for an error message: the reference
// itself, which names the secret but holds no value, shortened if long.
func refName(ref string) string {
	const max = 120
	if len(ref) > max {
		return ref[:max] + "..."
	}
	return ref
}

// RefName is refName for the resolvers.
func RefName(ref string) string { return refName(ref) }

// validate checks the secrets section.
func (s *Secrets) validate(p *problems) {
	if s.RefreshInterval != 0 && s.RefreshInterval.Std() < minSecretsRefresh {
		p.add("secrets.refresh_interval", "must be at least %s", minSecretsRefresh)
	}
	if a := s.AWS; a != nil {
		if a.Endpoint != "" {
			if u, err := url.Parse(a.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.add("secrets.aws.endpoint", "must be an http:// or https:// URL")
			}
		}
		if a.Timeout < 0 {
			p.add("secrets.aws.timeout", "must not be negative")
		}
	}
	v := s.Vault
	if v == nil {
		return
	}
	if v.Address == "" {
		p.add("secrets.vault.address", "required")
	} else if u, err := url.Parse(v.Address); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add("secrets.vault.address", "must be an http:// or https:// URL")
	}
	if v.Timeout < 0 {
		p.add("secrets.vault.timeout", "must not be negative")
	}
	a := &v.Auth
	switch a.Method {
	case VaultAuthToken:
		if a.Token == "" {
			p.add("secrets.vault.auth.token", "required by method %q", a.Method)
		}
		if a.RoleID != "" || a.SecretID != "" || a.Role != "" || a.JWTFile != "" || a.Mount != "" {
			p.add("secrets.vault.auth", "method %q takes only token", a.Method)
		}
	case VaultAuthAppRole:
		if a.RoleID == "" {
			p.add("secrets.vault.auth.role_id", "required by method %q", a.Method)
		}
		if a.Token != "" || a.Role != "" || a.JWTFile != "" {
			p.add("secrets.vault.auth", "method %q takes role_id, secret_id and mount only", a.Method)
		}
	case VaultAuthKubernetes:
		if a.Role == "" {
			p.add("secrets.vault.auth.role", "required by method %q", a.Method)
		}
		if a.Token != "" || a.RoleID != "" || a.SecretID != "" {
			p.add("secrets.vault.auth", "method %q takes role, jwt_file and mount only", a.Method)
		}
	case "":
		p.add("secrets.vault.auth.method", "required (token, approle or kubernetes)")
	default:
		p.add("secrets.vault.auth.method", "unknown method %q (want token, approle or kubernetes)", a.Method)
	}
}

// applyDefaults fills the secrets section's defaults.
func (s *Secrets) applyDefaults() {
	if s.RefreshInterval == 0 {
		s.RefreshInterval = Duration(DefaultSecretsRefresh)
	}
	if a := s.AWS; a != nil && a.Timeout == 0 {
		a.Timeout = Duration(DefaultAWSTimeout)
	}
	if v := s.Vault; v != nil {
		if v.Timeout == 0 {
			v.Timeout = Duration(DefaultVaultTimeout)
		}
		switch v.Auth.Method {
		case VaultAuthAppRole, VaultAuthKubernetes:
			if v.Auth.Mount == "" {
				v.Auth.Mount = v.Auth.Method
			}
		}
		if v.Auth.Method == VaultAuthKubernetes && v.Auth.JWTFile == "" {
			v.Auth.JWTFile = DefaultVaultJWTFile
		}
	}
}
