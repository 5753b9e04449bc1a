package quality

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// AlertState is where an alert stands.
type AlertState string

// Alert states: pending while the condition has held for less than the
// rule's For; firing after; resolved once clear for For again.
const (
	AlertPending  AlertState = "pending"
	AlertFiring   AlertState = "firing"
	AlertResolved AlertState = "resolved"
)

// Alert is one rule's alert on one subject (a destination, or the filter the
// rule names), as listed on the report page.
type Alert struct {
	Rule        string     `json:"rule"`
	Kind        RuleKind   `json:"kind"`
	Subject     string     `json:"subject"`
	Destination string     `json:"destination,omitempty"`
	State       AlertState `json:"state"`
	Value       float64    `json:"value"`
	Threshold   float64    `json:"threshold"`
	Message     string     `json:"message"`
	Since       time.Time  `json:"since"`
	FiredAt     time.Time  `json:"fired_at,omitzero"`
	ResolvedAt  time.Time  `json:"resolved_at,omitzero"`
}

// alertState is one (rule, subject)'s life: pending → firing → resolved.
type alertState struct {
	Alert
	clearSince time.Time
	// notified is false while a firing or resolved message still has to
	// reach the webhook (it is retried on the next evaluation).
	notified bool
}

// Alerter evaluates alert rules against an Aggregator and posts to a
// Slack-compatible webhook: one message when an alert fires, none while it
// keeps firing, one when it resolves. Every replica evaluates the same
// figures; with Leader set, only the elected replica posts (leader.go).
type Alerter struct {
	Rules []Rule
	Agg   *Aggregator
	// Breakers returns each destination's breaker state ("open", …).
	Breakers func() map[string]string
	// WebhookURL, when set, receives the messages.
	WebhookURL string
	Client     *http.Client
	Clock      func() time.Time
	Logger     *slog.Logger
	// Ready, if set, must be true for rules to be evaluated: false while
	// the aggregates are still being rebuilt from sp.outcomes.
	Ready func() bool
	// Leader, if set, says whether this replica posts. The others still
	// evaluate, so their pages show the alerts, and take it that the
	// leader told the webhook.
	Leader func() bool
	// Persist, if set, stores what the webhook has been told (sent) after
	// each evaluation that posted, so a new leader does not say it again.
	Persist func(ctx context.Context, sent map[string]AlertState) error

	mu       sync.Mutex
	states   map[string]*alertState
	resolved []Alert
	// sent is the last state posted per (rule, subject): firing or resolved.
	sent map[string]AlertState
}

// check is one subject's reading of a rule.
type check struct {
	subject, dest string
	value         float64
	breached      bool
	enough        bool
}

// Evaluate reads every rule once and advances the alerts' states; messages
// go out before it returns.
func (al *Alerter) Evaluate(ctx context.Context) {
	if al.Ready != nil && !al.Ready() {
		return
	}
	now := al.clock()
	var outbox []Alert
	al.mu.Lock()
	if al.states == nil {
		al.states = map[string]*alertState{}
	}
	for _, r := range al.Rules {
		for _, c := range al.read(r, now) {
			id := r.Name + "\x00" + c.subject
			st := al.states[id]
			if !c.breached || !c.enough {
				if st == nil {
					continue
				}
				if st.State == AlertPending {
					delete(al.states, id) // never fired: no flapping message
					continue
				}
				if st.clearSince.IsZero() {
					st.clearSince = now
				}
				st.Value = c.value
				if now.Sub(st.clearSince) >= r.For && st.State == AlertFiring {
					st.State, st.ResolvedAt, st.notified = AlertResolved, now, false
					st.Message = resolvedMessage(r, c)
				}
				continue
			}
			if st == nil || st.State == AlertResolved {
				st = &alertState{Alert: Alert{Rule: r.Name, Kind: r.Kind, Subject: c.subject, Destination: c.dest, State: AlertPending, Threshold: r.Threshold, Since: now}}
				al.states[id] = st
			}
			st.Value, st.clearSince = c.value, time.Time{}
			if st.State == AlertPending && now.Sub(st.Since) >= r.For {
				st.State, st.FiredAt, st.notified = AlertFiring, now, false
			}
			st.Message = firingMessage(r, c)
		}
	}
	lead := al.Leader == nil || al.Leader()
	if lead {
		al.resolveOrphans(now)
	}
	for id, st := range al.states {
		if !st.notified && st.State != AlertPending {
			// A follower leaves the message to the leader; a leader does
			// not repeat what it (or the leader before it) already sent.
			if !lead || al.sent[id] == st.State {
				st.notified = true
			} else {
				outbox = append(outbox, st.Alert)
			}
		}
		if st.State == AlertResolved && st.notified {
			al.resolved = append(al.resolved, st.Alert)
			if len(al.resolved) > 20 {
				al.resolved = al.resolved[1:]
			}
			delete(al.states, id)
		}
	}
	al.mu.Unlock()
	sort.Slice(outbox, func(i, j int) bool { return outbox[i].Rule+outbox[i].Subject < outbox[j].Rule+outbox[j].Subject })
	posted := false
	for _, a := range outbox {
		if err := al.post(ctx, a); err != nil {
			al.logger().Warn("posting alert", "rule", a.Rule, "state", a.State, "err", err)
			continue
		}
		posted = true
		id := a.Rule + "\x00" + a.Subject
		al.mu.Lock()
		if st := al.states[id]; st != nil && st.State == a.State {
			st.notified = true
		}
		if al.sent == nil {
			al.sent = map[string]AlertState{}
		}
		al.sent[id] = a.State
		al.mu.Unlock()
	}
	if posted && al.Persist != nil {
		al.mu.Lock()
		sent := maps.Clone(al.sent)
		al.mu.Unlock()
		if err := al.Persist(ctx, sent); err != nil {
			al.logger().Warn("storing which alerts were posted; a new leader may post them again", "err", err)
		}
	}
}

// resolveOrphans announces the resolution of alerts the webhook was told
// are firing (by a previous leader) but that are clear here: this replica
// saw them resolve while it followed, or their rule is gone. Without it the
// resolved message would be lost with the leader that owed it.
func (al *Alerter) resolveOrphans(now time.Time) {
	for id, was := range al.sent {
		if was != AlertFiring || al.states[id] != nil {
			continue
		}
		name, subject, _ := strings.Cut(id, "\x00")
		a := Alert{Rule: name, Subject: subject, State: AlertResolved, Since: now, ResolvedAt: now, Message: backToNormal(name, subject)}
		if i := slices.IndexFunc(al.Rules, func(r Rule) bool { return r.Name == name }); i >= 0 {
			a.Kind, a.Threshold = al.Rules[i].Kind, al.Rules[i].Threshold
		}
		al.states[id] = &alertState{Alert: a}
	}
}

// adopt takes over what the webhook has been told (the previous leader's
// record) when this replica becomes the leader: an alert already announced
// as firing is not announced again, and its resolution still is.
func (al *Alerter) adopt(sent map[string]AlertState) {
	al.mu.Lock()
	defer al.mu.Unlock()
	al.sent = maps.Clone(sent)
	if al.sent == nil {
		al.sent = map[string]AlertState{}
	}
	for id, st := range al.states {
		if st.State != AlertPending {
			st.notified = al.sent[id] == st.State
		}
	}
}

// Run evaluates every interval until ctx ends.
func (al *Alerter) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		al.Evaluate(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Alerts lists the pending and firing alerts, then the recently resolved.
func (al *Alerter) Alerts() []Alert {
	if al == nil {
		return nil
	}
	al.mu.Lock()
	defer al.mu.Unlock()
	out := make([]Alert, 0, len(al.states)+len(al.resolved))
	for _, st := range al.states {
		out = append(out, st.Alert)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rule+out[i].Subject < out[j].Rule+out[j].Subject })
	for i := len(al.resolved) - 1; i >= 0; i-- {
		out = append(out, al.resolved[i])
	}
	return out
}

func (al *Alerter) clock() time.Time {
	if al.Clock == nil {
		return time.Now()
	}
	return al.Clock()
}

func (al *Alerter) logger() *slog.Logger {
	if al.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return al.Logger
}

// read evaluates rule r at now, once per subject.
func (al *Alerter) read(r Rule, now time.Time) []check {
	subject := r.Destination
	if subject == "" {
		subject = "all destinations"
	}
	if r.EventName != "" {
		subject += " · " + r.EventName
	}
	// Until is exclusive; a nanosecond past now takes in outcomes stamped now.
	q := Query{Since: now.Add(-r.Window), Until: now.Add(time.Nanosecond), Destination: r.Destination, EventName: r.EventName, Resolution: Minute}
	if r.Window > 6*time.Hour {
		q.Resolution = Hour
	}
	switch r.Kind {
	case RuleBreakerOpen:
		var out []check
		if al.Breakers == nil {
			return nil
		}
		states := al.Breakers()
		names := make([]string, 0, len(states))
		for d := range states {
			names = append(names, d)
		}
		slices.Sort(names)
		for _, d := range names {
			if r.Destination != "" && d != r.Destination {
				continue
			}
			open := states[d] == "open"
			out = append(out, check{subject: d, dest: d, value: b2f(open), breached: open, enough: true})
		}
		return out
	case RuleVolumeDrop:
		// Both sides at one resolution, so both spans have the same shape.
		week := 7 * 24 * time.Hour
		if q.Resolution == Minute && now.Sub(q.Since.Add(-week)) > al.Agg.retention.Minutes {
			q.Resolution = Hour
		}
		cur := al.Agg.totals(q)
		bq := q
		bq.Since, bq.Until = q.Since.Add(-week), q.Until.Add(-week)
		base := al.Agg.totals(bq)
		c, b := volume(cur, r), volume(base, r)
		drop := 0.0
		if b > 0 {
			drop = 1 - float64(c)/float64(b)
		}
		return []check{{subject: subject, dest: r.Destination, value: round4(drop), breached: drop >= r.Threshold, enough: b >= max(r.MinVolume, 1)}}
	case RuleCoverageDrop:
		cur := al.Agg.totals(q)
		bq := q
		bq.Since, bq.Until, bq.Resolution = now.Add(-7*24*time.Hour), q.Since, Hour
		base := al.Agg.totals(bq)
		cv, bv := coverageOf(cur, r.MatchKey), coverageOf(base, r.MatchKey)
		drop := bv - cv
		return []check{{subject: subject, dest: r.Destination, value: round4(drop), breached: drop >= r.Threshold, enough: cur.sent >= max(r.MinVolume, 1) && base.sent > 0}}
	case RuleErrorRate:
		f := al.Agg.totals(q)
		n := f.Delivered + f.Rejected + f.Expired + f.DegradedExported
		return []check{{subject: subject, dest: r.Destination, value: f.ErrorRate, breached: f.ErrorRate >= r.Threshold, enough: n >= max(r.MinVolume, 1)}}
	case RuleFreshness:
		f := al.Agg.totals(q)
		p95 := f.Freshness.P95Seconds
		return []check{{subject: subject, dest: r.Destination, value: p95, breached: p95 >= r.Threshold, enough: int64(f.Freshness.Samples) >= max(r.MinVolume, 1)}}
	case RuleDLQGrowth:
		f := al.Agg.totals(q)
		n := float64(f.Invalid + f.Rejected + f.Expired)
		return []check{{subject: subject, dest: r.Destination, value: n, breached: n >= r.Threshold, enough: true}}
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// volume is what volume_drop compares: records received, or routed to the
// rule's destination.
func volume(f Figures, r Rule) int64 {
	if r.Destination != "" {
		return f.Routed
	}
	return f.Received
}

func coverageOf(f Figures, key string) float64 {
	if key == "" {
		return f.MatchQualityEstimate / 10
	}
	return f.Coverage[key]
}

func describe(r Rule, v float64) string {
	switch r.Kind {
	case RuleVolumeDrop:
		return fmt.Sprintf("volume is %.0f%% below the same window last week (threshold %.0f%%)", 100*v, 100*r.Threshold)
	case RuleCoverageDrop:
		what := "match-quality estimate"
		if r.MatchKey != "" {
			what = r.MatchKey + " coverage"
		}
		return fmt.Sprintf("%s fell %.0f points below its trailing week (threshold %.0f)", what, 100*v, 100*r.Threshold)
	case RuleErrorRate:
		return fmt.Sprintf("%.1f%% of events rejected or expired (threshold %.1f%%)", 100*v, 100*r.Threshold)
	case RuleFreshness:
		return fmt.Sprintf("p95 event-to-acceptance time is %s (threshold %s)", secs(v), secs(r.Threshold))
	case RuleBreakerOpen:
		return "the circuit breaker is open: the platform is failing and the backlog waits in Kafka"
	case RuleDLQGrowth:
		return fmt.Sprintf("%.0f records went to the DLQ within %s (threshold %.0f)", v, r.Window, r.Threshold)
	}
	return ""
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func firingMessage(r Rule, c check) string {
	return fmt.Sprintf("%s — %s: %s", r.Name, c.subject, describe(r, c.value))
}

func resolvedMessage(r Rule, c check) string { return backToNormal(r.Name, c.subject) }

func backToNormal(rule, subject string) string {
	return fmt.Sprintf("%s — %s: back to normal", rule, subject)
}

// slackMessage is the webhook body: Slack's incoming-webhook format (text
// plus one coloured attachment), which Mattermost, Rocket.Chat and most
// chat tools accept too.
type slackMessage struct {
	Text        string            `json:"text"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Color  string       `json:"color"`
	Title  string       `json:"title"`
	Text   string       `json:"text"`
	Fields []slackField `json:"fields"`
	Footer string       `json:"footer"`
	TS     int64        `json:"ts"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

func (al *Alerter) post(ctx context.Context, a Alert) error {
	if al.WebhookURL == "" {
		return nil
	}
	icon, color, at := ":rotating_light: FIRING", "#d93f0b", a.FiredAt
	if a.State == AlertResolved {
		icon, color, at = ":white_check_mark: RESOLVED", "#2da44e", a.ResolvedAt
	}
	msg := slackMessage{
		Text: icon + " " + a.Message,
		Attachments: []slackAttachment{{
			Color: color, Title: a.Rule, Text: a.Message, Footer: "signalpipe", TS: at.Unix(),
			Fields: []slackField{{"subject", a.Subject, true}, {"kind", string(a.Kind), true}, {"value", fmt.Sprintf("%g", a.Value), true}, {"threshold", fmt.Sprintf("%g", a.Threshold), true}},
		}},
	}
	body, _ := json.Marshal(msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, al.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building alert request: %w", redact(err))
	}
	req.Header.Set("Content-Type", "application/json")
	hc := al.Client
	if hc == nil {
		hc = &http.Client{Timeout: DefaultAlertTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("posting to the alert webhook: %w", redact(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("alert webhook answered %s", resp.Status)
	}
	return nil
}

// redact keeps the webhook URL (a secret: whoever has it can post) out of
// errors that get logged.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
