// Package openapispec is test support: OpenAI's published OpenAPI document
// (testdata/openai-openapi.yaml at the repository root), loaded once per
// test binary, and the validation of bodies against its component schemas.
// Only tests import it.
package openapispec
