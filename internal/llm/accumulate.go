package llm

import "encoding/json"

// Accumulator folds the chunks of a response, streamed deltas or one whole
// response, into one complete response. It is how a streaming upstream serves
// a non-streaming client. The zero value is ready to use.
type Accumulator struct {
	resp     Chunk
	toolIdx  []map[int]int // per choice: tool call index -> position in ToolCalls
	logprobs []logprobAcc
}

type logprobAcc struct {
	Content []json.RawMessage `json:"content"`
	Refusal []json.RawMessage `json:"refusal,omitempty"`
}

// Add folds c into the response.
func (a *Accumulator) Add(c *Chunk) {
	r := &a.resp
	if r.ID == "" {
		r.ID = c.ID
	}
	if r.Model == "" {
		r.Model = c.Model
	}
	if r.Created == 0 {
		r.Created = c.Created
	}
	if c.SystemFingerprint != "" {
		r.SystemFingerprint = c.SystemFingerprint
	}
	if c.ServiceTier != "" {
		r.ServiceTier = c.ServiceTier
	}
	if c.Usage != nil {
		u := *c.Usage
		r.Usage = &u
	}
	for i := range c.Choices {
		a.addChoice(&c.Choices[i])
	}
}

func (a *Accumulator) choice(index int) int {
	for i := range a.resp.Choices {
		if a.resp.Choices[i].Index == index {
			return i
		}
	}
	a.resp.Choices = append(a.resp.Choices, Choice{Index: index, Message: Message{Role: RoleAssistant}})
	a.toolIdx = append(a.toolIdx, nil)
	a.logprobs = append(a.logprobs, logprobAcc{})
	return len(a.resp.Choices) - 1
}

func (a *Accumulator) addChoice(d *Choice) {
	pos := a.choice(d.Index)
	dst := &a.resp.Choices[pos]
	m := &dst.Message
	if d.Message.Role != "" {
		m.Role = d.Message.Role
	}
	if d.Message.Name != "" {
		m.Name = d.Message.Name
	}
	m.Refusal += d.Message.Refusal
	for _, p := range d.Message.Content {
		appendPart(m, p)
	}
	for _, tc := range d.Message.ToolCalls {
		a.addToolCall(pos, tc)
	}
	if d.Message.ExtraProtocol != "" {
		m.ExtraProtocol = d.Message.ExtraProtocol
	}
	for k, v := range d.Message.Extra {
		if m.Extra == nil {
			m.Extra = make(map[string]json.RawMessage)
		}
		m.Extra[k] = v
	}
	if d.FinishReason != "" {
		dst.FinishReason = d.FinishReason
	}
	if d.StopSequence != "" {
		dst.StopSequence = d.StopSequence
	}
	if len(d.Logprobs) > 0 && string(d.Logprobs) != "null" {
		var lp logprobAcc
		if json.Unmarshal(d.Logprobs, &lp) == nil {
			acc := &a.logprobs[pos]
			acc.Content = append(acc.Content, lp.Content...)
			acc.Refusal = append(acc.Refusal, lp.Refusal...)
			if acc.Content == nil {
				acc.Content = []json.RawMessage{}
			}
			dst.Logprobs, _ = json.Marshal(acc)
		}
	}
}

// appendPart merges a delta part into the message: text onto a trailing text
// part, thinking text and signature onto a trailing thinking part.
func appendPart(m *Message, p Part) {
	if n := len(m.Content); n > 0 {
		last := &m.Content[n-1]
		if last.Type == p.Type && (p.Type == PartText || p.Type == PartThinking) && p.CacheControl == nil {
			last.Text += p.Text
			last.Signature += p.Signature
			return
		}
	}
	m.Content = append(m.Content, p)
}

func (a *Accumulator) addToolCall(pos int, tc ToolCall) {
	if a.toolIdx[pos] == nil {
		a.toolIdx[pos] = make(map[int]int)
	}
	m := &a.resp.Choices[pos].Message
	i, ok := a.toolIdx[pos][tc.Index]
	if !ok {
		a.toolIdx[pos][tc.Index] = len(m.ToolCalls)
		if tc.Type == "" {
			tc.Type = "function"
		}
		m.ToolCalls = append(m.ToolCalls, tc)
		return
	}
	dst := &m.ToolCalls[i]
	if tc.ID != "" {
		dst.ID = tc.ID
	}
	if tc.Name != "" {
		dst.Name = tc.Name
	}
	dst.Arguments += tc.Arguments
}

// Response returns the folded response. Choices are in index order.
func (a *Accumulator) Response() *Chunk {
	r := a.resp
	r.Choices = append([]Choice(nil), a.resp.Choices...)
	for i := 1; i < len(r.Choices); i++ {
		for j := i; j > 0 && r.Choices[j].Index < r.Choices[j-1].Index; j-- {
			r.Choices[j], r.Choices[j-1] = r.Choices[j-1], r.Choices[j]
		}
	}
	return &r
}
