package fake

import (
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/signpost-uk/signpost/netsafe"
)

// Client returns the production HTTP client (netsafe's), with loopback
// allowed explicitly so it can reach the fakes, and a short timeout so
// injected hangs end quickly.
func Client() *http.Client {
	return netsafe.NewClient(netsafe.Options{
		Allow:   []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Timeout: 2 * time.Second,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}
