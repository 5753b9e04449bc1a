package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                    string
		tokenEnv, endpoint, reg string
		wantKeys                []string
	}{
		{"valid", "TOKEN", "https://api.example.com", "US", nil},
		{"valid without region", "TOKEN", "http://127.0.0.1:9", "", nil},
		{"all wrong", "", "ftp://x", "us", []string{"access_token_env: required", "endpoint:", "default_phone_region:"}},
		{"token in the file", "pina_abc def", "https://x", "", []string{"access_token_env:", "not an environment variable name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Check(tt.tokenEnv, tt.endpoint, tt.reg)
			if len(tt.wantKeys) == 0 {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			for _, k := range tt.wantKeys {
				if err == nil || !strings.Contains(err.Error(), k) {
					t.Errorf("Check = %v, want it to contain %q", err, k)
				}
			}
		})
	}
}

func TestConn(t *testing.T) {
	t.Parallel()
	if _, err := NewConn("http://x", "MY_TOKEN", "", time.Second, 1, nil); err == nil || !strings.Contains(err.Error(), "MY_TOKEN") {
		t.Fatalf("empty token: err = %v, want one naming the variable", err)
	}
	var gotHeader, gotType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader, gotType = r.Header.Get("X-Token"), r.Header.Get("Content-Type")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"ok":false}`))
	}))
	defer srv.Close()
	c, err := NewConn(srv.URL, "T", "secret-token", time.Second, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Post(context.Background(), http.Header{"X-Token": {c.Token()}}, []byte(`{}`))
	if err != nil || a.Status != http.StatusTeapot || string(a.Body) != `{"ok":false}` || destination.ParseRetryAfter(a.Header) != 7*time.Second {
		t.Fatalf("Post = %+v, %v", a, err)
	}
	if gotHeader != "secret-token" || gotType != "application/json" {
		t.Errorf("request headers: token %q, type %q", gotHeader, gotType)
	}
	pv := c.Preview("X-Token: [$T]", []byte(`{"a":1}`))
	if pv.Method != http.MethodPost || pv.URL != srv.URL || len(pv.Header) != 2 || pv.Header[0] != "X-Token: [$T]" || string(pv.Body) != `{"a":1}` {
		t.Errorf("Preview = %+v", pv)
	}
	if strings.Contains(strings.Join(pv.Header, "\n")+pv.URL, "secret-token") {
		t.Errorf("Preview shows the token: %+v", pv)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestPostRedactsTheToken: a transport error built from a URL that holds
// the token (as net/http's *url.Error does) never shows it.
func TestPostRedactsTheToken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const token = "tok/en with+odd chars"
	c, err := NewConn("http://"+addr+"/x?access_token="+token, "T", token, time.Second, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Post(context.Background(), nil, []byte(`{}`))
	re, ok := destination.AsRetryable(err)
	if !ok || strings.Contains(re.Error(), "tok/en") || strings.Contains(re.Error(), "tok%2Fen") {
		t.Fatalf("err = %v, want a retryable error without the token", err)
	}
}
