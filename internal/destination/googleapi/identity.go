package googleapi

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// Identity is an event's user data normalized by Google's rules (pii.Google):
// the hashed fields as lowercase hex SHA-256, the rest as Google wants them
// sent in the clear. An empty field was absent or could not be normalized.
type Identity struct {
	// SHA-256 hex.
	Email, Phone, FirstName, LastName, Street string
	// Unhashed: city, state and postal code normalized, country as an
	// upper-case ISO alpha-2 code.
	City, State, Country, Zip string
}

// NewIdentity normalizes ev's user data. Phone numbers without a country
// code take the address country, else defaultRegion. The warnings name the
// fields dropped (never their values). A value that arrived already hashed
// is passed through for hashed fields and dropped for unhashed ones.
func NewIdentity(ev *event.Event, defaultRegion string) (Identity, []string) {
	var warnings []string
	opts := pii.Options{DefaultRegion: defaultRegion}
	u := ev.User
	if a := u.Address; a != nil && len(strings.TrimSpace(a.Country)) == 2 {
		opts.DefaultRegion = strings.ToUpper(strings.TrimSpace(a.Country))
	}
	hash := func(f pii.Field, raw string) string {
		if strings.TrimSpace(raw) == "" {
			return ""
		}
		_, h, err := pii.Hash(pii.Google, f, raw, opts)
		if err != nil {
			warnings = append(warnings, err.Error())
			return ""
		}
		return h
	}
	plain := func(f pii.Field, raw string) string {
		if strings.TrimSpace(raw) == "" || pii.IsSHA256Hex(strings.TrimSpace(raw)) {
			return ""
		}
		n, err := pii.Normalize(pii.Google, f, raw, opts)
		if err != nil {
			warnings = append(warnings, err.Error())
			return ""
		}
		return n
	}
	id := Identity{Email: hash(pii.Email, u.Email), Phone: hash(pii.Phone, u.Phone),
		FirstName: hash(pii.FirstName, u.FirstName), LastName: hash(pii.LastName, u.LastName)}
	if a := u.Address; a != nil {
		id.Street = hash(pii.Street, a.Street)
		id.City, id.State = plain(pii.City, a.City), plain(pii.State, a.State)
		id.Country, id.Zip = plain(pii.Country, a.Country), plain(pii.Zip, a.Zip)
	}
	return id, warnings
}

// ClickID picks the one click id Google takes for ev: the gclid when there
// is one, else the braid of the event's kind (gbraid for apps, wbraid for
// the web), because Google refuses gbraid and wbraid together. kind is
// "gclid", "gbraid", "wbraid" or "" when the event has none.
func ClickID(ev *event.Event) (kind, value string) {
	k := ev.Context.ClickIDs
	switch {
	case k.Gclid != "":
		return "gclid", k.Gclid
	case k.Gbraid != "" && (k.Wbraid == "" || ev.Source == event.SourceApp):
		return "gbraid", k.Gbraid
	case k.Wbraid != "":
		return "wbraid", k.Wbraid
	}
	return "", ""
}

// ConversionActions names an account's conversion actions: one for every
// event, overridden per canonical event name. It sits inline in a config.
type ConversionActions struct {
	// ConversionActionID is the conversion action events go to.
	ConversionActionID string `yaml:"conversion_action_id"`
	// ConversionActions overrides it per canonical event name.
	ConversionActions map[string]string `yaml:"conversion_actions"`
	// ConversionActionNames maps action ids to their names in Google Ads,
	// which only the offline import files (the degraded path) need.
	ConversionActionNames map[string]string `yaml:"conversion_action_names"`
}

var digitsRe = regexp.MustCompile(`^[0-9]{1,20}$`)

// IsID reports whether s is a Google account or action id: digits only.
func IsID(s string) bool { return digitsRe.MatchString(s) }

// ActionFor returns the conversion action id for a canonical event name, or
// "" when there is none.
func (c ConversionActions) ActionFor(name string) string {
	if id, ok := c.ConversionActions[name]; ok {
		return id
	}
	return c.ConversionActionID
}

// Actions lists the distinct actions the events go to, sorted.
func (c ConversionActions) Actions(events []string) []string {
	var ids []string
	for _, e := range events {
		if id := c.ActionFor(e); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Validate checks the ids and that every event has an action.
func (c ConversionActions) Validate(events []string) []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.ConversionActionID != "" && !IsID(c.ConversionActionID) {
		add("conversion_action_id", "must be the conversion action's numeric id, not %q", c.ConversionActionID)
	}
	for _, name := range slices.Sorted(maps.Keys(c.ConversionActions)) {
		if !IsID(c.ConversionActions[name]) {
			add("conversion_actions."+name, "must be a numeric conversion action id, not %q", c.ConversionActions[name])
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.ConversionActionNames)) {
		if !IsID(id) || strings.TrimSpace(c.ConversionActionNames[id]) == "" {
			add("conversion_action_names."+id, "keys are numeric conversion action ids and values their names in Google Ads")
		}
	}
	for _, e := range events {
		if c.ActionFor(e) == "" {
			add("events", "%q has no conversion action (set conversion_action_id or conversion_actions.%s)", e, e)
		}
	}
	return errs
}
