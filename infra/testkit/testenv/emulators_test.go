package testenv

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestMotoStartsOncePerBinary(t *testing.T) {
	t.Setenv(EnvMoto, "")
	a, b := Moto(t), Moto(t)
	if a != b || !strings.HasPrefix(a, "http://127.0.0.1:") {
		t.Fatalf("endpoints %q and %q", a, b)
	}
	if _, err := DynamoDB(a, nil).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	if Endpoint(t, EnvMoto) != a {
		t.Error("Endpoint(MOTO_ENDPOINT) does not give the binary's own moto")
	}
}

// MotoN(n) is a server of its own for each n > 0 (a table made in one is
// not in another), started once per binary; MotoN(0) is Moto.
func TestMotoNServersOfTheirOwn(t *testing.T) {
	t.Setenv(EnvMoto, "")
	zero, one := MotoN(t, 0), MotoN(t, 1)
	if zero != Moto(t) || one == zero || MotoN(t, 1) != one {
		t.Fatalf("MotoN(0) %q, Moto %q, MotoN(1) %q then %q", zero, Moto(t), one, MotoN(t, 1))
	}
	ctx := context.Background()
	name := "motoN-" + strings.ReplaceAll(t.Name(), "/", "-")
	if err := CreateTable(ctx, DynamoDB(one, nil), name); err != nil {
		t.Fatal(err)
	}
	for ep, want := range map[string]bool{one: true, zero: false} {
		out, err := DynamoDB(ep, nil).ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if has := slices.Contains(out.TableNames, name); has != want {
			t.Errorf("%s lists %s: %v, want %v", ep, name, has, want)
		}
	}
}

func TestSetEndpointWins(t *testing.T) {
	t.Setenv(EnvMoto, "http://127.0.0.1:1")
	t.Setenv(EnvSESLocal, "http://127.0.0.1:2")
	if Moto(t) != "http://127.0.0.1:1" || SESLocal(t) != "http://127.0.0.1:2" {
		t.Errorf("Moto %q, SESLocal %q", Moto(t), SESLocal(t))
	}
}

// The emulators a test binary starts die with it, even when it is killed
// without a chance to clean up.
func TestEmulatorsDieWithTheTestBinary(t *testing.T) {
	if os.Getenv("TESTENV_HELPER") == "1" {
		t.Logf("URLS %s %s", Moto(t), SESLocal(t))
		time.Sleep(time.Minute)
		return
	}
	// Skip or fail here, like any emulator test, if they cannot start.
	t.Setenv(EnvMoto, "")
	t.Setenv(EnvSESLocal, "")
	Moto(t)
	SESLocal(t)

	cmd := exec.Command(os.Args[0], "-test.run=^TestEmulatorsDieWithTheTestBinary$", "-test.v")
	cmd.Env = append(os.Environ(), "TESTENV_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var urls []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "URLS "); ok {
			urls = strings.Fields(after)
			break
		}
	}
	_ = cmd.Process.Kill() // SIGKILL: no cleanup runs in the helper
	_ = cmd.Wait()
	if len(urls) != 2 {
		t.Fatalf("the helper did not report its emulators: %v", urls)
	}
	client := &http.Client{Timeout: time.Second}
	for _, u := range urls {
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := client.Get(u)
			if err != nil {
				break // gone
			}
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Fatalf("%s still answers after its test binary was killed", u)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
