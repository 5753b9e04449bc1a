package quality

import "fmt"

// HealthLevel is a destination's traffic light.
type HealthLevel string

// Health levels.
const (
	Green HealthLevel = "green"
	Amber HealthLevel = "amber"
	Red   HealthLevel = "red"
)

// Health is a destination's overall state and why.
type Health struct {
	Level   HealthLevel `json:"level"`
	Reasons []string    `json:"reasons"`
}

// Health thresholds: a destination is red when its platform is down (the
// breaker is open), when a fifth of its events fail, or when events were
// routed to it but none was delivered; amber when one in twenty fails, when
// p95 freshness passes an hour, when its match-quality estimate is under 4
// of 10, when events went the degraded path (exported, or sent without the
// process state), or while an alert on it fires.
const (
	redErrorRate     = 0.20
	amberErrorRate   = 0.05
	amberP95Seconds  = 3600
	amberMatchScore  = 4.0
	minEventsToJudge = 20
)

// assess rates one destination from its figures, its breaker state and the
// alerts firing on it.
func assess(f Figures, breaker string, alerts []Alert, dest string) Health {
	h := Health{Level: Green}
	raise := func(l HealthLevel, why string) {
		if l == Red || h.Level == Green {
			h.Level = l
		}
		h.Reasons = append(h.Reasons, why)
	}
	terminal := f.Delivered + f.Rejected + f.Expired + f.DegradedExported
	switch breaker {
	case "open":
		raise(Red, "circuit breaker open: the platform is failing, the backlog waits in Kafka")
	case "half_open":
		raise(Amber, "circuit breaker probing the platform after an outage")
	}
	if terminal >= minEventsToJudge {
		switch {
		case f.ErrorRate >= redErrorRate:
			raise(Red, fmt.Sprintf("%.1f%% of events rejected or expired", 100*f.ErrorRate))
		case f.ErrorRate >= amberErrorRate:
			raise(Amber, fmt.Sprintf("%.1f%% of events rejected or expired", 100*f.ErrorRate))
		}
		if f.Delivered == 0 {
			raise(Red, "nothing delivered in this period")
		}
	}
	if f.Freshness.Samples >= minEventsToJudge && f.Freshness.P95Seconds > amberP95Seconds {
		raise(Amber, fmt.Sprintf("p95 freshness %s", secs(f.Freshness.P95Seconds)))
	}
	if f.Delivered >= minEventsToJudge && f.MatchQualityEstimate < amberMatchScore {
		raise(Amber, fmt.Sprintf("match-quality estimate %.1f of 10", f.MatchQualityEstimate))
	}
	if f.DegradedExported > 0 {
		raise(Amber, fmt.Sprintf("%d events exported on the degraded path", f.DegradedExported))
	}
	if f.DegradedEnrichment > 0 {
		raise(Amber, fmt.Sprintf("%d events sent without enrichment or dedupe (process state unavailable)", f.DegradedEnrichment))
	}
	for _, a := range alerts {
		if a.State == AlertFiring && a.Destination == dest {
			raise(Amber, "alert firing: "+a.Rule)
		}
	}
	if h.Level == Green {
		if terminal == 0 {
			h.Reasons = []string{"no outcomes in this period"}
		} else {
			h.Reasons = []string{fmt.Sprintf("%.1f%% delivered", 100*f.DeliveryRate)}
		}
	}
	return h
}
