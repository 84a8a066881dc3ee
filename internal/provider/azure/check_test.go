package azure

import (
	"context"
	"testing"
)

// TestEntraCheck: the health check asks the resource's model list with an
// Entra token, as requests do.
func TestEntraCheck(t *testing.T) {
	e, f, p, _ := entraSetup(t, 120)
	_ = p.Check(context.Background()) // the fake resource need not serve the list
	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/openai/models" {
		t.Fatalf("requests %+v", reqs)
	}
	if lastAuth(f) != "Bearer entra-token-1" || len(e.Issued()) != 1 {
		t.Errorf("Authorization %q, tokens issued %v", lastAuth(f), e.Issued())
	}
}
