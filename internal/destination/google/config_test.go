package google

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // a key the error must name; "" for valid
	}{
		{"example is valid", func(*Config) {}, ""},
		{"customer id with dashes", func(c *Config) { c.CustomerID = "123-456-7890" }, "customer_id"},
		{"no conversion action", func(c *Config) { c.ConversionActionID = "" }, "events"},
		{"secret in the file", func(c *Config) { c.RefreshTokenEnv = "1//0g-refresh-token" }, "refresh_token_env"},
		{"no credentials", func(c *Config) { c.ClientIDEnv, c.ClientSecretEnv, c.RefreshTokenEnv = "", "", "" }, "service_account_key_file"},
		{"both kinds of credentials", func(c *Config) { c.ServiceAccountKeyFile = "/k.json" }, "service_account_key_file"},
		{"half a refresh token setup", func(c *Config) { c.ClientSecretEnv = "" }, "client_secret_env"},
		{"age over the lookback", func(c *Config) { c.MaxEventAge = MaxEventAgeLimit + 1 }, "max_event_age"},
		{"bad token url", func(c *Config) { c.TokenURL = "oauth2" }, "token_url"},
		{"value buckets out of order", func(c *Config) { c.ValueBuckets = ValueBuckets{Medium: 500, High: 500} }, "customer_value_buckets"},
		{"value bucket medium not positive", func(c *Config) { c.ValueBuckets = ValueBuckets{Medium: -1, High: 500} }, "customer_value_buckets"},
		{"own value buckets", func(c *Config) { c.ValueBuckets = ValueBuckets{Medium: 50, High: 80} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want+":") {
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// writeServiceAccountKey writes a service account JSON key with a fresh RSA
// key, as the Cloud console downloads one.
func writeServiceAccountKey(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "p", "private_key_id": "kid-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "signalpipe@p.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": "https://oauth2.googleapis.com/token",
	})
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
