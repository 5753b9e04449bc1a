package googleapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

func TestTokenError(t *testing.T) {
	t.Parallel()
	retrieve := func(status int, code string) error {
		return &oauth2.RetrieveError{Response: &http.Response{StatusCode: status}, ErrorCode: code, ErrorDescription: "Token has been expired or revoked."}
	}
	tests := []struct {
		name       string
		err        error
		retry      bool
		credential bool
	}{
		{"invalid grant", retrieve(400, "invalid_grant"), false, true},
		{"invalid client", retrieve(401, "invalid_client"), false, true},
		{"token endpoint down", retrieve(503, ""), true, false},
		{"token endpoint throttles", retrieve(429, ""), true, false},
		{"network", &url.Error{Op: "Post", URL: "https://oauth2.example/token?x=sekrit-value", Err: errors.New("connection refused")}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := TokenError(tt.err, "sekrit-value")
			if _, ok := destination.AsRetryable(err); ok != tt.retry {
				t.Fatalf("err = %#v, retryable want %v", err, tt.retry)
			}
			if pe, ok := destination.AsPermanent(err); ok && pe.Credential != tt.credential {
				t.Fatalf("err = %#v, credential want %v", err, tt.credential)
			}
			if strings.Contains(err.Error(), "sekrit") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestClickID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		src        event.Source
		ids        event.ClickIDs
		kind, want string
	}{
		{"gclid wins", event.SourceWeb, event.ClickIDs{Gclid: "a", Gbraid: "b", Wbraid: "c"}, "gclid", "a"},
		{"web takes wbraid", event.SourceWeb, event.ClickIDs{Gbraid: "b", Wbraid: "c"}, "wbraid", "c"},
		{"app takes gbraid", event.SourceApp, event.ClickIDs{Gbraid: "b", Wbraid: "c"}, "gbraid", "b"},
		{"lone gbraid on web", event.SourceWeb, event.ClickIDs{Gbraid: "b"}, "gbraid", "b"},
		{"none", event.SourceCRM, event.ClickIDs{Fbclid: "f"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := &event.Event{Source: tt.src, Context: event.Context{ClickIDs: tt.ids}}
			if k, v := ClickID(ev); k != tt.kind || v != tt.want {
				t.Errorf("ClickID = %s %s, want %s %s", k, v, tt.kind, tt.want)
			}
		})
	}
}

// TestIdentity: hashes from `printf %s value | sha256sum`; region and zip
// stay plain; a pre-hashed zip is dropped rather than sent as a "zip".
func TestIdentity(t *testing.T) {
	t.Parallel()
	ev := &event.Event{User: event.User{Email: "John.Smith@gmail.com", Phone: "650 555 1212", FirstName: "John",
		Address: &event.Address{Country: "us", Zip: "94025-1234", City: "Menlo Park"}}}
	id, warnings := NewIdentity(ev, "")
	if len(warnings) != 0 {
		t.Fatalf("warnings %v", warnings)
	}
	want := Identity{
		Email:     "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586",
		Phone:     "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8",
		FirstName: "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a",
		City:      "menlo park", Country: "US", Zip: "94025",
	}
	if id != want {
		t.Errorf("identity\n got %+v\nwant %+v", id, want)
	}
	ev.User.Address.Zip = strings.Repeat("ab", 32)
	if id, _ := NewIdentity(ev, ""); id.Zip != "" {
		t.Errorf("hashed zip sent as %q", id.Zip)
	}
}

// slowSource is a token source that answers only when released.
type slowSource struct{ release chan struct{} }

func (s slowSource) Token() (*oauth2.Token, error) {
	<-s.release
	return &oauth2.Token{AccessToken: "late"}, nil
}

// TestTokenHonoursContext: a hanging token endpoint does not hold a Send
// past its context.
func TestTokenHonoursContext(t *testing.T) {
	t.Parallel()
	src := slowSource{release: make(chan struct{})}
	defer close(src.release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Token(ctx, src)
	if re, ok := destination.AsRetryable(err); !ok || re.Reason != "canceled" {
		t.Fatalf("err = %v, want retryable canceled", err)
	}
}
