package config

// Responses configures the state the Responses API keeps: the responses
// created with store true (the default), which later requests continue
// (previous_response_id), read, list the input of and delete.
type Responses struct {
	// Retention is how long a stored response is kept, from its creation;
	// default "720h" (30 days, as OpenAI keeps them). An expired response
	// is never returned nor continued (404), and is removed by a purge
	// that runs every minute.
	Retention Duration `yaml:"retention,omitempty" json:"retention,omitempty"`
	// MaxStoredBytes bounds what one stored response takes: its input
	// items and its response object together; default 4194304 (4 MiB), at
	// most 67108864 (64 MiB). A request whose input items alone are over
	// it is refused (400, param "store") before any upstream call unless it
	// says store false; an answer that takes the response over it is
	// delivered but not stored (a later GET of it answers 404).
	MaxStoredBytes int64 `yaml:"max_stored_bytes,omitempty" json:"max_stored_bytes,omitempty"`
}

const (
	// DefaultResponsesRetention is responses.retention when unset.
	DefaultResponsesRetention = Duration(720 * 60 * 60 * 1e9)
	// DefaultResponsesMaxStoredBytes is responses.max_stored_bytes when
	// unset.
	DefaultResponsesMaxStoredBytes = 4 << 20
	// MaxResponsesStoredBytes bounds responses.max_stored_bytes.
	MaxResponsesStoredBytes = 64 << 20
	// minResponsesRetention bounds responses.retention from below.
	minResponsesRetention = Duration(60 * 1e9)
)

func (r *Responses) applyDefaults() {
	setDefault(&r.Retention, DefaultResponsesRetention)
	setDefault(&r.MaxStoredBytes, DefaultResponsesMaxStoredBytes)
}

func (r *Responses) validate(p *problems) {
	if r.Retention != 0 && r.Retention < minResponsesRetention {
		p.add("responses.retention", "must be at least 1m")
	}
	if r.MaxStoredBytes < 0 || r.MaxStoredBytes > MaxResponsesStoredBytes {
		p.add("responses.max_stored_bytes", "must be from 1 to %d", MaxResponsesStoredBytes)
	}
}
