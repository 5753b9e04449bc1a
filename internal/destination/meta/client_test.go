package meta

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// TestSendNeverLeaksToken: a transport failure's error (which net/http
// builds from the URL, and so from the token) is scrubbed.
func TestSendNeverLeaksToken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := testConfig()
	c.Endpoint = "http://" + addr
	const token = "EAAB-very-secret"
	cl, err := New(c, token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_, err = cl.Send(context.Background(), []destination.Prepared{{Payload: []byte(`{}`)}})
	re, ok := destination.AsRetryable(err)
	if !ok {
		t.Fatalf("err = %v, want retryable", err)
	}
	if strings.Contains(re.Error(), token) || strings.Contains(re.Detail, token) {
		t.Errorf("error leaks the token: %q", re.Error())
	}
}

// TestSendAgainstSandbox: one real request, accepted; a wrong token is a
// credential error; and Close is idempotent.
func TestSendAgainstSandbox(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{MetaTokens: map[string]string{"1": "good"}})
	url, stop, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	c := testConfig()
	c.Endpoint = url
	ev := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
	ev.EventTime = time.Now().Add(-time.Hour)
	p, err := c.Prepare(ev)
	if err != nil {
		t.Fatal(err)
	}

	good, _ := New(c, "good", nil)
	res, err := good.Send(context.Background(), []destination.Prepared{p})
	if err != nil || len(res) != 1 || res[0].Status != destination.Delivered || res[0].PlatformRef == "" {
		t.Fatalf("send: %v %+v", err, res)
	}
	if got := sb.Meta().Events(); len(got) != 1 || got[0].EventID != "ord-1001" {
		t.Fatalf("sandbox recorded %+v", got)
	}

	bad, _ := New(c, "wrong", nil)
	_, err = bad.Send(context.Background(), []destination.Prepared{p})
	if pe, ok := destination.AsPermanent(err); !ok || !pe.Credential || pe.Reason != "auth_error" {
		t.Fatalf("wrong token: err = %v", err)
	}
	if err := bad.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bad.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
