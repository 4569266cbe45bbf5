package main

import (
	"context"

	"github.com/signpost-uk/signpost"
)

// runCheck is replaced by the screening work (issue 3).
func runCheck(_ context.Context, _ []string, _ *environment) error {
	return signpost.Errorf(signpost.EINVALID, "check is not available yet")
}
