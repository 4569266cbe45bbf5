package store_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/signpost-uk/signpost/shift"
	"github.com/signpost-uk/signpost/shift/shifttest"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// BenchmarkShiftReport times the full channel-shift report read from the
// database: ten years × 20 categories × 6 channels of daily counts, the
// campaign targeting all 20 categories. The budget is 200 ms per report.
//
//	go test -run '^$' -bench BenchmarkShiftReport -benchtime 10x ./store
//
// (set SIGNPOST_TEST_POSTGRES to include PostgreSQL).
func BenchmarkShiftReport(b *testing.B) {
	data := shifttest.Bench()
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			ctx := context.Background()
			err := db.Update(ctx, func(tx *store.Tx) error {
				for _, w := range data.Weather {
					if err := tx.PutWeather(ctx, w); err != nil {
						return err
					}
				}
				for _, c := range data.Campaigns {
					if err := tx.PutCampaign(ctx, c); err != nil {
						return err
					}
				}
				return tx.PutContacts(ctx, data.Contacts)
			})
			if err != nil {
				b.Fatal(err)
			}
			camp := data.Campaigns[0]
			opt := shift.Options{}
			cpu := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				d, err := db.ShiftData(ctx, camp.Start.AddDate(0, 0, -1096-7), camp.End)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := shift.Estimate(d, camp.Name, opt); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time per report (this process only), which a busy
			// machine inflates far less than wall-clock time.
			b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
