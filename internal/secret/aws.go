package secret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/llmgw/llmgw/internal/config"
)

// awsConn is a Secrets Manager client.
type awsConn struct {
	key    string
	client *secretsmanager.Client
}

// awsFor returns the client for the section s, made again when it
// changed. Credentials and region come from the SDK's default chain.
func (r *Resolver) awsFor(ctx context.Context, s *config.Secrets) (*awsConn, error) {
	var a config.AWSSecrets
	if s.AWS != nil {
		a = *s.AWS
	}
	key := a.Region + "\x00" + a.Endpoint
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.aws != nil && r.aws.key == key {
		return r.aws, nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if a.Region != "" {
		opts = append(opts, awsconfig.WithRegion(a.Region))
	}
	if r.o.HTTPClient != nil {
		opts = append(opts, awsconfig.WithHTTPClient(r.o.HTTPClient))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("Secrets Manager client: %v", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("Secrets Manager: no AWS region (set secrets.aws.region or AWS_REGION)")
	}
	c := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if a.Endpoint != "" {
			o.BaseEndpoint = aws.String(a.Endpoint)
		}
		// Secrets Manager's replies are bounded like every secret
		// service's; the SDK's own client (its CA bundle, its timeouts)
		// still makes the calls.
		o.HTTPClient = boundedDoer{next: o.HTTPClient}
	})
	r.aws = &awsConn{key: key, client: c}
	return r.aws, nil
}

// readAWS returns the secret ref names: its string, or the string member
// of its JSON object.
func (r *Resolver) readAWS(ctx context.Context, s *config.Secrets, ref config.AWSRef) (string, error) {
	timeout := config.DefaultAWSTimeout
	if s.AWS != nil && s.AWS.Timeout > 0 {
		timeout = s.AWS.Timeout.Std()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := r.awsFor(ctx, s)
	if err != nil {
		return "", err
	}
	out, err := c.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.SecretID)})
	if err != nil {
		return "", awsErr(err)
	}
	if out.SecretString == nil {
		return "", errors.New("Secrets Manager: the secret has no string value (a binary secret)")
	}
	v := *out.SecretString
	if ref.Key != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return "", errors.New("Secrets Manager: the secret is not a JSON object, so it has no keys")
		}
		raw, ok := m[ref.Key]
		if !ok {
			return "", fmt.Errorf("Secrets Manager: the secret has no key %q", ref.Key)
		}
		if v, ok = raw.(string); !ok {
			return "", fmt.Errorf("Secrets Manager: the key %q is not a string", ref.Key)
		}
	}
	if v == "" {
		return "", errors.New("Secrets Manager: the value is empty")
	}
	return v, nil
}

// awsErr says what went wrong: the service's error code and HTTP
// status, or that it could not be reached.
func awsErr(err error) error {
	if errors.Is(err, errReplyTooLarge) {
		return fmt.Errorf("Secrets Manager: %w", errReplyTooLarge)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		status := 0
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		msg := ae.ErrorCode()
		switch msg {
		case "AccessDeniedException":
			msg = "permission denied (" + msg + ")"
		case "ResourceNotFoundException":
			msg = "not found (" + msg + ")"
		}
		if status != 0 {
			return fmt.Errorf("Secrets Manager: %s (%d)", msg, status)
		}
		return fmt.Errorf("Secrets Manager: %s", msg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("Secrets Manager is unreachable: no answer within secrets.aws.timeout")
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		return fmt.Errorf("Secrets Manager: %s (%d)", http.StatusText(re.HTTPStatusCode()), re.HTTPStatusCode())
	}
	return fmt.Errorf("Secrets Manager is unreachable: %v", err)
}
