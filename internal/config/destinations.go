package config

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/meta"
	"github.com/signalpipe/signalpipe/internal/destination/webhook"
)

// Destination types.
const (
	TypeMeta    = "meta"
	TypeWebhook = "webhook"
)

// Types lists the destination types signalpipe supports.
var Types = []string{TypeMeta, TypeWebhook}

// Destination is one account on one platform: a Meta pixel, say. Several
// destinations may share a type (two Meta pixels); each has its own topic
// (sp.out.<name>) and consumer group, so one account's outage never slows
// another's. The settings for the type sit in the block named after it.
type Destination struct {
	// Name names the destination in topics, groups, outcomes and reports;
	// default: the type.
	Name    string          `yaml:"name"`
	Type    string          `yaml:"type"`
	Meta    *meta.Config    `yaml:"meta"`
	Webhook *webhook.Config `yaml:"webhook"`
}

// destNameRe keeps names usable in topic and group names.
var destNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// applyDefaults fills the name and the type block's defaults.
func (d *Destination) applyDefaults() {
	if d.Name == "" {
		d.Name = d.Type
	}
	if d.Type == TypeMeta && d.Meta != nil {
		d.Meta.Name = d.Name
		d.Meta.ApplyDefaults()
	}
	if d.Type == TypeWebhook && d.Webhook != nil {
		d.Webhook.Name = d.Name
		d.Webhook.ApplyDefaults()
	}
}

// validate checks one destination; key is its path, e.g. destinations[0].
func (d Destination) validate(key string) error {
	var errs []error
	if !destNameRe.MatchString(d.Name) {
		errs = append(errs, fmt.Errorf("%s.name: %q must be lower-case letters, digits, - or _ (it becomes part of topic names)", key, d.Name))
	}
	switch d.Type {
	case TypeMeta:
		if d.Meta == nil {
			errs = append(errs, fmt.Errorf("%s.meta: required for type meta (pixel_id, access_token_env, …)", key))
		} else if err := d.Meta.Validate(); err != nil {
			errs = append(errs, prefixErr(key+".meta.", err))
		}
	case TypeWebhook:
		if d.Webhook == nil {
			errs = append(errs, fmt.Errorf("%s.webhook: required for type webhook (url, secret_env, …)", key))
		} else if err := d.Webhook.Validate(); err != nil {
			errs = append(errs, prefixErr(key+".webhook.", err))
		}
	case "":
		errs = append(errs, fmt.Errorf("%s.type: required (one of %v)", key, Types))
	default:
		errs = append(errs, fmt.Errorf("%s.type: %q is not supported (one of %v)", key, d.Type, Types))
	}
	if d.Type != TypeMeta && d.Meta != nil {
		errs = append(errs, fmt.Errorf("%s.meta: only for type meta", key))
	}
	if d.Type != TypeWebhook && d.Webhook != nil {
		errs = append(errs, fmt.Errorf("%s.webhook: only for type webhook", key))
	}
	return errors.Join(errs...)
}

// settings returns the delivery settings of the destination's type block,
// or nil before validation has made sure there is one. It is the only place
// that looks at the type: everything routing and deliver need comes from it.
func (d Destination) settings() *destination.Delivery {
	switch {
	case d.Meta != nil:
		return d.Meta.Settings()
	case d.Webhook != nil:
		return d.Webhook.Settings()
	}
	return nil
}

// Accepts reports whether this destination takes events of that name.
func (d Destination) Accepts(eventName string) bool {
	if s := d.settings(); s != nil {
		return s.Accepts(eventName)
	}
	return false
}

// Linger is how long deliver waits to fill a batch.
func (d Destination) Linger() time.Duration {
	if s := d.settings(); s != nil {
		return s.Linger
	}
	return 0
}

// Concurrency is how many requests may be in flight at once.
func (d Destination) Concurrency() int {
	if s := d.settings(); s != nil {
		return s.Concurrency
	}
	return 1
}

// Destination returns the destination named name, or of that type when no
// name matches.
func (c Config) Destination(name string) (Destination, bool) {
	for _, d := range c.Destinations {
		if d.Name == name {
			return d, true
		}
	}
	for _, d := range c.Destinations {
		if d.Type == name {
			return d, true
		}
	}
	return Destination{}, false
}
