package store_test

import (
	"context"
	"testing"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

func TestReplySends(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first, err := db.BeginReplySend(ctx, "reply-1", "masto")
		if err != nil || first.Attempts != 1 || first.FirstAt.IsZero() || first.ExternalID != "" || first.Channel != "masto" {
			t.Fatalf("first attempt: %+v, %v", first, err)
		}
		second, err := db.BeginReplySend(ctx, "reply-1", "masto")
		if err != nil || second.Attempts != 2 || !second.FirstAt.Equal(first.FirstAt) {
			t.Fatalf("second attempt: %+v, %v (first %v)", second, err, first.FirstAt)
		}
		if err := db.FinishReplySend(ctx, "reply-1", "110001"); err != nil {
			t.Fatal(err)
		}
		third, err := db.BeginReplySend(ctx, "reply-1", "masto")
		if err != nil || third.ExternalID != "110001" || third.Attempts != 3 {
			t.Errorf("after finishing: %+v, %v", third, err)
		}
		if other, _ := db.BeginReplySend(ctx, "reply-2", "masto"); other.Attempts != 1 {
			t.Errorf("another key: %+v", other)
		}
		if _, err := db.BeginReplySend(ctx, " ", "masto"); signpost.ErrorCode(err) != signpost.EINVALID {
			t.Errorf("empty key: %v", err)
		}
		if err := db.FinishReplySend(ctx, "never-begun", "1"); err == nil {
			t.Error("finishing an unknown reply succeeded")
		}
	})
}
