package google

import (
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// ExportFormat implements destination.Exporter: Google Ads' conversions-
// from-clicks import file (see googleapi.ClickExportHeader).
func (c *Client) ExportFormat() string { return googleapi.ClickExportFormat }

// ExportHeader implements destination.Exporter.
func (c *Client) ExportHeader() []string { return googleapi.ClickExportHeader }

// ExportRow implements destination.Exporter with the API's normalization.
func (c *Client) ExportRow(ev *event.Event) ([]string, error) {
	if !c.cfg.Accepts(ev.EventName) {
		return nil, &destination.PermanentError{Reason: "event_not_mapped", Detail: "event name " + ev.EventName + " is not configured for " + c.cfg.Name}
	}
	return c.cfg.ClickExportRow(ev, c.cfg.DefaultPhoneRegion)
}

var _ destination.Exporter = (*Client)(nil)
