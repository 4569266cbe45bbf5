package audit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// BenchmarkAppend measures one audited transaction on SQLite.
func BenchmarkAppend(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		err := db.UpdateAccounts(ctx, func(tx *store.Tx) error {
			_, err := audit.Append(ctx, tx, audit.Record{Actor: "user:a@northdale.gov.uk", Action: audit.Edit,
				Target: fmt.Sprintf("notice:%d", i), After: map[string]string{"headline": "Roads gritted"}})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures verifying a 10,000-entry log on SQLite.
func BenchmarkVerify(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	ctx := context.Background()
	err := db.UpdateAccounts(ctx, func(tx *store.Tx) error {
		for i := range 10000 {
			if _, err := audit.Append(ctx, tx, audit.Record{Actor: "user:a@northdale.gov.uk", Action: audit.Edit,
				Target: fmt.Sprintf("notice:%d", i), After: map[string]string{"headline": "Roads gritted"}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		rep, err := audit.Verify(ctx, db)
		if err != nil || rep.Broken != nil || rep.Entries != 10000 {
			b.Fatalf("verify = %+v, %v", rep, err)
		}
	}
}
