//go:build !linux

package risk

import "time"

// threadCPU is not available here; benchmarks report wall-clock figures only.
func threadCPU() (time.Duration, bool) { return 0, false }
