package secret

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/llmgw/llmgw/internal/config"
)

// vaultConn is a Vault client and the token it holds.
type vaultConn struct {
	key    string // what it was made from; a changed section makes a new one
	client *vault.Client
	auth   config.VaultAuth
	now    func() time.Time

	mu      sync.Mutex
	token   string
	renewAt time.Time // zero: never (method token, or no lease)
}

// vaultFor returns the client for the section s, made again when it
// changed.
func (r *Resolver) vaultFor(s *config.Secrets) (*vaultConn, error) {
	v := s.Vault
	key := fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s", v.Address, v.Namespace, v.Timeout,
		v.Auth.Method, v.Auth.Mount, v.Auth.Token.Value(), v.Auth.RoleID, v.Auth.SecretID.Value(), v.Auth.Role+"\x00"+v.Auth.JWTFile)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.vault != nil && r.vault.key == key {
		return r.vault, nil
	}
	cfg := vault.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("Vault client: %v", cfg.Error)
	}
	cfg.Address = v.Address
	timeout := v.Timeout.Std()
	if timeout <= 0 {
		timeout = config.DefaultVaultTimeout
	}
	cfg.Timeout = timeout
	if r.o.HTTPClient != nil {
		cfg.HttpClient = boundedClient(r.o.HTTPClient)
	} else {
		cfg.HttpClient = boundedClient(&http.Client{Timeout: timeout})
	}
	cfg.MaxRetries = max(r.o.Retries, 0)
	c, err := vault.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("Vault client: %v", err)
	}
	c.ClearToken() // not VAULT_TOKEN: the configured method only
	if v.Namespace != "" {
		c.SetNamespace(v.Namespace)
	}
	conn := &vaultConn{key: key, client: c, auth: v.Auth, now: r.o.Now}
	if v.Auth.Method == config.VaultAuthToken {
		conn.token = v.Auth.Token.Value()
	}
	r.vault = conn
	return conn, nil
}

// read returns the key of a KV v2 secret.
func (c *vaultConn) read(ctx context.Context, ref config.VaultRef) (string, error) {
	for attempt := 0; ; attempt++ {
		client, fresh, err := c.authed(ctx, attempt > 0)
		if err != nil {
			return "", err
		}
		s, err := client.KVv2(ref.Mount).Get(ctx, ref.Path)
		if err != nil {
			var re *vault.ResponseError
			if errors.As(err, &re) && re.StatusCode == http.StatusForbidden && !fresh && c.auth.Method != config.VaultAuthToken {
				continue // a revoked or expired token: log in again, once
			}
			return "", vaultErr("read", err)
		}
		if s == nil || s.Data == nil {
			return "", errors.New("Vault: the secret has no data (deleted or destroyed)")
		}
		raw, ok := s.Data[ref.Key]
		if !ok {
			return "", fmt.Errorf("Vault: the secret has no key %q", ref.Key)
		}
		v, ok := raw.(string)
		if !ok {
			return "", fmt.Errorf("Vault: the key %q is not a string", ref.Key)
		}
		if v == "" {
			return "", fmt.Errorf("Vault: the key %q is empty", ref.Key)
		}
		return v, nil
	}
}

// authed returns the client with a valid token, logging in when there is
// none, its lease is mostly over, or force is set. fresh reports a login
// made now.
func (c *vaultConn) authed(ctx context.Context, force bool) (*vault.Client, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.auth.Method == config.VaultAuthToken {
		c.client.SetToken(c.token)
		return c.client, false, nil
	}
	if !force && c.token != "" && (c.renewAt.IsZero() || c.now().Before(c.renewAt)) {
		c.client.SetToken(c.token)
		return c.client, false, nil
	}
	var body map[string]any
	switch c.auth.Method {
	case config.VaultAuthAppRole:
		body = map[string]any{"role_id": c.auth.RoleID}
		if c.auth.SecretID != "" {
			body["secret_id"] = c.auth.SecretID.Value()
		}
	case config.VaultAuthKubernetes:
		b, err := os.ReadFile(c.auth.JWTFile)
		if err != nil {
			return nil, false, fmt.Errorf("Vault kubernetes login: cannot read the service account token: %v", fileErr(err))
		}
		body = map[string]any{"role": c.auth.Role, "jwt": strings.TrimSpace(string(b))}
	default:
		return nil, false, fmt.Errorf("Vault: unknown auth method %q", c.auth.Method)
	}
	c.client.ClearToken()
	s, err := c.client.Logical().WriteWithContext(ctx, "auth/"+strings.Trim(c.auth.Mount, "/")+"/login", body)
	if err != nil {
		return nil, false, vaultErr(c.auth.Method+" login", err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, false, fmt.Errorf("Vault %s login: the answer holds no token", c.auth.Method)
	}
	c.token = s.Auth.ClientToken
	c.renewAt = time.Time{}
	if d := s.Auth.LeaseDuration; d > 0 {
		c.renewAt = c.now().Add(time.Duration(d) * time.Second * 4 / 5)
	}
	c.client.SetToken(c.token)
	return c.client, true, nil
}

// vaultErr says what went wrong talking to Vault: its status and the
// first of its error messages, or that it could not be reached.
func vaultErr(what string, err error) error {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		msg := ""
		switch re.StatusCode {
		case http.StatusForbidden:
			msg = "permission denied"
		case http.StatusNotFound:
			msg = "not found"
		case http.StatusBadRequest:
			msg = "bad request"
		default:
			msg = http.StatusText(re.StatusCode)
		}
		if len(re.Errors) > 0 && !re.RawError && re.Errors[0] != "" && re.Errors[0] != msg {
			e := re.Errors[0]
			if len(e) > 200 {
				e = e[:200] + "..."
			}
			msg += ": " + e
		}
		return fmt.Errorf("Vault %s: %s (%d)", what, msg, re.StatusCode)
	}
	if errors.Is(err, vault.ErrSecretNotFound) {
		return fmt.Errorf("Vault %s: not found (404)", what)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("Vault %s: Vault is unreachable: no answer within secrets.vault.timeout", what)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("Vault %s: %v", what, context.Canceled)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is the configured address, said elsewhere
	}
	return fmt.Errorf("Vault %s: Vault is unreachable: %v", what, err)
}
