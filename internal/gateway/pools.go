package gateway

import (
	"net/http"

	"github.com/llmgw/llmgw/internal/observe"
	"github.com/llmgw/llmgw/internal/provider"
)

// addPools reports the connection pools of a snapshot's upstream clients
// (by provider name) in the process's llmgw_upstream_connections, with the
// pools of the snapshots before it that are still alive (provider.Pools).
func addPools(reg *observe.Registry, clients map[string]*http.Client) {
	pools := observe.Register(reg, provider.NewPools())
	for name, c := range clients {
		pools.Add(name, c)
	}
}

// Close retires the snapshot's upstream connection pools, once a newer
// snapshot serves in its place: their idle connections close now, the
// others as the requests still using them end, and their series leave
// llmgw_upstream_connections once their last connection has closed.
// Requests still in flight on the snapshot complete normally. Close is
// idempotent and touches nothing of the process's state.
//
// With Options.Clients, the clients are the process's and outlive the
// snapshot: Activate retires those a newer snapshot no longer uses, and
// Close leaves them alone.
func (s *Snapshot) Close() {
	if s.clients != nil {
		return
	}
	for _, c := range s.pools {
		provider.Retire(c)
	}
}
