package mock_test

import (
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/mock"
)

var (
	_ provider.Provider = (*mock.Provider)(nil)
	_ provider.Embedder = (*mock.Provider)(nil)
)
