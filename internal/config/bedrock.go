package config

import (
	"regexp"
)

// Values of bedrock.api.
const (
	BedrockAPIConverse  = "converse"
	BedrockAPIAnthropic = "anthropic"
)

// Bedrock configures a provider of type bedrock: the AWS region and
// credentials requests are signed with (SigV4), and the request shape.
// Every field is optional: without them the AWS SDK's default chain
// decides, as the AWS CLI does (AWS_REGION or AWS_DEFAULT_REGION, then the
// profile's region; credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, the shared files and AWS_PROFILE, web identity
// (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN), the container or
// instance role). Credentials that expire are refreshed in the
// background before they do. base_url replaces the regional endpoint
// https://bedrock-runtime.{region}.amazonaws.com (a VPC endpoint, say);
// requests are still signed for region.
type Bedrock struct {
	// Region is the AWS region, such as "us-east-1"; default from the
	// environment or the profile. A provider without one fails to start.
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// Profile is the shared config profile (~/.aws/config,
	// ~/.aws/credentials) to read; default AWS_PROFILE, else "default".
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty"`
	// AccessKeyID is the access key ID of static credentials, set with
	// secret_access_key or not at all, and not with profile. Set, static
	// credentials win over every other source.
	AccessKeyID Secret `yaml:"access_key_id,omitempty" json:"access_key_id,omitempty"`
	// SecretAccessKey is the secret access key of the static credentials
	// of access_key_id; set both or neither.
	SecretAccessKey Secret `yaml:"secret_access_key,omitempty" json:"secret_access_key,omitempty"`
	// SessionToken is the session token that goes with temporary static
	// credentials; only with access_key_id and secret_access_key.
	SessionToken Secret `yaml:"session_token,omitempty" json:"session_token,omitempty"`
	// API is the request shape: "converse" (default), Bedrock's Converse
	// and ConverseStream, for any model on Bedrock; or "anthropic",
	// InvokeModel and InvokeModelWithResponseStream with an Anthropic
	// Messages body, for Anthropic's models only, which serves every
	// Messages feature and forwards the bodies of /v1/messages clients
	// nearly untouched. Embeddings take InvokeModel either way.
	API string `yaml:"api,omitempty" json:"api,omitempty"`
}

// regionRE matches an AWS region name.
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)

// validateBedrock checks the fields of type bedrock only.
func (pr *Provider) validateBedrock(p *problems, path string) {
	if pr.Type != TypeBedrock {
		if pr.Bedrock != nil {
			p.add(fieldPath(path, "bedrock"), "only allowed for type %s", TypeBedrock)
		}
		return
	}
	if pr.APIKey != "" {
		p.add(fieldPath(path, "api_key"), "not used by type %s, which signs requests with AWS credentials: set bedrock.access_key_id and bedrock.secret_access_key, or leave them to the environment", TypeBedrock)
	}
	b := pr.Bedrock
	if b == nil {
		return
	}
	bp := fieldPath(path, "bedrock")
	if b.Region != "" && !regionRE.MatchString(b.Region) {
		p.add(fieldPath(bp, "region"), "not an AWS region name such as \"us-east-1\"")
	}
	if (b.AccessKeyID == "") != (b.SecretAccessKey == "") {
		p.add(bp, "set both access_key_id and secret_access_key, or neither")
	}
	if b.SessionToken != "" && b.AccessKeyID == "" {
		p.add(fieldPath(bp, "session_token"), "only with access_key_id and secret_access_key")
	}
	if b.Profile != "" && b.AccessKeyID != "" {
		p.add(bp, "set either profile or static credentials (access_key_id), not both")
	}
	switch b.API {
	case "", BedrockAPIConverse, BedrockAPIAnthropic:
	default:
		p.add(fieldPath(bp, "api"), "unknown api %q (want %s or %s)", b.API, BedrockAPIConverse, BedrockAPIAnthropic)
	}
}

// redactedBedrock returns a copy of b with its secrets redacted.
func redactedBedrock(b *Bedrock) *Bedrock {
	if b == nil {
		return nil
	}
	out := *b
	out.AccessKeyID = out.AccessKeyID.redacted()
	out.SecretAccessKey = out.SecretAccessKey.redacted()
	out.SessionToken = out.SessionToken.redacted()
	return &out
}

// awsCredentialVars are the environment variables through which the AWS
// SDK's default chain finds credentials without asking a server: static
// keys, a profile of the shared files, a web identity token (EKS, CI
// OIDC), a container's credentials endpoint (ECS, EKS Pod Identity). An
// instance role is left out: finding it means asking the instance
// metadata service, which a start with no config does not do.
var awsCredentialVars = []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"}

// bedrockFromEnv returns the provider "bedrock" when env holds AWS
// credentials (awsCredentialVars; AWS_ACCESS_KEY_ID only with
// AWS_SECRET_ACCESS_KEY) and a region (AWS_REGION, else
// AWS_DEFAULT_REGION). The credentials are left to the SDK's chain, which
// reads the same environment; the region is set.
func bedrockFromEnv(env func(string) (string, bool)) (Provider, bool) {
	get := func(k string) string {
		v, _ := env(k)
		return v
	}
	region := get("AWS_REGION")
	if region == "" {
		region = get("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return Provider{}, false
	}
	for _, k := range awsCredentialVars {
		if get(k) == "" || (k == "AWS_ACCESS_KEY_ID" && get("AWS_SECRET_ACCESS_KEY") == "") {
			continue
		}
		return Provider{Name: "bedrock", Type: TypeBedrock, Bedrock: &Bedrock{Region: region}}, true
	}
	return Provider{}, false
}
