package main

import (
	"context"

	"github.com/signpost-uk/signpost"
)

// runShift is replaced by the channel-shift work (issue 4).
func runShift(_ context.Context, _ []string, _ *environment) error {
	return signpost.Errorf(signpost.EINVALID, "shift is not available yet")
}
