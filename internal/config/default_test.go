package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefault(t *testing.T) {
	mock := Provider{Name: "mock", Type: TypeMock}
	mockModel := Model{Name: "mock", Targets: []Target{{Provider: "mock", Model: "mock", Weight: 1}}}
	openaiModel := Model{Name: "openai/*", Targets: []Target{{Provider: "openai", Model: "*", Weight: 1}}}
	anthropicModel := Model{Name: "anthropic/*", Targets: []Target{{Provider: "anthropic", Model: "*", Weight: 1}}}
	vertexModel := Model{Name: "vertex/*", Targets: []Target{{Provider: "vertex", Model: "*", Weight: 1}}}
	bedrockModel := Model{Name: "bedrock/*", Targets: []Target{{Provider: "bedrock", Model: "*", Weight: 1}}}
	bedrock := func(region string) Provider {
		return Provider{Name: "bedrock", Type: TypeBedrock, Bedrock: &Bedrock{Region: region}}
	}
	tests := []struct {
		name      string
		env       map[string]string
		providers []Provider
		models    []Model
	}{
		{"no environment", nil, []Provider{mock}, []Model{mockModel}},
		{"empty key ignored", map[string]string{"OPENAI_API_KEY": ""}, []Provider{mock}, []Model{mockModel}},
		{"other providers not yet served", map[string]string{"AWS_BEARER_TOKEN_BEDROCK": "b", "AWS_REGION": "us-east-1", "GOOGLE_CLOUD_PROJECT": "p"},
			[]Provider{mock}, []Model{mockModel}},
		{"aws keys and region", map[string]string{"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1"},
			[]Provider{mock, bedrock("eu-west-1")}, []Model{mockModel, bedrockModel}},
		{"aws profile and default region", map[string]string{"AWS_PROFILE": "dev", "AWS_DEFAULT_REGION": "us-west-2"},
			[]Provider{mock, bedrock("us-west-2")}, []Model{mockModel, bedrockModel}},
		{"aws web identity, AWS_REGION first", map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token", "AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "us-west-2"},
			[]Provider{mock, bedrock("ap-south-1")}, []Model{mockModel, bedrockModel}},
		{"aws container credentials", map[string]string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x", "AWS_REGION": "us-east-1"},
			[]Provider{mock, bedrock("us-east-1")}, []Model{mockModel, bedrockModel}},
		{"aws key without region", map[string]string{"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s"},
			[]Provider{mock}, []Model{mockModel}},
		{"aws key id without secret", map[string]string{"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_REGION": "us-east-1"},
			[]Provider{mock}, []Model{mockModel}},
		{"aws region without credentials", map[string]string{"AWS_REGION": "us-east-1"},
			[]Provider{mock}, []Model{mockModel}},
		{"gemini key", map[string]string{"GEMINI_API_KEY": "g-1"},
			[]Provider{mock, {Name: "gemini", Type: TypeGemini, APIKey: "g-1", BaseURL: "https://generativelanguage.googleapis.com"}},
			[]Model{mockModel, {Name: "gemini/*", Targets: []Target{{Provider: "gemini", Model: "*", Weight: 1}}}}},
		{"anthropic key", map[string]string{"ANTHROPIC_API_KEY": "sk-ant-1"},
			[]Provider{mock, {Name: "anthropic", Type: TypeAnthropic, APIKey: "sk-ant-1", BaseURL: "https://api.anthropic.com"}},
			[]Model{mockModel, anthropicModel}},
		{"anthropic key and base url", map[string]string{"ANTHROPIC_API_KEY": "sk-ant-1", "ANTHROPIC_BASE_URL": "http://proxy:9000"},
			[]Provider{mock, {Name: "anthropic", Type: TypeAnthropic, APIKey: "sk-ant-1", BaseURL: "http://proxy:9000"}},
			[]Model{mockModel, anthropicModel}},
		{"both keys", map[string]string{"OPENAI_API_KEY": "sk-1", "ANTHROPIC_API_KEY": "sk-ant-1"},
			[]Provider{mock, {Name: "openai", Type: TypeOpenAI, APIKey: "sk-1", BaseURL: "https://api.openai.com/v1"},
				{Name: "anthropic", Type: TypeAnthropic, APIKey: "sk-ant-1", BaseURL: "https://api.anthropic.com"}},
			[]Model{mockModel, openaiModel, anthropicModel}},
		{"mistral key", map[string]string{"MISTRAL_API_KEY": "mk-1"},
			[]Provider{mock, {Name: "mistral", Type: TypeMistral, APIKey: "mk-1", BaseURL: "https://api.mistral.ai/v1"}},
			[]Model{mockModel, {Name: "mistral/*", Targets: []Target{{Provider: "mistral", Model: "*", Weight: 1}}}}},
		{"cohere key", map[string]string{"COHERE_API_KEY": "co-1"},
			[]Provider{mock, {Name: "cohere", Type: TypeCohere, APIKey: "co-1", BaseURL: "https://api.cohere.com"}},
			[]Model{mockModel, {Name: "cohere/*", Targets: []Target{{Provider: "cohere", Model: "*", Weight: 1}}}}},
		{"azure key", map[string]string{"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/", "AZURE_OPENAI_API_KEY": "az-1", "OPENAI_API_VERSION": "2024-10-21"},
			[]Provider{mock, {Name: "azure", Type: TypeAzureOpenAI, APIKey: "az-1", BaseURL: "https://res.openai.azure.com", APIVersion: "2024-10-21"}},
			[]Model{mockModel, {Name: "azure/*", Targets: []Target{{Provider: "azure", Model: "*", Weight: 1}}}}},
		{"azure entra", map[string]string{"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"},
			[]Provider{mock, {Name: "azure", Type: TypeAzureOpenAI, BaseURL: "https://res.openai.azure.com", Entra: &Entra{TenantID: "t", ClientID: "c", ClientSecret: "s"}}},
			[]Model{mockModel, {Name: "azure/*", Targets: []Target{{Provider: "azure", Model: "*", Weight: 1}}}}},
		{"azure endpoint without credentials", map[string]string{"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_CLIENT_ID": "c"},
			[]Provider{mock}, []Model{mockModel}},
		{"ollama host", map[string]string{"OLLAMA_HOST": "gpu-box"},
			[]Provider{mock, {Name: "ollama", Type: TypeOllama, BaseURL: "http://gpu-box:11434"}},
			[]Model{mockModel, {Name: "ollama/*", Targets: []Target{{Provider: "ollama", Model: "*", Weight: 1}}}}},
		{"vertex from Google's variables", map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": "/keys/sa.json", "GOOGLE_CLOUD_PROJECT": "proj-1"},
			[]Provider{mock, {Name: "vertex", Type: TypeVertex, Vertex: &Vertex{Project: "proj-1", Location: "global", CredentialsFile: "/keys/sa.json"}}},
			[]Model{mockModel, vertexModel}},
		{"vertex location", map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": "/keys/sa.json", "GOOGLE_CLOUD_PROJECT": "proj-1",
			"GOOGLE_CLOUD_LOCATION": "europe-west4", "GOOGLE_CLOUD_REGION": "us-east5"},
			[]Provider{mock, {Name: "vertex", Type: TypeVertex, Vertex: &Vertex{Project: "proj-1", Location: "europe-west4", CredentialsFile: "/keys/sa.json"}}},
			[]Model{mockModel, vertexModel}},
		{"vertex region", map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": "/keys/sa.json", "GOOGLE_CLOUD_PROJECT": "proj-1", "GOOGLE_CLOUD_REGION": "us-east5"},
			[]Provider{mock, {Name: "vertex", Type: TypeVertex, Vertex: &Vertex{Project: "proj-1", Location: "us-east5", CredentialsFile: "/keys/sa.json"}}},
			[]Model{mockModel, vertexModel}},
		{"vertex needs credentials", map[string]string{"GOOGLE_CLOUD_PROJECT": "proj-1", "GOOGLE_CLOUD_LOCATION": "us-central1"},
			[]Provider{mock}, []Model{mockModel}},
		{"openai key", map[string]string{"OPENAI_API_KEY": "sk-1"},
			[]Provider{mock, {Name: "openai", Type: TypeOpenAI, APIKey: "sk-1", BaseURL: "https://api.openai.com/v1"}},
			[]Model{mockModel, openaiModel}},
		{"openai key and base url", map[string]string{"OPENAI_API_KEY": "sk-1", "OPENAI_BASE_URL": "http://proxy:8000/v1"},
			[]Provider{mock, {Name: "openai", Type: TypeOpenAI, APIKey: "sk-1", BaseURL: "http://proxy:8000/v1"}},
			[]Model{mockModel, openaiModel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default(envOf(tt.env))
			require.NoError(t, cfg.Validate())

			want := &Config{Providers: tt.providers, Models: tt.models}
			want.ApplyDefaults()
			if diff := cmp.Diff(want, cfg); diff != "" {
				t.Errorf("Default (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOllamaBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":                 "http://127.0.0.1:11434",
		"0.0.0.0:8000":              "http://0.0.0.0:8000",
		"https://ollama.example":    "https://ollama.example:11434",
		"http://[::1]:1234/ollama/": "http://[::1]:1234/ollama",
		"::1":                       "http://[::1]:11434",
	} {
		assert.Equal(t, want, OllamaBaseURL(in), in)
	}
}

func TestDefaultServer(t *testing.T) {
	cfg := Default(nil)
	assert.Equal(t, "127.0.0.1:8080", cfg.Server.Listen)
	assert.Equal(t, int64(10<<20), cfg.Server.MaxBodyBytes)
	assert.True(t, cfg.AccessLogEnabled())
	rest, ok := Default(envOf(map[string]string{"OPENAI_API_KEY": "k"})).Models[1].Match("openai/gpt-4o")
	assert.True(t, ok)
	assert.Equal(t, "gpt-4o", rest)
}

func TestDefaultInvalidBaseURLIsReported(t *testing.T) {
	cfg := Default(envOf(map[string]string{"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "proxy:8000"}))
	assert.EqualError(t, cfg.Validate(), "providers[1].base_url: must be an absolute http:// or https:// URL")
}
