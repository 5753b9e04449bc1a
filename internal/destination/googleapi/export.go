package googleapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// The offline-upload files the Google destinations write for the deliver
// stage's degraded path (destination.Exporter): Google Ads' import
// templates for conversions from clicks (with the enhanced-conversions-for-
// leads columns, hashed by Google's rules, which the import accepts) and for
// conversion adjustments. Conversion Time is written with its offset
// ("2026-11-20 10:00:00+00:00"), so the file needs no Parameters:TimeZone
// row. The adjustment template's column names and type spellings are from
// memory of Google's template (unconfirmed).
var (
	// ClickExportHeader is the conversions-from-clicks file's first row.
	ClickExportHeader = []string{"Google Click ID", "Email", "Phone Number", "Conversion Name", "Conversion Time",
		"Conversion Value", "Conversion Currency", "Order ID"}
	// AdjustmentExportHeader is the adjustments file's first row.
	AdjustmentExportHeader = []string{"Order ID", "Conversion Name", "Adjustment Time", "Adjustment Type",
		"Adjusted Value", "Adjusted Value Currency"}
)

// The export formats, for destination.Exporter.ExportFormat.
const (
	ClickExportFormat      = "google-ads-click-conversions"
	AdjustmentExportFormat = "google-ads-conversion-adjustments"
)

// DateTime renders t as Google Ads writes times: "yyyy-mm-dd hh:mm:ss+|-hh:mm",
// in UTC (Google needs an offset, not the account's zone).
func DateTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05-07:00") }

// ConversionName is the import file's Conversion Name for an event: the
// name conversion_action_names gives its action, else the action's id
// (which the import refuses; the docs say to set the names).
func (c ConversionActions) ConversionName(eventName string) string {
	id := c.ActionFor(eventName)
	if n, ok := c.ConversionActionNames[id]; ok {
		return n
	}
	return id
}

// ClickExportRow is one conversions-from-clicks row. Only a gclid fills the
// click column (the template has none for gbraid/wbraid); an event without
// gclid, e-mail or phone cannot be imported and is refused.
func (c ConversionActions) ClickExportRow(ev *event.Event, defaultRegion string) ([]string, error) {
	id, _ := NewIdentity(ev, defaultRegion)
	gclid := ev.Context.ClickIDs.Gclid
	if gclid == "" && id.Email == "" && id.Phone == "" {
		return nil, &destination.PermanentError{Reason: "no_match_keys", Detail: "the import file needs a gclid, e-mail or phone"}
	}
	order := ev.Properties.OrderID
	if order == "" {
		order = ev.EventID
	}
	return []string{gclid, id.Email, id.Phone, c.ConversionName(ev.EventName), DateTime(ev.EventTime),
		value(ev), strings.ToUpper(ev.Properties.Currency), order}, nil
}

// AdjustmentExportRow is one adjustments row of type typ.
func (c ConversionActions) AdjustmentExportRow(ev *event.Event, typ string) ([]string, error) {
	if ev.Properties.OrderID == "" {
		return nil, &destination.PermanentError{Reason: "missing_order_id", Detail: "adjustments name the original conversion by its order id"}
	}
	v, cur := "", ""
	if typ == "RESTATEMENT" {
		v, cur = value(ev), strings.ToUpper(ev.Properties.Currency)
	}
	return []string{ev.Properties.OrderID, c.ConversionName(ev.EventName), DateTime(ev.EventTime), typ, v, cur}, nil
}

func value(ev *event.Event) string {
	if ev.Properties.Value == nil {
		return ""
	}
	return strconv.FormatFloat(*ev.Properties.Value, 'f', -1, 64)
}
