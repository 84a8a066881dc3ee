package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
)

// exceptionStatus is the HTTP status each Bedrock runtime exception stands
// for, as the API reference lists them. It decides the error's kind
// through the one table of upstream statuses (provider.StatusMappings),
// also for exceptions that arrive inside an event stream, which have no
// status of their own. Two differ from the reference on purpose:
// ServiceQuotaExceededException (400 there) is the account's quota, not a
// fault of the request, so it counts as 429; ModelNotReadyException (429
// there) is a model still loading: unavailable, 503.
var exceptionStatus = map[string]int{
	"ValidationException":                 http.StatusBadRequest,
	"AccessDeniedException":               http.StatusForbidden,
	"UnrecognizedClientException":         http.StatusForbidden,
	"InvalidSignatureException":           http.StatusForbidden,
	"ExpiredTokenException":               http.StatusForbidden,
	"ResourceNotFoundException":           http.StatusNotFound,
	"ModelTimeoutException":               http.StatusRequestTimeout,
	"ConflictException":                   http.StatusConflict,
	"ModelErrorException":                 http.StatusFailedDependency,
	"ModelStreamErrorException":           http.StatusFailedDependency,
	"ThrottlingException":                 http.StatusTooManyRequests,
	"ServiceQuotaExceededException":       http.StatusTooManyRequests,
	"InternalServerException":             http.StatusInternalServerError,
	"ServiceUnavailableException":         http.StatusServiceUnavailable,
	"ModelNotReadyException":              http.StatusServiceUnavailable,
	"ServiceUnavailable":                  http.StatusServiceUnavailable,
	"InternalFailure":                     http.StatusInternalServerError,
	"RequestTimeoutException":             http.StatusRequestTimeout,
	"ThrottledException":                  http.StatusTooManyRequests,
	"IncompleteSignatureException":        http.StatusForbidden,
	"MissingAuthenticationTokenException": http.StatusForbidden,
}

// contextRE matches Bedrock's words for a prompt over the model's context
// window ("Input is too long for requested model.").
var contextRE = regexp.MustCompile(`(?i)input is too long|too many input tokens|exceeds? the (model's )?(maximum )?context`)

// apiError turns an error of the SDK into an *llm.Error. An exception the
// service answered (a status with a JSON body, or an exception event in a
// stream) goes through the one table of upstream statuses as if it were
// that status with that message; a failure to reach the service is a
// transport error; an *llm.Error from the gateway's own parts (the
// credentials, the body limit) is returned as it is.
func (p *Provider) apiError(err error) error {
	var le *llm.Error
	if errors.As(err, &le) {
		return provider.TransportError(p.name, le)
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		// A 2xx answer (or a stream event) that is not what the API
		// promises.
		return p.up.Malformed(err, malformedChat)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return provider.TransportError(p.name, err)
	}
	status := 0
	h := http.Header{}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		status = re.HTTPStatusCode()
		h = re.Response.Header.Clone()
	}
	if s, ok := exceptionStatus[ae.ErrorCode()]; ok {
		status = s
	}
	if status == 0 {
		status = http.StatusBadGateway
	}
	body, _ := json.Marshal(wireError{Message: ae.ErrorMessage(), Type: ae.ErrorCode()})
	resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body))}
	return p.up.ResponseError(resp)
}

// wireError is Bedrock's error body: {"message": "..."}, the exception's
// name in the X-Amzn-ErrorType header (the SDK reads it); apiError writes
// the name as "__type", where the JSON protocol's other services put it.
type wireError struct {
	Message string `json:"message"`
	Type    string `json:"__type,omitempty"`
}

// parseError reads the message and exception name of an error body.
func parseError(body []byte) (message, code string) {
	var w wireError
	if json.Unmarshal(body, &w) != nil {
		return "", ""
	}
	code = w.Type
	if code == "ValidationException" && contextRE.MatchString(w.Message) {
		code = "context_length_exceeded"
	}
	return w.Message, code
}
