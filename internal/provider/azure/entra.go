package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/llmgw/llmgw/internal/provider"
)

// Scope is the OAuth scope of Azure OpenAI tokens.
const Scope = "https://cognitiveservices.azure.com/.default"

// Entra is a Microsoft Entra ID application that authenticates with a
// client secret (the client credentials flow).
type Entra struct {
	TenantID, ClientID, ClientSecret string
	// AuthorityHost is the Entra authority, such as
	// https://login.microsoftonline.us/ for Azure Government; "" is the
	// public cloud's, https://login.microsoftonline.com/.
	AuthorityHost string
}

// tokenGetter is what entraSource needs of an azcore credential.
type tokenGetter interface {
	GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error)
}

// entraSource gets Entra tokens for provider.Tokens, which keeps them.
type entraSource struct {
	cred tokenGetter
}

func newEntraSource(e *Entra, client *http.Client) (*entraSource, error) {
	if e.TenantID == "" || e.ClientID == "" || e.ClientSecret == "" {
		return nil, errors.New("entra needs a tenant id, a client id and a client secret")
	}
	opts := &azidentity.ClientSecretCredentialOptions{}
	if e.AuthorityHost != "" {
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityHost}
		// A sovereign or private authority is not in the public cloud's
		// instance metadata.
		opts.DisableInstanceDiscovery = true
	}
	if client != nil {
		opts.Transport = client
	}
	cred, err := azidentity.NewClientSecretCredential(e.TenantID, e.ClientID, e.ClientSecret, opts)
	if err != nil {
		// The SDK's message names the ids, never the secret.
		return nil, fmt.Errorf("entra credential: %w", err)
	}
	return &entraSource{cred: cred}, nil
}

// fetch implements provider.TokensConfig.Fetch: a token of the Cognitive
// Services scope, with the refresh time the SDK suggests, if any.
func (e *entraSource) fetch(ctx context.Context) (provider.Token, error) {
	at, err := e.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
	if err != nil {
		return provider.Token{}, err
	}
	return provider.Token{Value: at.Token, Expires: at.ExpiresOn, Refresh: at.RefreshOn}, nil
}
