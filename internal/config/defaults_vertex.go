package config

import "strings"

// vertexFromEnv returns the provider "vertex" and its models "vertex/*"
// when the environment names the credentials and the project the way
// Google's client libraries read them: GOOGLE_APPLICATION_CREDENTIALS (the
// path of a credentials file) and GOOGLE_CLOUD_PROJECT, with the location
// from GOOGLE_CLOUD_LOCATION (or GOOGLE_CLOUD_REGION, as the Gen AI SDK
// also reads), "global" when neither is set. ok is false when either of
// the first two is missing.
func vertexFromEnv(env func(string) (string, bool)) (Provider, Model, bool) {
	get := func(k string) string {
		v, _ := env(k)
		return strings.TrimSpace(v)
	}
	file, project := get("GOOGLE_APPLICATION_CREDENTIALS"), get("GOOGLE_CLOUD_PROJECT")
	if file == "" || project == "" {
		return Provider{}, Model{}, false
	}
	location := get("GOOGLE_CLOUD_LOCATION")
	if location == "" {
		location = get("GOOGLE_CLOUD_REGION")
	}
	p := Provider{Name: "vertex", Type: TypeVertex,
		Vertex: &Vertex{Project: project, Location: location, CredentialsFile: file}}
	m := Model{Name: "vertex/*", Targets: []Target{{Provider: "vertex", Model: "*", Weight: 1}}}
	return p, m, true
}
