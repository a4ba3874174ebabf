// Command devidp is a throwaway identity provider for the stack on
// LocalStack: it keeps one RSA and one EC signing key in a state file (0600),
// prints their JSON Web Key Set, and signs admin tokens with them. deploy.sh
// publishes the JWKS in LocalStack's S3 as the authorizer's JwksUrl when no
// JWKS_URL is given, and e2e.sh mints LOCALSTACK_ADMIN_TOKEN with it; product
// mints a product's token for access decisions, bound to its product and
// the orgs (-org) or sites (-site org/site) given, at least one. It is
// for local development only: never point a real deployment at its keys.
//
//	go run ./localstack/devidp -state .aws-sam/localstack/idp.json jwks
//	go run ./localstack/devidp -state .aws-sam/localstack/idp.json token -sub local-admin -ttl 1h
//	go run ./localstack/devidp -state .aws-sam/localstack/idp.json product -product confluence -org 14west
//	go run ./localstack/devidp -state .aws-sam/localstack/idp.json issuer|audience
//
// The first command that finds no state file creates it, with -issuer and
// -audience; later commands use what the file holds.
package main

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/infra/testkit/jwttest"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devidp:", err)
		os.Exit(1)
	}
}

// state is the file's content.
type state struct {
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
	KeyID    string `json:"kid"`
	ECKeyID  string `json:"ecKid"`
	RSAKey   string `json:"rsaKeyPem"` // PKCS#8
	ECKey    string `json:"ecKeyPem"`  // PKCS#8
}

func run(args []string, out io.Writer) error {
	fsFlags := flag.NewFlagSet("devidp", flag.ContinueOnError)
	path := fsFlags.String("state", ".aws-sam/localstack/idp.json", "state file holding the keys (created when missing)")
	issuer := fsFlags.String("issuer", "https://idp.localstack.guestaccess.invalid/", "iss of the tokens (used when creating the state)")
	audience := fsFlags.String("audience", "guestaccess-localstack", "aud of the tokens (used when creating the state)")
	if err := fsFlags.Parse(args); err != nil {
		return err
	}
	if fsFlags.NArg() == 0 {
		return errors.New("usage: devidp [-state FILE] jwks | token -sub SUB [-ttl 1h] [-email ADDR] | product -product P (-org ORG | -site ORG/SITE)... [-client ID] [-ttl 1h] | issuer | audience")
	}
	iss, err := load(*path, *issuer, *audience)
	if err != nil {
		return err
	}
	switch cmd, rest := fsFlags.Arg(0), fsFlags.Args()[1:]; cmd {
	case "jwks":
		_, err = fmt.Fprintf(out, "%s\n", iss.JWKS())
	case "issuer":
		_, err = fmt.Fprintln(out, iss.Issuer)
	case "audience":
		_, err = fmt.Fprintln(out, iss.Audience)
	case "token":
		tf := flag.NewFlagSet("token", flag.ContinueOnError)
		sub := tf.String("sub", "", "subject: the account id the bootstrap gave the admin")
		ttl := tf.Duration("ttl", time.Hour, "validity")
		email := tf.String("email", "", "optional email claim")
		if err := tf.Parse(rest); err != nil {
			return err
		}
		if *sub == "" {
			return errors.New("token: -sub is required")
		}
		var extra map[string]any
		if *email != "" {
			extra = map[string]any{"email": *email}
		}
		tok, terr := iss.Token(*sub, *ttl, extra)
		if terr != nil {
			return terr
		}
		_, err = fmt.Fprintln(out, tok)
	case "product":
		var tok string
		if tok, err = productToken(iss, rest); err == nil {
			_, err = fmt.Fprintln(out, tok)
		}
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	return err
}

// list is a flag that may repeat.
type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// productToken signs a product's token (scope access:decide) bound to
// -product and to the -org and -site values (both may repeat, one is
// needed): an unbound product token gets no decision at all.
func productToken(iss *jwttest.Issuer, args []string) (string, error) {
	tf := flag.NewFlagSet("product", flag.ContinueOnError)
	product := tf.String("product", "", "the product the token speaks for: confluence, jira or jira-service-management")
	client := tf.String("client", "", "client id (sub); the product's name when empty")
	ttl := tf.Duration("ttl", time.Hour, "validity")
	var orgs, sites list
	tf.Var(&orgs, "org", "an org id the token may ask about (repeatable)")
	tf.Var(&sites, "site", "a single site org/site the token may ask about (repeatable)")
	if err := tf.Parse(args); err != nil {
		return "", err
	}
	if _, ok := domain.ParseProduct(*product); !ok {
		return "", errors.New("product: -product must be confluence, jira or jira-service-management")
	}
	if len(orgs)+len(sites) == 0 {
		return "", errors.New("product: give at least one -org or -site")
	}
	if *client == "" {
		*client = *product
	}
	claims := map[string]any{"scope": httpapi.DecisionScope, "product": *product}
	if len(orgs) > 0 {
		claims["orgs"] = []string(orgs)
	}
	if len(sites) > 0 {
		claims["sites"] = []string(sites)
	}
	if g := domain.NewProductGrant(*product, orgs, sites); len(g.Orgs) != len(orgs) || len(g.Sites) != len(sites) {
		return "", errors.New("product: -org must be an org id and -site org/site")
	}
	return iss.Token(*client, *ttl, claims)
}

// load reads the state file, creating it with fresh keys when it is missing.
func load(path, issuer, audience string) (*jwttest.Issuer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return create(path, issuer, audience)
	}
	if err != nil {
		return nil, err
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rk, err := parseKey(s.RSAKey)
	if err != nil {
		return nil, fmt.Errorf("%s: RSA key: %w", path, err)
	}
	ek, err := parseKey(s.ECKey)
	if err != nil {
		return nil, fmt.Errorf("%s: EC key: %w", path, err)
	}
	rsaKey, ok1 := rk.(*rsa.PrivateKey)
	ecKey, ok2 := ek.(*ecdsa.PrivateKey)
	if !ok1 || !ok2 || s.Issuer == "" || s.Audience == "" || s.KeyID == "" || s.ECKeyID == "" {
		return nil, fmt.Errorf("%s: incomplete state; delete it to start over", path)
	}
	return &jwttest.Issuer{Issuer: s.Issuer, Audience: s.Audience, KeyID: s.KeyID, ECKeyID: s.ECKeyID, RSAKey: rsaKey, ECKey: ecKey}, nil
}

func create(path, issuer, audience string) (*jwttest.Issuer, error) {
	iss, err := jwttest.NewIssuer(issuer, audience)
	if err != nil {
		return nil, err
	}
	rk, err := x509.MarshalPKCS8PrivateKey(iss.RSAKey)
	if err != nil {
		return nil, err
	}
	ek, err := x509.MarshalPKCS8PrivateKey(iss.ECKey)
	if err != nil {
		return nil, err
	}
	s := state{Issuer: issuer, Audience: audience, KeyID: iss.KeyID, ECKeyID: iss.ECKeyID,
		RSAKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rk})),
		ECKey:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ek}))}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: two concurrent first runs must not end with two key sets.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return load(path, issuer, audience)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	return iss, f.Close()
}

func parseKey(p string) (any, error) {
	blk, _ := pem.Decode([]byte(p))
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	return x509.ParsePKCS8PrivateKey(blk.Bytes)
}
