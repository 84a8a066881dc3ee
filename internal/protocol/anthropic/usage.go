package anthropic

import (
	"github.com/llmgw/llmgw/internal/llm"
	"github.com/tidwall/gjson"
)

// ScanUsage reads the usage an event carries without decoding the rest:
// message.usage of message_start, usage of message_delta, and usage of a
// whole Message body when eventType is "" (the fast path of a non-streamed
// body forwarded unchanged). ok is false when there is none. A
// message_delta's counts are cumulative but may leave the input counts out;
// UsageScanner merges them over a stream.
func ScanUsage(eventType string, data []byte) (llm.Usage, bool) {
	var u usageCounts
	if !scanUsage(&u, eventType, data) {
		return llm.Usage{}, false
	}
	return u.canonical(), true
}

// UsageScanner accumulates the usage of a forwarded stream, event by event.
// The zero value is ready to use.
type UsageScanner struct {
	counts usageCounts
}

// Scan merges the usage of one event and returns the running total; ok is
// false when the event carries no usage.
func (s *UsageScanner) Scan(eventType string, data []byte) (llm.Usage, bool) {
	if !scanUsage(&s.counts, eventType, data) {
		return llm.Usage{}, false
	}
	return s.counts.canonical(), true
}

// Usage returns the total so far.
func (s *UsageScanner) Usage() llm.Usage { return s.counts.canonical() }

func scanUsage(u *usageCounts, eventType string, data []byte) bool {
	path := "usage"
	switch eventType {
	case "message_start":
		path = "message.usage"
	case "message_delta", "":
	default:
		return false
	}
	r := gjson.GetBytes(data, path)
	if !r.IsObject() {
		return false
	}
	r.ForEach(func(k, v gjson.Result) bool {
		n := int(v.Int())
		switch k.Str {
		case "input_tokens":
			u.input = n
		case "output_tokens":
			u.output = n
		case "cache_creation_input_tokens":
			u.cacheCreation = n
		case "cache_read_input_tokens":
			u.cacheRead = n
		case "output_tokens_details":
			if t := v.Get("thinking_tokens"); t.Exists() {
				u.thinking = int(t.Int())
			}
		}
		return true
	})
	return true
}
