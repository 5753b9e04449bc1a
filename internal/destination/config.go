package destination

import (
	"net/http"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Config is what every platform's configuration block provides, so that the
// config loader, the app and the CLI treat all platforms alike and a new
// platform needs no switch anywhere: it is one field in config.Destination
// and one line in its block list.
type Config interface {
	// SetName gives the block its destination's name (used in topics,
	// outcomes and reports); call it before ApplyDefaults.
	SetName(name string)
	// ApplyDefaults fills unset fields with the platform's named defaults.
	ApplyDefaults()
	// Validate checks the fields without I/O; error keys are relative to
	// the block (e.g. "pixel_id").
	Validate() error
	// Settings returns the delivery settings shared by every platform.
	Settings() *Delivery
	// Open builds the destination. Secrets are read through getenv from the
	// environment variables the block names; hc nil means the platform's
	// own HTTP client with its configured timeout.
	Open(getenv func(string) string, hc *http.Client) (Destination, error)
}

// Request is an HTTP request as a destination would send it, for
// `signalpipe preview`: secrets are replaced by where they come from.
type Request struct {
	Method string
	URL    string
	// Header lines, "Name: value", in a stable order.
	Header []string
	Body   []byte
}

// Previewer is implemented by destinations that can show the request a batch
// would become without sending it.
type Previewer interface {
	Preview(batch []Prepared) (Request, error)
}

// Exporter is implemented by destinations whose platform takes an
// offline-upload file. While the platform is down, the deliver stage's
// degraded path writes events that near the platform's age limit to such a
// file instead of letting them expire; destinations without one get a
// generic CSV. Rows carry identifiers only as the platform's hashes.
type Exporter interface {
	// ExportFormat names the format, e.g. "meta-offline-events".
	ExportFormat() string
	// ExportHeader is the file's first row.
	ExportHeader() []string
	// ExportRow is one event's row; its error is a *PermanentError.
	ExportRow(ev *event.Event) ([]string, error)
}
