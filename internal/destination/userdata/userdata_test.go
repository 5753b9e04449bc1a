package userdata

import (
	"slices"
	"strings"
	"testing"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// TestBuild: every field hashed by the platform's own rules; digests were
// computed with `printf %s VALUE | sha256sum`.
func TestBuild(t *testing.T) {
	t.Parallel()
	ev := &event.Event{User: event.User{
		UserID: "u-42", Email: " John_Smith@Gmail.com ", Phone: "(650) 555-1212", Gender: "N",
		Address: &event.Address{City: "Menlo Park", Zip: "94025-1234", Country: "us"},
	}}
	tests := []struct {
		name     string
		platform pii.Platform
		region   string
		check    func(t *testing.T, d Hashed, warnings []string)
	}{
		{"pinterest: digits phone, gender n, region from the address", pii.Pinterest, "", func(t *testing.T, d Hashed, w []string) {
			if len(d.Ph) != 1 || d.Ph[0] != "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176" {
				t.Errorf("ph = %v", d.Ph)
			}
			if len(d.Ge) != 1 || d.Ge[0] != "1b16b1df538ba12dc3f97edbb85caa7050d46c148134290feba80f8236c83db9" {
				t.Errorf("ge = %v", d.Ge)
			}
			if len(d.ExternalID) != 1 || d.ExternalID[0] != "16ec525b74b75626eb93ecad8acc749885fcf4e83c95b139342769a4ab1828a3" {
				t.Errorf("external_id = %v (user_id when no external_id)", d.ExternalID)
			}
			if want := []string{"em", "ph", "ge", "ct", "zp", "country", "external_id"}; !slices.Equal(d.Keys(), want) || len(w) != 0 {
				t.Errorf("keys %v warnings %v, want %v and none", d.Keys(), w, want)
			}
		}},
		{"snapchat: gender n is dropped with a warning", pii.Snapchat, "US", func(t *testing.T, d Hashed, w []string) {
			if len(d.Ge) != 0 || len(w) != 1 || !strings.Contains(w[0], "gender") || strings.Contains(w[0], "N") {
				t.Errorf("ge %v warnings %q", d.Ge, w)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := NewHasher(tt.platform, ev, tt.region)
			d := h.Build(ev.User)
			tt.check(t, d, h.Warnings)
		})
	}
}

func TestHasherOneAndPresent(t *testing.T) {
	t.Parallel()
	ev := &event.Event{}
	h := NewHasher(pii.TikTok, ev, "US")
	// printf %s +16505551212 | sha256sum
	if got := h.One(pii.Phone, "650-555-1212"); got != "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8" {
		t.Errorf("One(phone) = %s", got)
	}
	if got := h.One(pii.Email, ""); got != "" || len(h.Warnings) != 0 {
		t.Errorf("empty value: %q, warnings %v", got, h.Warnings)
	}
	if got := h.List(pii.Email, "nope"); got != nil || len(h.Warnings) != 1 {
		t.Errorf("invalid value: %v, warnings %v", got, h.Warnings)
	}
	if got := Present(Present(nil, "a", "x"), "b", ""); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Present = %v", got)
	}
	if got := ExternalID(event.User{UserID: "u", ExternalID: "x"}); got != "x" {
		t.Errorf("ExternalID = %q, want the external id over the user id", got)
	}
}
