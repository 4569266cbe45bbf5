package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/inbox"
	"github.com/signpost-uk/signpost/store"
)

// TestInboxExportAndPurge exports a resident's data, then applies a
// retention period that removes it; both are audited and neither prints
// message text to the log.
func TestInboxExportAndPurge(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.must("migrate")
	ctx := context.Background()
	db, err := store.Open(ctx, c.vars["SIGNPOST_DB"])
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-400 * 24 * time.Hour)
	id, _, err := db.Ingest(ctx, inbox.Incoming{Channel: "form", Kind: "form", ExternalID: "f1", Author: "ann@example.org", Text: "Where is my bin?", ReceivedAt: old})
	if err == nil {
		m, _ := db.Message(ctx, id)
		err = db.UpdateInbox(ctx, func(tx *store.Tx) error { return tx.SetConversationStatus(ctx, m.ConversationID, inbox.StatusClosed) })
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	out := c.must("inbox", "export", "--who", "ANN@example.org")
	var data store.SubjectData
	if err := json.Unmarshal([]byte(out), &data); err != nil || len(data.Messages) != 1 || data.Messages[0].Text != "Where is my bin?" {
		t.Fatalf("export = %v %q", err, out)
	}
	if _, _, err := c.run("", "inbox", "export"); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("export without --who: %v", err)
	}
	if _, _, err := c.run("", "inbox", "purge"); signpost.ErrorCode(err) != signpost.EINVALID {
		t.Errorf("purge without a period: %v", err)
	}
	out, logs, err := c.run("", "inbox", "purge", "--older-than", "8760h")
	if err != nil || !strings.Contains(out, "deleted 1 conversations (1 messages, 0 replies, 0 notes)") || strings.Contains(logs, "bin") {
		t.Errorf("purge: %q %q %v", out, logs, err)
	}
	if out := c.must("inbox", "export", "--who", "ann@example.org"); strings.Contains(out, "bin") {
		t.Errorf("data still held after purge: %q", out)
	}
	audit := c.must("audit", "list")
	if !strings.Contains(audit, "export") || !strings.Contains(audit, "purge") || strings.Contains(audit, "ann@example.org") {
		t.Errorf("audit = %q", audit)
	}
}
