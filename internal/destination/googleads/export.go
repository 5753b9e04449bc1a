package googleads

import (
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
	"github.com/signalpipe/signalpipe/internal/event"
)

// ExportFormat implements destination.Exporter: Google Ads' import file for
// the entry's upload kind, clicks or adjustments.
func (c *Client) ExportFormat() string {
	if c.cfg.Upload == UploadAdjustments {
		return googleapi.AdjustmentExportFormat
	}
	return googleapi.ClickExportFormat
}

// ExportHeader implements destination.Exporter.
func (c *Client) ExportHeader() []string {
	if c.cfg.Upload == UploadAdjustments {
		return googleapi.AdjustmentExportHeader
	}
	return googleapi.ClickExportHeader
}

// ExportRow implements destination.Exporter with the API's normalization.
func (c *Client) ExportRow(ev *event.Event) ([]string, error) {
	if err := c.cfg.accepts(ev); err != nil {
		return nil, err
	}
	if c.cfg.Upload == UploadAdjustments {
		return c.cfg.AdjustmentExportRow(ev, c.cfg.AdjustmentTypes[ev.EventName])
	}
	return c.cfg.ClickExportRow(ev, c.cfg.DefaultPhoneRegion)
}

var _ destination.Exporter = (*Client)(nil)
