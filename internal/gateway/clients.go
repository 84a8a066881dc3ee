package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	"github.com/llmgw/llmgw/internal/provider"
)

// Clients keeps the upstream HTTP clients, and with them their pools of
// connections, across snapshots: a provider whose connection settings a
// new configuration does not change keeps its client and its warm
// connections. It is process state, created once (NewClients) and handed
// to every snapshot (Options.Clients).
//
// A client is kept under its provider's name, address and connection
// settings (connect_timeout, response_header_timeout,
// max_idle_conns_per_host, tls and the contents of its files). When a snapshot is activated, the clients it
// does not use are retired: their idle connections are closed at once,
// and again once retireAfter has passed, by when the requests of the
// snapshots that still used them have ended (requests are bounded by
// server.request_timeout); no goroutine waits meanwhile.
type Clients struct {
	mu      sync.Mutex
	clients map[string]*http.Client
	// retireAfter is how long after its retirement a client's idle
	// connections are closed a second time.
	retireAfter time.Duration
}

// NewClients returns an empty set of clients whose retired clients close
// their idle connections again after retireAfter.
func NewClients(retireAfter time.Duration) *Clients {
	return &Clients{clients: make(map[string]*http.Client), retireAfter: retireAfter}
}

// clientKey is the identity of pc's client.
func clientKey(pc *config.Provider) string {
	b, _ := json.Marshal([]any{pc.Name, pc.BaseURL, pc.ConnectTimeout, pc.ResponseHeaderTimeout, pc.MaxIdleConnsPerHost, pc.MaxConnections, pc.PoolTimeout, tlsDigest(pc)})
	return string(b)
}

// client returns the client kept for pc, made with mk when there is none;
// key is what Retain is given to keep it.
func (c *Clients) client(pc *config.Provider, mk func() *http.Client) (key string, cl *http.Client) {
	key = clientKey(pc)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[key]; ok {
		return key, cl
	}
	cl = mk()
	c.clients[key] = cl
	return key, cl
}

// Retain keeps the clients under keep and retires the others.
func (c *Clients) Retain(keep map[string]bool) {
	c.mu.Lock()
	var gone []*http.Client
	for k, cl := range c.clients {
		if !keep[k] {
			gone = append(gone, cl)
			delete(c.clients, k)
		}
	}
	c.mu.Unlock()
	for _, cl := range gone {
		// Its pool closes the idle connections now and each busy one
		// as its request ends, and leaves llmgw_upstream_connections.
		provider.Retire(cl)
		if c.retireAfter > 0 {
			time.AfterFunc(c.retireAfter, cl.CloseIdleConnections)
		}
	}
}

// Len returns how many clients are kept.
func (c *Clients) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.clients)
}

// Close closes the idle connections of every client.
func (c *Clients) Close() {
	c.Retain(nil)
}

// providerIdentity is the digest of what makes pc reach one upstream
// account: its type, address, API version and credentials. A target whose
// provider's identity changed starts with fresh health (router.Health).
// A credential given by reference ("vault:...", "file:...") counts by its
// reference, not its value: rotating the secret behind it is the same
// account, and keeps the target's health. The digest never leaves the
// process.
func providerIdentity(pc *config.Provider) string {
	h := sha256.New()
	write := func(ss ...string) {
		for _, s := range ss {
			_, _ = h.Write([]byte(s))
			_, _ = h.Write([]byte{0})
		}
	}
	// secret is what a secret field counts as.
	secret := func(field string, s config.Secret) string {
		if ref := pc.SecretRef(field); ref != "" {
			return "ref\x00" + ref
		}
		return "value\x00" + s.Value()
	}
	write(pc.Type, pc.BaseURL, pc.APIVersion, secret("api_key", pc.APIKey))
	names := make([]string, 0, len(pc.Headers))
	for k := range pc.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		write(k, secret("headers."+k, pc.Headers[k]))
	}
	if e := pc.Entra; e != nil {
		write("entra", secret("entra.tenant_id", e.TenantID), secret("entra.client_id", e.ClientID),
			secret("entra.client_secret", e.ClientSecret), e.AuthorityHost)
	}
	if v := pc.Vertex; v != nil {
		b, _ := json.Marshal(v) // its credentials redacted: added below
		write("vertex", string(b), secret("vertex.credentials", v.Credentials))
	}
	if b := pc.Bedrock; b != nil {
		j, _ := json.Marshal(b)
		write("bedrock", string(j), secret("bedrock.access_key_id", b.AccessKeyID),
			secret("bedrock.secret_access_key", b.SecretAccessKey), secret("bedrock.session_token", b.SessionToken))
	}
	return hex.EncodeToString(h.Sum(nil))
}
