package bedrock

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/llmgw/llmgw/internal/llm"
	anthropicwire "github.com/llmgw/llmgw/internal/protocol/anthropic"
	protocol "github.com/llmgw/llmgw/internal/protocol/openai"
)

// encodeConverse translates req into a ConverseInput (ConverseStreamInput
// has the same members). It returns the names of the fields left out
// because Converse has no equivalent, or an error naming the first of them
// when refuse is set, and an invalid request error for what Converse
// cannot be sent at all.
func encodeConverse(req *llm.ChatRequest, refuse bool) (*bedrockruntime.ConverseInput, []string, error) {
	th, err := thinkingOf(req)
	if err != nil {
		return nil, nil, err
	}
	dropped, err := protocol.CheckParams(req, th.v != nil, refuse)
	if err != nil {
		return nil, nil, err
	}
	drop := func(name string) error {
		if refuse {
			return llm.InvalidRequest(name, "%s: the upstream of this model has no equivalent for this field", name)
		}
		dropped = append(dropped, name)
		return nil
	}
	if req.N != nil && *req.N > 1 {
		return nil, nil, llm.InvalidRequest("n", "n: the upstream of this model answers with one choice only")
	}
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(req.Model)}
	hasToolBlocks := false
	if in.System, in.Messages, hasToolBlocks, err = encodeMessages(req.Messages); err != nil {
		return nil, nil, err
	}
	in.InferenceConfig = inferenceConfig(req, th)
	extra := map[string]any{}
	if req.TopK != nil && !th.derived {
		extra["top_k"] = *req.TopK
	}
	if th.v != nil {
		extra["thinking"] = th.v
	}
	if len(extra) > 0 {
		in.AdditionalModelRequestFields = document.NewLazyDocument(extra)
	}
	if in.ToolConfig, err = toolConfig(req, hasToolBlocks); err != nil {
		return nil, nil, err
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type != "text" {
		if in.OutputConfig, err = outputConfig(rf); err != nil {
			return nil, nil, err
		}
	}
	if len(req.Metadata) > 0 || req.User != "" {
		// requestMetadata tags the invocation in Bedrock's logs, as
		// Anthropic's metadata.user_id and OpenAI's user do theirs.
		in.RequestMetadata = make(map[string]string, len(req.Metadata)+1)
		maps.Copy(in.RequestMetadata, req.Metadata)
		if req.User != "" {
			in.RequestMetadata["user_id"] = req.User
		}
	}
	for _, name := range unsupported(req, th) {
		if err := drop(name); err != nil {
			return nil, nil, err
		}
	}
	return in, dropped, nil
}

// unsupported returns the names of the fields of req that Converse has no
// place for: sampling knobs Claude lacks, log probabilities, parallel
// tool calls off, an effort that makes no thinking, and an OpenAI
// client's extra members.
func unsupported(req *llm.ChatRequest, th thinking) []string {
	var out []string
	for _, c := range []struct {
		name string
		set  bool
	}{
		{"logit_bias", len(req.LogitBias) > 0},
		{"logprobs", req.Logprobs != nil && *req.Logprobs},
		{"top_logprobs", req.TopLogprobs != nil},
		{"parallel_tool_calls", req.ParallelToolCalls != nil && !*req.ParallelToolCalls && (req.ToolChoice == nil || !req.ToolChoice.DisableParallel)},
		{"tool_choice.disable_parallel_tool_use", req.ToolChoice != nil && req.ToolChoice.DisableParallel},
		{"presence_penalty", req.PresencePenalty != nil && *req.PresencePenalty != 0},
		{"frequency_penalty", req.FrequencyPenalty != nil && *req.FrequencyPenalty != 0},
		{"seed", req.Seed != nil},
		{"reasoning_effort", req.ReasoningEffort != "" && th.v == nil},
	} {
		if c.set {
			out = append(out, c.name)
		}
	}
	if req.ExtraProtocol == protocol.Protocol {
		out = append(out, slices.Sorted(maps.Keys(req.Extra))...)
	}
	return out
}

// inferenceConfig returns the inferenceConfig of req, nil when it sets
// nothing. With thinking on and no output limit, maxTokens is raised
// above the budget, as Claude requires; thinking made from an effort
// leaves the sampling parameters out, as Claude refuses them with it.
func inferenceConfig(req *llm.ChatRequest, th thinking) *types.InferenceConfiguration {
	var ic types.InferenceConfiguration
	set := false
	if n := req.MaxOutputTokens(); n > 0 {
		ic.MaxTokens, set = aws.Int32(int32(min(n, math.MaxInt32))), true
	} else if th.v != nil {
		n := anthropicwire.DefaultMaxTokens
		if th.budget >= n {
			n = th.budget + anthropicwire.DefaultMaxTokens
		}
		ic.MaxTokens, set = aws.Int32(int32(n)), true
	}
	if req.Temperature != nil && !th.derived {
		ic.Temperature, set = aws.Float32(float32(*req.Temperature)), true
	}
	if req.TopP != nil && !th.derived {
		ic.TopP, set = aws.Float32(float32(*req.TopP)), true
	}
	if len(req.Stop) > 0 {
		ic.StopSequences, set = req.Stop, true
	}
	if !set {
		return nil
	}
	return &ic
}

// thinking is Anthropic's thinking setting for a request.
type thinking struct {
	v       any  // the setting, nil when thinking stays off
	budget  int  // its budget_tokens
	derived bool // made from a reasoning effort, not the client's own
}

// ordered is a thinking setting of type and budget, its members in
// Anthropic's order (the SDK's document encoder reads the document tags).
type ordered struct {
	Type         string `document:"type"`
	BudgetTokens int    `document:"budget_tokens"`
}

// thinkingOf returns Anthropic's thinking setting for req: the client's
// own, or a budget from its reasoning effort, as toward Anthropic's API
// (none when a tool is forced, or when the last assistant turn called
// tools with no signed thinking before them, which Anthropic refuses).
// Converse takes it among additionalModelRequestFields, which Bedrock
// hands to the model as it is: Claude reads "thinking".
func thinkingOf(req *llm.ChatRequest) (thinking, error) {
	if len(req.Thinking) > 0 && !bytes.Equal(req.Thinking, []byte("null")) {
		var v any
		if err := json.Unmarshal(req.Thinking, &v); err != nil {
			return thinking{}, llm.InvalidRequest("thinking", "thinking: %v", err)
		}
		var b struct {
			Type         string `json:"type"`
			BudgetTokens int    `json:"budget_tokens"`
		}
		_ = json.Unmarshal(req.Thinking, &b)
		if m, ok := v.(map[string]any); ok && len(m) == 2 && b.Type != "" && b.BudgetTokens > 0 {
			v = ordered{Type: b.Type, BudgetTokens: b.BudgetTokens}
		}
		return thinking{v: v, budget: b.BudgetTokens}, nil
	}
	if req.ReasoningEffort == "" || forcesTool(req) || unsignedToolTurn(req.Messages) {
		return thinking{}, nil
	}
	b := anthropicwire.ThinkingBudget(req.ReasoningEffort, req.MaxOutputTokens())
	if b == 0 {
		return thinking{}, nil
	}
	return thinking{v: ordered{Type: "enabled", BudgetTokens: b}, budget: b, derived: true}, nil
}

// forcesTool reports whether req forces a tool call, which Anthropic's
// thinking does not allow.
func forcesTool(req *llm.ChatRequest) bool {
	return req.ToolChoice != nil && (req.ToolChoice.Mode == llm.ToolChoiceRequired || req.ToolChoice.Mode == llm.ToolChoiceFunction)
}

// unsignedToolTurn reports whether the last assistant message calls tools
// with no signed thinking block before them.
func unsignedToolTurn(msgs []llm.Message) bool {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := &msgs[i]
		if m.Role != llm.RoleAssistant {
			continue
		}
		if len(m.ToolCalls) == 0 {
			return false
		}
		for _, p := range m.Content {
			if (p.Type == llm.PartThinking && p.Signature != "") || p.Type == llm.PartRedactedThinking {
				return false
			}
		}
		return true
	}
	return false
}

// outputConfig is structured output: json_schema as Converse's
// textFormat, json_object as the schema of any object. The schema is
// rewritten into the subset Claude's structured output takes, as toward
// Anthropic's API (anthropic.OutputSchema).
func outputConfig(rf *llm.ResponseFormat) (*types.OutputConfig, error) {
	schema, name := `{"type":"object"}`, "response"
	if rf.JSONSchema != nil {
		if len(rf.JSONSchema.Schema) > 0 {
			s, err := anthropicwire.OutputSchema(rf.JSONSchema.Schema)
			if err != nil {
				return nil, llm.InvalidRequest("response_format", "response_format.json_schema.schema: %v", err)
			}
			schema = string(s)
		}
		if rf.JSONSchema.Name != "" {
			name = rf.JSONSchema.Name
		}
	}
	def := types.JsonSchemaDefinition{Schema: aws.String(schema), Name: aws.String(name)}
	if rf.JSONSchema != nil && rf.JSONSchema.Description != "" {
		def.Description = aws.String(rf.JSONSchema.Description)
	}
	return &types.OutputConfig{TextFormat: &types.OutputFormat{
		Type:      types.OutputFormatTypeJsonSchema,
		Structure: &types.OutputFormatStructureMemberJsonSchema{Value: def},
	}}, nil
}

// toolConfig returns the toolConfig of req. Converse has no "none": with
// it the tools are left out, unless the conversation holds tool blocks,
// which Converse refuses without a toolConfig; the tools then go with no
// choice (auto).
func toolConfig(req *llm.ChatRequest, hasToolBlocks bool) (*types.ToolConfiguration, error) {
	var tc types.ToolConfiguration
	for i := range req.Tools {
		t := &req.Tools[i]
		if t.Type != "" && t.Type != "function" {
			return nil, llm.InvalidRequest("tools", "tools[%d]: tools of type %q are not available on this model's upstream", i, t.Type)
		}
		schema := any(map[string]any{"type": "object", "properties": map[string]any{}})
		if len(t.Parameters) > 0 && !bytes.Equal(t.Parameters, []byte("null")) {
			if err := json.Unmarshal(t.Parameters, &schema); err != nil {
				return nil, llm.InvalidRequest("tools", "tools[%d].parameters: %v", i, err)
			}
		}
		spec := types.ToolSpecification{Name: aws.String(t.Name), InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(schema)}}
		if t.Description != "" {
			spec.Description = aws.String(t.Description)
		}
		tc.Tools = append(tc.Tools, &types.ToolMemberToolSpec{Value: spec})
		if len(t.CacheControl) > 0 {
			tc.Tools = append(tc.Tools, &types.ToolMemberCachePoint{Value: types.CachePointBlock{Type: types.CachePointTypeDefault}})
		}
	}
	if len(tc.Tools) == 0 {
		return nil, nil
	}
	if ch := req.ToolChoice; ch != nil {
		switch ch.Mode {
		case llm.ToolChoiceNone:
			if !hasToolBlocks {
				return nil, nil
			}
		case llm.ToolChoiceRequired:
			tc.ToolChoice = &types.ToolChoiceMemberAny{}
		case llm.ToolChoiceFunction:
			tc.ToolChoice = &types.ToolChoiceMemberTool{Value: types.SpecificToolChoice{Name: aws.String(ch.Name)}}
		default:
			tc.ToolChoice = &types.ToolChoiceMemberAuto{}
		}
	}
	return &tc, nil
}

// encodeMessages returns the system blocks and the conversation. Turns
// of the same role in a row are joined into one, as Converse wants roles
// to alternate: tool results are blocks of a user turn, the results of
// parallel calls and the user's next words in the same one.
func encodeMessages(msgs []llm.Message) ([]types.SystemContentBlock, []types.Message, bool, error) {
	var system []types.SystemContentBlock
	var out []types.Message
	toolBlocks := false
	add := func(role types.ConversationRole, blocks ...types.ContentBlock) {
		if len(blocks) == 0 {
			return
		}
		if n := len(out); n > 0 && out[n-1].Role == role {
			out[n-1].Content = append(out[n-1].Content, blocks...)
			return
		}
		out = append(out, types.Message{Role: role, Content: blocks})
	}
	for i := range msgs {
		m := &msgs[i]
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			for _, p := range m.Content {
				if p.Type == llm.PartText && p.Text != "" {
					system = append(system, &types.SystemContentBlockMemberText{Value: p.Text})
					if len(p.CacheControl) > 0 {
						system = append(system, &types.SystemContentBlockMemberCachePoint{Value: types.CachePointBlock{Type: types.CachePointTypeDefault}})
					}
				}
			}
		case llm.RoleTool:
			toolBlocks = true
			add(types.ConversationRoleUser, &types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{
				ToolUseId: aws.String(m.ToolCallID),
				Content:   []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberText{Value: m.Text()}},
			}})
		case llm.RoleAssistant:
			blocks, err := contentBlocks(m, i, true)
			if err != nil {
				return nil, nil, false, err
			}
			for _, tc := range m.ToolCalls {
				toolBlocks = true
				var args any = map[string]any{}
				if strings.TrimSpace(tc.Arguments) != "" {
					if err := json.Unmarshal([]byte(tc.Arguments), &args); err != nil {
						return nil, nil, false, llm.InvalidRequest("messages", "messages[%d].tool_calls: arguments are not JSON: %v", i, err)
					}
				}
				blocks = append(blocks, &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{
					ToolUseId: aws.String(tc.ID), Name: aws.String(tc.Name), Input: document.NewLazyDocument(args)}})
			}
			add(types.ConversationRoleAssistant, blocks...)
		default:
			blocks, err := contentBlocks(m, i, false)
			if err != nil {
				return nil, nil, false, err
			}
			add(types.ConversationRoleUser, blocks...)
		}
	}
	return system, out, toolBlocks, nil
}

// contentBlocks returns the blocks of a message's parts.
func contentBlocks(m *llm.Message, i int, assistant bool) ([]types.ContentBlock, error) {
	var blocks []types.ContentBlock
	for _, p := range m.Content {
		switch p.Type {
		case llm.PartText:
			if p.Text == "" {
				continue
			}
			blocks = append(blocks, &types.ContentBlockMemberText{Value: p.Text})
		case llm.PartImage:
			b, err := imageBlock(p.Image, i)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
		case llm.PartThinking:
			if !assistant {
				continue
			}
			rt := types.ReasoningTextBlock{Text: aws.String(p.Text)}
			if p.Signature != "" {
				rt.Signature = aws.String(p.Signature)
			}
			blocks = append(blocks, &types.ContentBlockMemberReasoningContent{Value: &types.ReasoningContentBlockMemberReasoningText{Value: rt}})
		case llm.PartRedactedThinking:
			if !assistant {
				continue
			}
			data, err := base64.StdEncoding.DecodeString(p.Data)
			if err != nil {
				return nil, llm.InvalidRequest("messages", "messages[%d]: redacted thinking data is not base64", i)
			}
			blocks = append(blocks, &types.ContentBlockMemberReasoningContent{Value: &types.ReasoningContentBlockMemberRedactedContent{Value: data}})
		default:
			return nil, llm.InvalidRequest("messages", "messages[%d]: a content part of this kind is not available on this model's upstream", i)
		}
		if len(p.CacheControl) > 0 {
			blocks = append(blocks, &types.ContentBlockMemberCachePoint{Value: types.CachePointBlock{Type: types.CachePointTypeDefault}})
		}
	}
	return blocks, nil
}

// imageFormats are the image media types Converse takes.
var imageFormats = map[string]types.ImageFormat{
	"image/png": types.ImageFormatPng, "image/jpeg": types.ImageFormatJpeg, "image/jpg": types.ImageFormatJpeg,
	"image/gif": types.ImageFormatGif, "image/webp": types.ImageFormatWebp,
}

// imageBlock returns the image block of an inline image. Converse takes
// image bytes (or an S3 location), never a URL to fetch: an image by URL is
// refused, the gateway fetching nothing on a client's behalf.
func imageBlock(img *llm.Image, i int) (types.ContentBlock, error) {
	if img == nil || img.Data == "" {
		return nil, llm.InvalidRequest("messages", "messages[%d]: images by URL are not available on this model's upstream; send the image inline as a data: URL", i)
	}
	f, ok := imageFormats[strings.ToLower(img.MediaType)]
	if !ok {
		return nil, llm.InvalidRequest("messages", "messages[%d]: image type %q is not available on this model's upstream (png, jpeg, gif or webp)", i, llm.Clip(img.MediaType))
	}
	b, err := base64.StdEncoding.DecodeString(img.Data)
	if err != nil {
		return nil, llm.InvalidRequest("messages", "messages[%d]: the image data is not base64", i)
	}
	return &types.ContentBlockMemberImage{Value: types.ImageBlock{Format: f, Source: &types.ImageSourceMemberBytes{Value: b}}}, nil
}
