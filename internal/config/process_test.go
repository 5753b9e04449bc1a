package config

import (
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

func TestProcessSectionErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"bad policy", "process: {consent: {denied: maybe}}", "process.consent.denied"},
		{"bad destination policy", "process: {consent: {destinations: {meta: {unknown: maybe}}}}", "process.consent.destinations.meta.unknown"},
		{"consent for a destination that does not exist", "process: {consent: {destinations: {tiktok: {denied: drop}}}}", "process.consent.destinations.tiktok"},
		{"unknown click id", "process: {click_id_windows: {gclidd: 24h}}", "process.click_id_windows.gclidd"},
		{"negative window", "process: {click_id_windows: {gclid: -1h}}", "process.click_id_windows.gclid"},
		{"tiny dedupe window", "process: {dedupe_window: 1s}", "process.dedupe_window"},
		{"route to nowhere", "process: {routes: [{destination: tiktok}]}", "process.routes[0].destination"},
		{"route from a bad source", "process: {routes: [{destination: meta, source: fax}]}", "process.routes[0].source"},
		{"unknown key", "process: {dedupe: 1h}", "dedupe"},
		{"state wait not a duration", "process: {state_wait: soon}", "process.state_wait"},
		{"negative state wait", "process: {state_wait: -1s}", "process.state_wait"},
		{"state wait past the transaction", "process: {state_wait: 45s}", "process.state_wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(strings.NewReader(minimal + tt.in + "\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestProcessDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	c, err := Decode(strings.NewReader(minimal + `process:
  click_id_windows: {fbclid: 24h}
  consent: {destinations: {meta: {denied: send_with_flags}}}
  routes: [{destination: meta, events: [purchase], value_above: 0, as: Purchase}]
`))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Process
	if p.DedupeWindow != 7*24*time.Hour || p.StateDir == "" {
		t.Errorf("defaults: dedupe window %s, state dir %q", p.DedupeWindow, p.StateDir)
	}
	if p.ClickIDWindows["fbclid"] != 24*time.Hour || p.ClickIDWindows["gclid"] != 90*24*time.Hour {
		t.Errorf("click id windows %v: fbclid overridden, the rest default", p.ClickIDWindows)
	}
	if d, u := p.Consent.For("meta"); d != PolicySendWithFlags || u != PolicyStripIdentifiers {
		t.Errorf("meta consent = %s/%s, want send_with_flags/strip_identifiers", d, u)
	}
	if d, u := p.Consent.For("other"); d != PolicyDrop || u != PolicyStripIdentifiers {
		t.Errorf("default consent = %s/%s, want drop/strip_identifiers", d, u)
	}
	r := p.Routes[0]
	zero, ten := 0.0, 10.0
	for _, tt := range []struct {
		ev   event.Event
		want bool
	}{
		{event.Event{EventName: event.NamePurchase, Properties: event.Properties{Value: &ten}}, true},
		{event.Event{EventName: event.NamePurchase, Properties: event.Properties{Value: &zero}}, false},
		{event.Event{EventName: event.NamePurchase}, false},
		{event.Event{EventName: event.NameLead, Properties: event.Properties{Value: &ten}}, false},
	} {
		if got := r.Matches(&tt.ev); got != tt.want {
			t.Errorf("route matches %s value %v = %v, want %v", tt.ev.EventName, tt.ev.Properties.Value, got, tt.want)
		}
	}
}

func TestProcessStateWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          string
		wantWait    time.Duration
		wantBounded bool
	}{
		{"default", "", 5 * time.Second, true},
		{"never wait for a restore", "process: {state_wait: 0s}\n", 0, true},
		{"bounded", "process: {state_wait: 750ms}\n", 750 * time.Millisecond, true},
		{"off waits without bound", "process: {state_wait: off}\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Decode(strings.NewReader(minimal + tt.in))
			if err != nil {
				t.Fatal(err)
			}
			w, bounded, err := c.Process.StateWaitBound()
			if err != nil || w != tt.wantWait || bounded != tt.wantBounded {
				t.Errorf("state_wait = %s bounded %v (err %v), want %s bounded %v", w, bounded, err, tt.wantWait, tt.wantBounded)
			}
		})
	}
}
