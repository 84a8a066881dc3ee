package llm

import "context"

// ParamPolicy is what the gateway does with a request field that the
// upstream's protocol has no equivalent for.
type ParamPolicy string

// Policies for fields with no equivalent upstream.
const (
	// ParamDropped: left out because the answer means the same without it
	// (a sampling nudge, a billing or storage option). The field is named
	// in the x-llmgw-dropped-params response header, or refused when the
	// operator sets server.unsupported_params to refuse.
	ParamDropped ParamPolicy = "dropped"
	// ParamRefused: the request is refused with a 400 naming the field,
	// because an answer without it would mean something else (several
	// choices, log probabilities or audio the client will read, tools it
	// expects the model to have).
	ParamRefused ParamPolicy = "refused"
)

// ParamRule is the policy for one request field of one protocol toward an
// upstream of another. The tables of rules are the source of the
// compatibility page.
type ParamRule struct {
	// Name is the field's wire name in the client's protocol.
	Name string
	// Policy applies when the field is set to a value that asks for
	// something (n above 1, logprobs true, a non-zero penalty).
	Policy ParamPolicy
	// Why says why, for the documentation.
	Why string
}

// ParamReport collects the request fields an upstream adapter left out of
// one attempt, and carries the operator's choice of refusing them instead.
// The router puts a fresh one in each attempt's context (WithParamReport)
// and reports what the serving attempt dropped. Its methods accept a nil
// receiver: an adapter called without one drops and reports nothing.
type ParamReport struct {
	refuse  bool
	dropped []string
}

// NewParamReport returns an empty report; refuse is set when droppable
// fields are to be refused instead (server.unsupported_params: refuse).
func NewParamReport(refuse bool) *ParamReport { return &ParamReport{refuse: refuse} }

// Refuse reports whether droppable fields are to be refused.
func (r *ParamReport) Refuse() bool { return r != nil && r.refuse }

// Drop records that the field name was left out.
func (r *ParamReport) Drop(names ...string) {
	if r != nil {
		r.dropped = append(r.dropped, names...)
	}
}

// Dropped returns the names recorded, in order.
func (r *ParamReport) Dropped() []string {
	if r == nil {
		return nil
	}
	return r.dropped
}

type paramReportKey struct{}

// WithParamReport returns ctx carrying r, for the upstream adapter of one
// attempt.
func WithParamReport(ctx context.Context, r *ParamReport) context.Context {
	return context.WithValue(ctx, paramReportKey{}, r)
}

// ParamReportFrom returns the report ctx carries, or nil.
func ParamReportFrom(ctx context.Context) *ParamReport {
	r, _ := ctx.Value(paramReportKey{}).(*ParamReport)
	return r
}
