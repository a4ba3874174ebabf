package console_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/shared/console"
)

// fakeAWS is an aws CLI for infra/scripts/deploy-console.sh: it logs every
// call, answers describe-stacks queries from FAKE_<Key> variables, and
// "uploads" to $FAKE_S3.
const fakeAWS = `#!/usr/bin/env bash
set -euo pipefail
echo "$*" >>"$FAKE_LOG"
query=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[i]}" = --query ] && query=${args[i+1]}
done
case "$1 $2" in
  "cloudformation describe-stacks")
    key=$(printf '%s' "$query" | sed -E "s/.*Key=='([A-Za-z]+)'.*/\1/")
    var="FAKE_$key"
    printf '%s\n' "${!var:-None}" ;;
  "s3 sync")
    mkdir -p "$FAKE_S3"; cp -R "$3". "$FAKE_S3/" ;;
  "s3 cp")
    mkdir -p "$FAKE_S3"; cp "$3" "$FAKE_S3/$(basename "$4")" ;;
  "cloudfront create-invalidation")
    echo I2J3K4 ;;
  *) echo "fake aws: unexpected $*" >&2; exit 2 ;;
esac
`

// runDeployConsole runs the script with the fake aws CLI and env, and
// returns its output, the aws calls and the uploaded files' folder.
func runDeployConsole(t *testing.T, env ...string) (string, []string, string, error) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeAWS), 0o755); err != nil {
		t.Fatal(err)
	}
	s3, log := filepath.Join(dir, "s3"), filepath.Join(dir, "aws.log")
	cmd := exec.Command("bash", filepath.Join("..", "..", "infra", "scripts", "deploy-console.sh"))
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"FAKE_LOG="+log, "FAKE_S3="+s3, "STACK_NAME=guestaccess-prod",
		"FAKE_ConsoleBucketName=guestaccess-prod-consolebucket-1x2y3z",
		"FAKE_ConsoleDistributionId=E1ABCDEF",
		"FAKE_ConsoleUrl=https://d111111abcdef8.cloudfront.net",
		"FAKE_ApiUrl=https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1",
		"FAKE_ConsoleTokenUrl=https://login.idp.example/oauth2/token",
		"CONSOLE_AUTHORIZE_URL=https://login.idp.example/oauth2/authorize",
		"CONSOLE_CLIENT_ID=guestaccess-console")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	calls, _ := os.ReadFile(log)
	return string(out), strings.Split(strings.TrimSpace(string(calls)), "\n"), s3, err
}

// TestDeployConsoleScript: the script writes config.json from the stack's
// outputs and the identity provider's settings (JSON-escaped), syncs the
// static files without touching config.json, uploads config.json no-store,
// invalidates the distribution, and says whether the console's origin is
// in AllowedOrigins yet.
func TestDeployConsoleScript(t *testing.T) {
	out, calls, s3, err := runDeployConsole(t, `CONSOLE_SCOPE=openid "admin"`, "CONSOLE_ORG_ID=14west")
	if err != nil {
		t.Fatalf("deploy-console.sh: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(s3, "config.json"))
	if err != nil {
		t.Fatalf("config.json not uploaded: %v\n%s", err, out)
	}
	var cfg console.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("config.json %s: %v", b, err)
	}
	want := console.Config{APIBaseURL: "https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1",
		AuthorizeURL: "https://login.idp.example/oauth2/authorize", TokenURL: "https://login.idp.example/oauth2/token",
		ClientID: "guestaccess-console", Scope: `openid "admin"`, OrgID: "14west"}
	if cfg != want {
		t.Errorf("config.json = %+v, want %+v", cfg, want)
	}
	if _, err := os.Stat(filepath.Join(s3, "index.html")); err != nil {
		t.Errorf("index.html not synced: %v", err)
	}
	joined := strings.Join(calls, "\n")
	for _, c := range []string{
		"s3 sync shared/console/static/ s3://guestaccess-prod-consolebucket-1x2y3z/ --delete --exclude config.json --cache-control no-cache",
		"/config.json s3://guestaccess-prod-consolebucket-1x2y3z/config.json --content-type application/json --cache-control no-store",
		"cloudfront create-invalidation --distribution-id E1ABCDEF --paths /*",
	} {
		if !strings.Contains(joined, c) {
			t.Errorf("no aws call %q in\n%s", c, joined)
		}
	}
	if !strings.Contains(out, "does not allow its origin yet") || !strings.Contains(out, "AllowedOrigins=https://d111111abcdef8.cloudfront.net") {
		t.Errorf("the script does not say to allow the console's origin:\n%s", out)
	}

	out, _, _, err = runDeployConsole(t, "FAKE_AllowedOrigins=https://admin.14west.example,https://d111111abcdef8.cloudfront.net")
	if err != nil || !strings.Contains(out, "(an allowed origin of the API)") {
		t.Errorf("an allowed console origin: %v\n%s", err, out)
	}
}

// TestDeployConsoleScriptRefuses: a token URL other than the stack's
// ConsoleTokenUrl (the CSP would block it) or a stack without the console
// stops the script before any upload.
func TestDeployConsoleScriptRefuses(t *testing.T) {
	for name, env := range map[string][]string{
		"another token endpoint":  {"CONSOLE_TOKEN_URL=https://other.idp.example/token"},
		"no console in the stack": {"FAKE_ConsoleBucketName=", "FAKE_ConsoleUrl="},
		"no client id":            {"CONSOLE_CLIENT_ID="},
	} {
		out, calls, s3, err := runDeployConsole(t, env...)
		if err == nil {
			t.Errorf("%s: the script succeeded:\n%s", name, out)
		}
		if _, serr := os.Stat(s3); serr == nil || strings.Contains(strings.Join(calls, "\n"), " s3 ") {
			t.Errorf("%s: uploaded anyway: %v", name, calls)
		}
		t.Logf("%s: %s", name, strings.TrimSpace(out))
	}
}
