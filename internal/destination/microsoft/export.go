package microsoft

import (
	"strconv"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// exportHeader follows Microsoft Advertising's offline conversion import
// file: the same five fields ApplyOfflineConversions takes. While the
// platform is down, the degraded path writes near-expiry events to it, to be
// imported in the Microsoft Advertising UI. Only events with an msclkid can
// be imported; for api uet the conversion name is the UET event name, so an
// offline goal of that name must exist before the import.
var exportHeader = []string{"Microsoft Click ID", "Conversion Name", "Conversion Time", "Conversion Value", "Conversion Currency"}

// ExportFormat implements destination.Exporter.
func (c *Client) ExportFormat() string { return "microsoft-offline-conversions" }

// ExportHeader implements destination.Exporter.
func (c *Client) ExportHeader() []string { return exportHeader }

// ExportRow implements destination.Exporter with the offline mapping, so a
// row holds exactly what ApplyOfflineConversions would have been sent; no
// personal data is in the file.
func (c *Client) ExportRow(ev *event.Event) ([]string, error) {
	cfg := c.cfg
	if cfg.API == APIUET {
		// The file is an offline import whichever api sends: name the
		// conversion as the UET event is named.
		name, _ := cfg.EventName(ev.EventName)
		cfg.API, cfg.EventNames = APIOffline, map[string]string{ev.EventName: name}
	}
	oc, err := cfg.MapOffline(ev)
	if err != nil {
		return nil, err
	}
	row := []string{oc.MicrosoftClickID, oc.ConversionName, oc.ConversionTime, "", oc.ConversionCurrencyCode}
	if oc.ConversionValue != nil {
		row[3] = strconv.FormatFloat(*oc.ConversionValue, 'f', -1, 64)
	}
	return row, nil
}

var _ destination.Exporter = (*Client)(nil)
