package meta

import (
	"strconv"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// exportHeader follows the columns of Events Manager's offline event upload
// (one identifier per column, already SHA-256 hashed with Meta's
// normalization, which the upload accepts), plus event_id and fbc so that
// the upload deduplicates against what the API may still send and keeps
// the click.
var exportHeader = []string{
	"event_name", "event_time", "event_id", "action_source",
	"email", "phone", "fn", "ln", "ct", "st", "zip", "country", "extern_id", "fbc",
	"value", "currency", "order_id",
}

// ExportFormat implements destination.Exporter.
func (c *Client) ExportFormat() string { return "meta-offline-events" }

// ExportHeader implements destination.Exporter.
func (c *Client) ExportHeader() []string { return exportHeader }

// ExportRow implements destination.Exporter: the same mapping as the API,
// so the file carries exactly the hashes a request would have.
func (c *Client) ExportRow(ev *event.Event) ([]string, error) {
	se, _, err := c.cfg.Map(ev)
	if err != nil {
		return nil, err
	}
	first := func(v []string) string {
		if len(v) == 0 {
			return ""
		}
		return v[0]
	}
	u := se.UserData
	row := []string{
		se.EventName, time.Unix(se.EventTime, 0).UTC().Format(time.RFC3339), se.EventID, se.ActionSource,
		first(u.Em), first(u.Ph), first(u.Fn), first(u.Ln), first(u.Ct), first(u.St), first(u.Zp), first(u.Country),
		first(u.ExternalID), u.Fbc, "", "", "",
	}
	if cd := se.CustomData; cd != nil {
		if cd.Value != nil {
			row[14] = strconv.FormatFloat(*cd.Value, 'f', -1, 64)
		}
		row[15] = strings.ToUpper(cd.Currency)
		row[16] = cd.OrderID
	}
	return row, nil
}

var _ destination.Exporter = (*Client)(nil)
