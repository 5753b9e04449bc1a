package config

import (
	"strings"
	"testing"
	"time"
)

func TestQualityConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error; none means it loads
	}{
		{"defaults", "", nil},
		{"a full rule", "quality: {alerts: {rules: [{name: e, kind: error_rate, destination: meta, threshold: 0.1, window: 15m, for: 5m}]}}", nil},
		{"unknown key in a rule", "quality: {alerts: {rules: [{name: e, kind: error_rate, threshold: 0.1, treshold: 2}]}}", []string{"treshold"}},
		{"unknown kind", "quality: {alerts: {rules: [{name: e, kind: vibes}]}}", []string{"quality.alerts.rules[0].kind"}},
		{"rate above one", "quality: {alerts: {rules: [{name: e, kind: error_rate, threshold: 5}]}}", []string{"quality.alerts.rules[0].threshold"}},
		{"unknown destination", "quality: {alerts: {rules: [{name: e, kind: breaker_open, destination: tiktok}]}}", []string{"quality.alerts.rules[0].destination", "tiktok"}},
		{"unknown match key", "quality: {alerts: {rules: [{name: c, kind: coverage_drop, match_key: shoe_size, threshold: 0.2}]}}", []string{"quality.alerts.rules[0].match_key"}},
		{"two rules, one name", "quality: {alerts: {rules: [{name: a, kind: breaker_open}, {name: a, kind: breaker_open}]}}", []string{"quality.alerts.rules[1].name"}},
		{"retention too short", "quality: {retention: {minutes: 1m}}", []string{"quality.retention.minutes"}},
		{"snapshots too often", "quality: {snapshot_every: 100ms}", []string{"quality.snapshot_every", "100ms"}},
		{"snapshot_every set", "quality: {snapshot_every: 5m}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Decode(strings.NewReader(minimal + tt.yaml + "\n"))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if c.Quality.Retention.Hours != 35*24*time.Hour || c.Quality.Alerts.EvaluateEvery == 0 || c.Quality.SnapshotEvery == 0 {
					t.Errorf("defaults not applied: %+v", c.Quality)
				}
				for _, r := range c.Quality.Alerts.Rules {
					if r.Window == 0 {
						t.Errorf("rule %s has no window", r.Name)
					}
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
