package ledgerkill

import (
	"testing"

	"github.com/llmgw/llmgw/internal/testbin"
)

// binary is the llmgw binary built once for the package.
var binary string

func TestMain(m *testing.M) { testbin.Main(m, &binary) }
