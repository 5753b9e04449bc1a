package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Process configures the process stage: where its state lives, how long
// dedupe keys and click ids are kept, the consent policy per destination
// and the routing rules. It is its own section, not part of a destination's
// block, so the platform registry and the process stage evolve apart.
type Process struct {
	// StateDir holds the stage's local state (a cache of the changelog
	// topics); default: signalpipe-state under the OS temp dir.
	StateDir string `yaml:"state_dir"`
	// StateCacheBytes is the block cache the stage's state shares across
	// its partitions; StateMemTableBytes the write buffer of each partition
	// (up to two are held while one is flushed). Memory for state is about
	// cache + 2 × memtable × partitions owned.
	StateCacheBytes    int64 `yaml:"state_cache_bytes"`
	StateMemTableBytes int64 `yaml:"state_memtable_bytes"`
	// MaxLocalStateAge is how old a local copy may be and still be caught up
	// from its checkpoint instead of restored in full; keep it below the
	// changelog topics' delete.retention.ms.
	MaxLocalStateAge time.Duration `yaml:"max_local_state_age"`
	// StateWait bounds how long a batch waits for a partition's state
	// (being restored from the changelog, or failing to open) before that
	// partition's events are processed without it, marked degraded: a Go
	// duration, "0s" to never wait for a restore, or "off" to always wait
	// (and fail the batch when the state cannot be opened). Default
	// DefaultStateWait.
	StateWait string `yaml:"state_wait"`
	// DedupeWindow is how long an event id or order id blocks a resend.
	DedupeWindow time.Duration `yaml:"dedupe_window"`
	// PersonTTL is how long a person who is not seen again is kept (clicks,
	// profile, links); it bounds the state by the people active within it.
	PersonTTL time.Duration `yaml:"person_ttl"`
	// ClickIDWindows overrides how long each click id or browser id is
	// attached to later conversions (its platform's attribution window),
	// by id name: gclid, gbraid, wbraid, fbclid, fbp, ttclid, ttp, sccid,
	// epik, rdt_cid, li_fat_id, msclkid.
	ClickIDWindows map[string]time.Duration `yaml:"click_id_windows"`
	Consent        ConsentPolicy            `yaml:"consent"`
	// Routes, when given, replace the destinations' own event lists: an
	// event goes to every destination with a rule that matches it.
	Routes []Route `yaml:"routes"`
}

// Consent policies: what to do with an event whose consent forbids (or does
// not grant) sending personal data to ad platforms.
const (
	PolicySend             = "send" // as it is: for traffic where consent is not required
	PolicyDrop             = "drop"
	PolicyStripIdentifiers = "strip_identifiers"
	PolicySendWithFlags    = "send_with_flags"
)

// Policies lists the consent policies.
var Policies = []string{PolicySend, PolicyDrop, PolicyStripIdentifiers, PolicySendWithFlags}

// ConsentPolicy says per destination what happens when ad_user_data is
// denied, and when it is unknown.
type ConsentPolicy struct {
	// Denied applies when the event (or the person's last word) denies
	// ad_user_data; default drop.
	Denied string `yaml:"denied"`
	// Unknown applies when nothing is known; default strip_identifiers (no
	// personal identifiers without consent).
	Unknown string `yaml:"unknown"`
	// Destinations override the two per destination name.
	Destinations map[string]DestinationConsent `yaml:"destinations"`
}

// DestinationConsent is one destination's override; empty fields inherit.
type DestinationConsent struct {
	Denied  string `yaml:"denied"`
	Unknown string `yaml:"unknown"`
}

// For returns the destination's policies for denied and unknown consent.
func (c ConsentPolicy) For(dest string) (denied, unknown string) {
	denied, unknown = c.Denied, c.Unknown
	if d, ok := c.Destinations[dest]; ok {
		if d.Denied != "" {
			denied = d.Denied
		}
		if d.Unknown != "" {
			unknown = d.Unknown
		}
	}
	return denied, unknown
}

// Route is one routing rule: events of these names (from these sources,
// meeting the condition) go to the destination under a platform name.
type Route struct {
	Destination string `yaml:"destination"`
	// Events are canonical event names; empty: every name.
	Events []string `yaml:"events"`
	// As is the platform's event name (Meta "Purchase"); empty: the
	// destination's own mapping.
	As string `yaml:"as"`
	// Source, when set, takes only events from that source (web, app, crm).
	Source event.Source `yaml:"source"`
	// ValueAbove, when set, takes only events whose value exceeds it.
	ValueAbove *float64 `yaml:"value_above"`
}

// Matches reports whether the rule takes ev.
func (r Route) Matches(ev *event.Event) bool {
	if len(r.Events) > 0 && !slices.Contains(r.Events, ev.EventName) {
		return false
	}
	if r.Source != "" && ev.Source != r.Source {
		return false
	}
	if r.ValueAbove != nil && (ev.Properties.Value == nil || *ev.Properties.Value <= *r.ValueAbove) {
		return false
	}
	return true
}

// Process defaults.
const (
	DefaultDedupeWindow = 7 * 24 * time.Hour
	// DefaultStateWait lets a quick catch-up (a restart with the local
	// copy in place) finish, and keeps a long restore from holding
	// conversions back.
	DefaultStateWait        = "5s"
	StateWaitOff            = "off"
	DefaultMaxLocalStateAge = 12 * time.Hour
	// DefaultStateCacheBytes and DefaultStateMemTableBytes size the state's
	// memory: 128 MiB + 2 × 8 MiB per partition owned. The cache must hold
	// the tables' filter and index blocks: at 64 MiB they were read from
	// disk again and again once a million people were stored, and the stage
	// ran at half the speed (make bench: 27,000 against 52,000 events/s).
	DefaultStateCacheBytes    = 128 << 20
	DefaultStateMemTableBytes = 8 << 20
	// DefaultPersonTTL outlasts the longest attribution window and a yearly
	// buying cycle.
	DefaultPersonTTL = 400 * 24 * time.Hour
)

// DefaultClickIDWindows are the platforms' default or maximum click-through
// attribution windows (../shared/reference/platform-apis.md): Google's
// lookback is at most 90 days, LinkedIn's 90, Microsoft's offline upload
// 90; Meta's 7-day click; TikTok, Snap and Reddit 28 days; Pinterest 30.
// The browser ids (fbp, ttp) live as long as their cookies (90 days).
var DefaultClickIDWindows = map[string]time.Duration{
	"gclid": 90 * 24 * time.Hour, "gbraid": 90 * 24 * time.Hour, "wbraid": 90 * 24 * time.Hour,
	"fbclid": 7 * 24 * time.Hour, "fbp": 90 * 24 * time.Hour,
	"ttclid": 28 * 24 * time.Hour, "ttp": 90 * 24 * time.Hour,
	"sccid": 28 * 24 * time.Hour, "epik": 30 * 24 * time.Hour, "rdt_cid": 28 * 24 * time.Hour,
	"li_fat_id": 90 * 24 * time.Hour, "msclkid": 90 * 24 * time.Hour,
}

func (p *Process) applyDefaults() {
	if p.StateDir == "" {
		p.StateDir = filepath.Join(os.TempDir(), "signalpipe-state")
	}
	if p.StateCacheBytes == 0 {
		p.StateCacheBytes = DefaultStateCacheBytes
	}
	if p.StateMemTableBytes == 0 {
		p.StateMemTableBytes = DefaultStateMemTableBytes
	}
	if p.MaxLocalStateAge == 0 {
		p.MaxLocalStateAge = DefaultMaxLocalStateAge
	}
	if p.DedupeWindow == 0 {
		p.DedupeWindow = DefaultDedupeWindow
	}
	if p.StateWait == "" {
		p.StateWait = DefaultStateWait
	}
	if p.PersonTTL == 0 {
		p.PersonTTL = DefaultPersonTTL
	}
	w := make(map[string]time.Duration, len(DefaultClickIDWindows))
	for k, v := range DefaultClickIDWindows {
		w[k] = v
	}
	for k, v := range p.ClickIDWindows {
		w[k] = v
	}
	p.ClickIDWindows = w
	if p.Consent.Denied == "" {
		p.Consent.Denied = PolicyDrop
	}
	if p.Consent.Unknown == "" {
		p.Consent.Unknown = PolicyStripIdentifiers
	}
}

// validate checks the section; dests are the configured destination names.
func (p Process) validate(dests map[string]bool) error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if p.DedupeWindow < time.Minute {
		add("process.dedupe_window", "must be at least 1m, got %s", p.DedupeWindow)
	}
	if _, _, err := p.StateWaitBound(); err != nil {
		add("process.state_wait", "%v", err)
	}
	if p.StateCacheBytes < 1<<20 {
		add("process.state_cache_bytes", "must be at least 1048576, got %d", p.StateCacheBytes)
	}
	if p.StateMemTableBytes < 1<<20 || p.StateMemTableBytes > 1<<30 {
		add("process.state_memtable_bytes", "must be between 1048576 and 1073741824, got %d", p.StateMemTableBytes)
	}
	if p.PersonTTL < 24*time.Hour {
		add("process.person_ttl", "must be at least 24h, got %s", p.PersonTTL)
	}
	if p.MaxLocalStateAge <= 0 {
		add("process.max_local_state_age", "must be positive")
	}
	names := make([]string, 0, len(p.ClickIDWindows))
	for k := range p.ClickIDWindows {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, known := DefaultClickIDWindows[k]; !known {
			add("process.click_id_windows."+k, "unknown id (known: gclid, gbraid, wbraid, fbclid, fbp, ttclid, ttp, sccid, epik, rdt_cid, li_fat_id, msclkid)")
		} else if p.ClickIDWindows[k] <= 0 {
			add("process.click_id_windows."+k, "must be positive")
		}
	}
	policy := func(key, v string) {
		if v != "" && !slices.Contains(Policies, v) {
			add(key, "must be send, drop, strip_identifiers or send_with_flags, not %q", v)
		}
	}
	policy("process.consent.denied", p.Consent.Denied)
	policy("process.consent.unknown", p.Consent.Unknown)
	for name, d := range p.Consent.Destinations {
		key := "process.consent.destinations." + name
		if !dests[name] {
			add(key, "no destination is named %q", name)
		}
		policy(key+".denied", d.Denied)
		policy(key+".unknown", d.Unknown)
	}
	for i, r := range p.Routes {
		key := fmt.Sprintf("process.routes[%d]", i)
		if !dests[r.Destination] {
			add(key+".destination", "no destination is named %q", r.Destination)
		}
		if r.Source != "" && !r.Source.Valid() {
			add(key+".source", "must be web, app or crm, not %q", r.Source)
		}
		for j, n := range r.Events {
			if n == "" {
				add(fmt.Sprintf("%s.events[%d]", key, j), "must not be empty")
			}
		}
	}
	return errors.Join(errs...)
}

// StateWaitBound parses StateWait: how long a batch waits for a partition's
// state, and whether it waits at all (off: without bound).
func (p Process) StateWaitBound() (wait time.Duration, bounded bool, err error) {
	if p.StateWait == StateWaitOff {
		return 0, false, nil
	}
	d, err := time.ParseDuration(p.StateWait)
	if err != nil || d < 0 {
		return 0, false, fmt.Errorf("must be a duration of 0s or more (5s, 500ms) or %q, not %q", StateWaitOff, p.StateWait)
	}
	return d, true, nil
}
