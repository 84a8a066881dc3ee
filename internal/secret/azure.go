package secret

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/llmgw/llmgw/internal/config"
)

// azureTimeout bounds each fetch from Key Vault, the SDK's retries and
// its token request included.
const azureTimeout = config.DefaultAWSTimeout

// azureClient returns the Key Vault client of vaultURL, made once, with
// the default Azure credential (or Options.AzureCredential).
func (r *Resolver) azureClient(vaultURL string) (*azsecrets.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.azure[vaultURL]; ok {
		return c, nil
	}
	cred := r.o.AzureCredential
	if cred == nil {
		if r.azureCred == nil {
			c, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				return nil, fmt.Errorf("Key Vault: no Azure credential: %v", err)
			}
			r.azureCred = c
		}
		cred = r.azureCred
	}
	var opts azsecrets.ClientOptions
	opts.Retry.MaxRetries = int32(r.o.Retries)
	opts.Transport = boundedClient(r.o.HTTPClient)
	c, err := azsecrets.NewClient(vaultURL, cred, &opts)
	if err != nil {
		return nil, fmt.Errorf("Key Vault client: %v", err)
	}
	if r.azure == nil {
		r.azure = map[string]*azsecrets.Client{}
	}
	r.azure[vaultURL] = c
	return c, nil
}

// readAzure returns the current version of the secret ref names.
func (r *Resolver) readAzure(ctx context.Context, ref config.AzureRef) (string, error) {
	c, err := r.azureClient(ref.VaultURL)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, azureTimeout)
	defer cancel()
	resp, err := c.GetSecret(ctx, ref.Name, "", nil)
	if err != nil {
		return "", azureErr(err)
	}
	if resp.Attributes != nil && resp.Attributes.Enabled != nil && !*resp.Attributes.Enabled {
		return "", errors.New("Key Vault: the secret is disabled")
	}
	if resp.Value == nil || *resp.Value == "" {
		return "", errors.New("Key Vault: the value is empty")
	}
	return *resp.Value, nil
}

// azureErr says what went wrong: Key Vault's status and error code, or
// that it (or the identity endpoint) could not be reached.
func azureErr(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		msg := re.ErrorCode
		switch re.StatusCode {
		case http.StatusForbidden:
			msg = "permission denied (" + msg + ")"
		case http.StatusNotFound:
			msg = "not found (" + msg + ")"
		case http.StatusUnauthorized:
			msg = "unauthorized (" + msg + ")"
		}
		return fmt.Errorf("Key Vault: %s (%d)", msg, re.StatusCode)
	}
	var ae *azidentity.AuthenticationFailedError
	if errors.As(err, &ae) {
		return errors.New("Key Vault: the Azure credential could not get a token")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("Key Vault is unreachable: no answer in time")
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fmt.Errorf("Key Vault is unreachable: %v", ne)
	}
	return fmt.Errorf("Key Vault: %v", err)
}
