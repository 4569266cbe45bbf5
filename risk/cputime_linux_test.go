package risk

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time this OS thread has used, so a benchmark on a
// busy shared machine can report throughput per core rather than per
// wall-clock second. Callers lock the goroutine to its thread.
func threadCPU() (time.Duration, bool) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
