package vertex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
)

// Scope is the OAuth scope of the access tokens sent to Vertex AI.
const Scope = "https://www.googleapis.com/auth/cloud-platform"

// tokenTimeout bounds one token request: the oauth2 package's service
// account flow posts without a context, so the client carries the bound.
const tokenTimeout = 30 * time.Second

// googleSource gets access tokens from the configured credentials, or from
// Application Default Credentials when none are configured.
type googleSource struct {
	// creds is a credentials file's JSON, of type typ; nil for ADC.
	creds  []byte
	typ    google.CredentialsType
	client *http.Client
}

// newGoogleSource checks creds, a credentials file's JSON: a service
// account key (service_account) or gcloud's user credentials
// (authorized_user). Other types, which may run commands or reach other
// token services (external_account), are refused. Empty creds select
// Application Default Credentials. The messages of errors never quote
// the file.
func newGoogleSource(creds []byte, client *http.Client) (*googleSource, error) {
	s := &googleSource{client: client}
	if client == nil {
		s.client = http.DefaultClient
	}
	tc := *s.client
	tc.Timeout = tokenTimeout
	s.client = &tc
	if len(creds) == 0 {
		return s, nil
	}
	var f struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(creds, &f); err != nil {
		return nil, errors.New("credentials: not a JSON credentials file")
	}
	switch t := google.CredentialsType(f.Type); t {
	case google.ServiceAccount:
		if f.ClientEmail == "" || f.PrivateKey == "" {
			return nil, errors.New("credentials: a service account key needs client_email and private_key")
		}
	case google.AuthorizedUser:
	default:
		return nil, fmt.Errorf("credentials: type %q is not supported (want service_account or authorized_user)", llm.Clip(f.Type))
	}
	s.creds, s.typ = creds, google.CredentialsType(f.Type)
	if _, err := google.CredentialsFromJSONWithType(context.Background(), creds, s.typ, Scope); err != nil {
		return nil, errors.New("credentials: not a valid credentials file of its type")
	}
	return s, nil
}

// fetch implements provider.TokensConfig.Fetch. The credentials are read
// anew for each token: the oauth2 token sources cache a token until ten
// seconds before its expiry, and a refresh ahead of that must get a new
// one.
func (s *googleSource) fetch(ctx context.Context) (provider.Token, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	var c *google.Credentials
	var err error
	if s.creds == nil {
		c, err = google.FindDefaultCredentials(ctx, Scope)
	} else {
		c, err = google.CredentialsFromJSONWithType(ctx, s.creds, s.typ, Scope)
	}
	if err != nil {
		return provider.Token{}, err
	}
	tok, err := c.TokenSource.Token()
	if err != nil {
		// A refused token request quotes the answer's body.
		return provider.Token{}, errors.New(llm.Clip(err.Error()))
	}
	return provider.Token{Value: tok.AccessToken, Expires: tok.Expiry}, nil
}
