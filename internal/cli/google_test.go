package cli

import (
	"strings"
	"testing"
)

// TestNormalizeGoogle: the Google platforms' rules from the CLI, with
// digests computed by `printf %s value | sha256sum`.
func TestNormalizeGoogle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		platform, field, in, want string
	}{
		{"google", "email", "John.Smith@Gmail.com", "johnsmith@gmail.com\t3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586"},
		{"google", "phone", "+1 (650) 555-1212", "+16505551212\t1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"},
		{"ga4", "first_name", "John", "john\t96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a"},
	}
	for _, tt := range tests {
		t.Run(tt.platform+"/"+tt.field, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, tt.in+"\n", "normalize", "--platform", tt.platform, "--field", tt.field)
			if code != 0 || strings.TrimSpace(out) != tt.want {
				t.Fatalf("exit %d, out %q, err %q; want %q", code, out, errOut, tt.want)
			}
		})
	}
}

// TestSandboxGoogleFlags: the Google secrets come from named variables,
// which must be set.
func TestSandboxGoogleFlags(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"--google-refresh-token-env", "--ga4-api-secret-env"} {
		code, _, errOut := run(t, "", "sandbox", "--listen", "127.0.0.1:0", flag, "SIGNALPIPE_TEST_UNSET_VARIABLE")
		if code != 1 || !strings.Contains(errOut, "SIGNALPIPE_TEST_UNSET_VARIABLE is empty") {
			t.Errorf("%s with an unset variable: exit %d, %q", flag, code, errOut)
		}
	}
}
