package config

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/ga4"
	"github.com/signalpipe/signalpipe/internal/destination/google"
	"github.com/signalpipe/signalpipe/internal/destination/googleads"
	"github.com/signalpipe/signalpipe/internal/destination/linkedin"
	"github.com/signalpipe/signalpipe/internal/destination/meta"
	"github.com/signalpipe/signalpipe/internal/destination/microsoft"
	"github.com/signalpipe/signalpipe/internal/destination/pinterest"
	"github.com/signalpipe/signalpipe/internal/destination/reddit"
	"github.com/signalpipe/signalpipe/internal/destination/snapchat"
	"github.com/signalpipe/signalpipe/internal/destination/tiktok"
	"github.com/signalpipe/signalpipe/internal/destination/webhook"
)

// Destination types.
const (
	TypeMeta    = "meta"
	TypeWebhook = "webhook"
	// TypeGoogle is Google Ads through the Data Manager API.
	TypeGoogle = "google"
	// TypeGoogleAds is the Google Ads API path (click conversions, adjustments).
	TypeGoogleAds = "google_ads"
	// TypeGA4 is the GA4 Measurement Protocol.
	TypeGA4 = "ga4"
	// TypeLinkedIn is the LinkedIn Conversions API.
	TypeLinkedIn = "linkedin"
	// TypeReddit is the Reddit Conversions API (v3).
	TypeReddit = "reddit"
	// TypeMicrosoft is Microsoft Advertising (UET Conversions API or offline
	// conversions, by its api key).
	TypeMicrosoft = "microsoft"
	// TypeTikTok is the TikTok Events API 2.0.
	TypeTikTok = "tiktok"
	// TypePinterest is the Pinterest Conversions API v5.
	TypePinterest = "pinterest"
	// TypeSnapchat is the Snapchat Conversions API v3.
	TypeSnapchat = "snapchat"
)

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
	// Google is the block for type google (the Data Manager API).
	Google *google.Config `yaml:"google"`
	// GoogleAds is the block for type google_ads (the Google Ads API).
	GoogleAds *googleads.Config `yaml:"google_ads"`
	// GA4 is the block for type ga4 (the Measurement Protocol).
	GA4 *ga4.Config `yaml:"ga4"`
	// LinkedIn is the block for type linkedin.
	LinkedIn *linkedin.Config `yaml:"linkedin"`
	// Reddit is the block for type reddit.
	Reddit *reddit.Config `yaml:"reddit"`
	// Microsoft is the block for type microsoft.
	Microsoft *microsoft.Config `yaml:"microsoft"`
	// TikTok is the block for type tiktok.
	TikTok *tiktok.Config `yaml:"tiktok"`
	// Pinterest is the block for type pinterest.
	Pinterest *pinterest.Config `yaml:"pinterest"`
	// Snapchat is the block for type snapchat.
	Snapchat *snapchat.Config `yaml:"snapchat"`
}

// platformBlock is one type's settings block of a Destination.
type platformBlock struct {
	typ string
	// cfg is the block, nil when the entry has none.
	cfg destination.Config
	// useExample puts a block with placeholder values in the entry.
	useExample func()
}

// blocks lists every platform type with this entry's block for it. It is the
// one place a new platform is added (besides its field above).
func (d *Destination) blocks() []platformBlock {
	return []platformBlock{
		block(TypeMeta, &d.Meta, meta.Example),
		block(TypeWebhook, &d.Webhook, webhook.Example),
		block(TypeGoogle, &d.Google, google.Example),
		block(TypeGoogleAds, &d.GoogleAds, googleads.Example),
		block(TypeGA4, &d.GA4, ga4.Example),
		block(TypeLinkedIn, &d.LinkedIn, linkedin.Example),
		block(TypeReddit, &d.Reddit, reddit.Example),
		block(TypeMicrosoft, &d.Microsoft, microsoft.Example),
		block(TypeTikTok, &d.TikTok, tiktok.Example),
		block(TypePinterest, &d.Pinterest, pinterest.Example),
		block(TypeSnapchat, &d.Snapchat, snapchat.Example),
	}
}

// block keeps a nil block pointer from becoming a non-nil interface.
func block[T any, P interface {
	*T
	destination.Config
}](typ string, field *P, example func() P) platformBlock {
	b := platformBlock{typ: typ, useExample: func() { *field = example() }}
	if *field != nil {
		b.cfg = *field
	}
	return b
}

// Types lists the destination types signalpipe supports.
var Types = func() []string {
	var out []string
	for _, b := range new(Destination).blocks() {
		out = append(out, b.typ)
	}
	return out
}()

// Example returns a destination of type typ with placeholder ids and the
// platform's defaults, for previews without a config file.
func Example(typ string) (Destination, bool) {
	d := Destination{Name: typ, Type: typ}
	for _, b := range d.blocks() {
		if b.typ == typ {
			b.useExample()
			d.applyDefaults()
			return d, true
		}
	}
	return Destination{}, false
}

// Platform returns the entry's settings block (of its type), or nil before
// validation has made sure there is one.
func (d Destination) Platform() destination.Config {
	for _, b := range d.blocks() {
		if b.typ == d.Type {
			return b.cfg
		}
	}
	return nil
}

// destNameRe keeps names usable in topic and group names.
var destNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// applyDefaults fills the name and the type block's defaults.
func (d *Destination) applyDefaults() {
	if d.Name == "" {
		d.Name = d.Type
	}
	if p := d.Platform(); p != nil {
		p.SetName(d.Name)
		p.ApplyDefaults()
	}
}

// validate checks one destination; key is its path, e.g. destinations[0].
func (d Destination) validate(key string) error {
	var errs []error
	if !destNameRe.MatchString(d.Name) {
		errs = append(errs, fmt.Errorf("%s.name: %q must be lower-case letters, digits, - or _ (it becomes part of topic names)", key, d.Name))
	}
	known := false
	for _, b := range d.blocks() {
		switch {
		case b.typ == d.Type:
			known = true
			if b.cfg == nil {
				errs = append(errs, fmt.Errorf("%s.%s: required for type %s", key, b.typ, b.typ))
			} else if err := b.cfg.Validate(); err != nil {
				errs = append(errs, prefixErr(key+"."+b.typ+".", err))
			}
		case b.cfg != nil:
			errs = append(errs, fmt.Errorf("%s.%s: only for type %s", key, b.typ, b.typ))
		}
	}
	switch {
	case d.Type == "":
		errs = append(errs, fmt.Errorf("%s.type: required (one of %v)", key, Types))
	case !known:
		errs = append(errs, fmt.Errorf("%s.type: %q is not supported (one of %v)", key, d.Type, Types))
	}
	return errors.Join(errs...)
}

// settings returns the delivery settings of the destination's type block,
// or nil before validation has made sure there is one. Everything routing
// and deliver need comes from it.
func (d Destination) settings() *destination.Delivery {
	if p := d.Platform(); p != nil {
		return p.Settings()
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

// RequestsPerMinute caps the destination's request rate (0: no cap).
func (d Destination) RequestsPerMinute() int {
	if s := d.settings(); s != nil {
		return s.RequestsPerMinute
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
