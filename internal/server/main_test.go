package server

import (
	"testing"

	"go.uber.org/goleak"
)

// Every stream test must leave no goroutine behind: the gateway's, the
// upstream client's and the fake upstream's are all stopped by then. Idle
// keep-alive connections of the test clients are closed first.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,

		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}
