package quality

import (
	"encoding/csv"
	"io"
	"strconv"
)

// csvHeader names the CSV columns: one row per scope (total, destination,
// event_name, source) and name.
var csvHeader = []string{
	"scope", "name", "received", "valid", "invalid", "deduplicated", "suppressed", "consent_suppressed", "routed",
	"delivered", "rejected", "retried", "expired", "degraded_exported", "delivery_rate", "error_rate",
	"match_quality_estimate", "coverage_email", "coverage_phone", "coverage_external_id", "coverage_click_id",
	"coverage_fbc_fbp", "coverage_ip_ua", "coverage_address", "freshness_p50_s", "freshness_p95_s", "freshness_p99_s",
	"share_older_1h", "share_older_24h", "value_received", "value_sent", "currency_problems", "event_id_share",
}

func csvRow(scope, name string, f Figures) []string {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	g := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	row := []string{scope, name, i(f.Received), i(f.Valid), i(f.Invalid), i(f.Deduplicated), i(f.Suppressed),
		i(f.ConsentSuppressed), i(f.Routed), i(f.Delivered), i(f.Rejected), i(f.Retried), i(f.Expired),
		i(f.DegradedExported), g(f.DeliveryRate), g(f.ErrorRate), g(f.MatchQualityEstimate)}
	for _, k := range KeyKindNames {
		row = append(row, g(f.Coverage[k]))
	}
	fr := f.Freshness
	return append(row, g(fr.P50Seconds), g(fr.P95Seconds), g(fr.P99Seconds), g(fr.OlderThan1h), g(fr.OlderThan24h),
		g(f.ValueReceived), g(f.ValueSent), i(f.CurrencyProblems), g(f.EventIDShare))
}

// WriteCSV writes r's totals and breakdowns as CSV.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	_ = cw.Write(csvRow("total", "", r.Totals))
	for _, s := range []struct {
		scope string
		rows  []Breakdown
	}{{"destination", r.Destinations}, {"event_name", r.EventNames}, {"source", r.Sources}} {
		for _, b := range s.rows {
			_ = cw.Write(csvRow(s.scope, b.Name, b.Figures))
		}
	}
	cw.Flush()
	return cw.Error()
}
