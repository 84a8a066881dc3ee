package config

import "regexp"

var (
	// vertexLocation: a location is part of a host name.
	vertexLocation = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	// vertexProject: project ids, domain-scoped ones included
	// ("example.com:my-project").
	vertexProject = regexp.MustCompile(`^[a-z0-9][a-z0-9.:-]{0,126}$`)
)

// validateVertex checks the fields of type vertex only.
func (pr *Provider) validateVertex(p *problems, path string) {
	vp := fieldPath(path, "vertex")
	if pr.Type != TypeVertex {
		if pr.Vertex != nil {
			p.add(vp, "only allowed for type %s", TypeVertex)
		}
		return
	}
	if pr.APIKey != "" {
		p.add(fieldPath(path, "api_key"), "not used by type %s: it authenticates with vertex.credentials, vertex.credentials_file or Application Default Credentials", TypeVertex)
	}
	v := pr.Vertex
	if v == nil {
		p.add(vp, "required for type %s (at least vertex.project)", TypeVertex)
		return
	}
	switch {
	case v.Project == "":
		p.add(fieldPath(vp, "project"), "required")
	case !vertexProject.MatchString(v.Project):
		p.add(fieldPath(vp, "project"), "not a Google Cloud project id")
	}
	if !vertexLocation.MatchString(v.Location) {
		p.add(fieldPath(vp, "location"), "want a region such as \"us-central1\", \"us\", \"eu\" or \"global\"")
	}
	if v.Credentials != "" && v.CredentialsFile != "" {
		p.add(vp, "set at most one of credentials and credentials_file")
	}
}
