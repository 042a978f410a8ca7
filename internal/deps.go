package deps
import (
 _ "github.com/spf13/cobra"
 _ "github.com/goccy/go-yaml"
 _ "github.com/CycloneDX/cyclonedx-go"
 _ "github.com/tailscale/hujson"
)
