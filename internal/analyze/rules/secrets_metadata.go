package rules

import (
	"regexp"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// CloudMetadata catches code addressing cloud instance-metadata services.
var CloudMetadata = &Rule{
	ID:       "VGL-A052",
	Name:     "cloud-metadata",
	Severity: High,
	Category: CatSecrets,
	Summary: "A string names a cloud instance-metadata endpoint (169.254.169.254, fd00:ec2::254, " +
		"metadata.google.internal, Alibaba's 100.100.100.200) — medium, high in a file an install script runs.",
	Why: "The metadata service hands out the machine's cloud credentials to any local process: from a CI " +
		"runner or a build server, that is a key to the whole account.",
	FalsePositives: "Cloud SDKs and their credential providers (aws-sdk, @aws-sdk/credential-provider-imds, " +
		"gcp-metadata, google-auth-library) query it by design: medium alone, never suspicious on its own.",
	Check: checkCloudMetadata,
}

var metadataHosts = regexp.MustCompile(`169\.254\.169\.254|fd00:ec2::254|metadata\.google\.internal|100\.100\.100\.200`)

func checkCloudMetadata(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		for _, s := range f.JS.Strings {
			if m := metadataHosts.FindString(s.Value); m != "" {
				where := ""
				if f.InstallTime {
					where = " in a file run at install time"
				}
				out = append(out, at(installBump(Medium, f), f, s.Pos, "addresses the cloud metadata endpoint %s%s", m, where))
				return
			}
		}
	})
	return out
}
