package pipeline

// Stages are the domain stages of one configuration snapshot; a nil stage is
// switched off.
type Stages struct {
	// Access checks that the caller may use the requested model.
	Access Stage
	// CostCap refuses, or sends to a cheaper model, a call whose
	// estimated cost is above its cap.
	CostCap Stage
	// Limits admits the call against its rate limits.
	Limits Stage
}

// Build returns the chain for one snapshot. This is the one place the order
// of stages is written down: access first (no work for a caller who may not
// make the call), the cost cap next (a call refused for its cost, or sent
// to a cheaper model, must be so before anything is counted or reserved
// for it), rate limits and budget reservations next (nothing is counted
// for a call refused access or over its cost cap), then the stages that
// later issues add (guard, budgets, cache, usage), then the router as
// terminal.
func Build(terminal Invoke, s Stages) Invoke {
	return Chain(terminal,
		s.Access,
		s.CostCap,
		s.Limits,
	)
}
