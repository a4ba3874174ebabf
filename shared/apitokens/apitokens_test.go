package apitokens

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Port fakes: each is a function implementing one port, and a fakeStore
// is made of the ports a case's path calls; a port left nil is one the path
// must not reach (calling it fails the test with a nil dereference).

type loadScope func(orgID, callerID, accountID, tokenID string) (domain.APITokenScope, error)

func (f loadScope) LoadAPITokenScope(_ context.Context, orgID, callerID, accountID, tokenID string) (domain.APITokenScope, error) {
	return f(orgID, callerID, accountID, tokenID)
}

type createToken func(c domain.APITokenCreation) error

func (f createToken) CreateAPIToken(_ context.Context, c domain.APITokenCreation) error { return f(c) }

type listTokens func(orgID, accountID string, limit int, cursor string) (domain.Page[domain.APIToken], error)

func (f listTokens) APITokens(_ context.Context, orgID, accountID string, limit int, cursor string) (domain.Page[domain.APIToken], error) {
	return f(orgID, accountID, limit, cursor)
}

type revokeToken func(r domain.APITokenRevocation) error

func (f revokeToken) RevokeAPIToken(_ context.Context, r domain.APITokenRevocation) error {
	return f(r)
}

// fakeStore is the service's Store made of port fakes.
type fakeStore struct {
	ScopeLoader
	Creator
	Lister
	Revoker
}

var now = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

const (
	tokenID = "0123456789abcdef0123456789abcdef"
	owner   = "u1"
)

func service(st *fakeStore) *Service {
	return &Service{Store: st, Now: func() time.Time { return now }}
}

func ptr[T any](v T) *T { return &v }

func acct(id string, status domain.UserStatus, orgAdmin bool) *domain.User {
	return &domain.User{OrgID: "o", AccountID: id, Email: id + "@x.example", Status: status, OrgAdmin: orgAdmin}
}

func token() *domain.APIToken {
	return &domain.APIToken{ID: tokenID, OrgID: "o", AccountID: owner, Label: "CI", Hash: strings.Repeat("ab", 32),
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(24 * time.Hour)}
}

// scope is org "o", the caller as given and the owner u1 (active) with
// their token.
func scope(caller *domain.User) domain.APITokenScope {
	return domain.APITokenScope{Org: &domain.Org{ID: "o"}, Caller: caller, User: acct(owner, domain.UserActive, false), Token: token()}
}

// op runs one of the three operations for caller on u1's tokens.
func op(s *Service, name, caller string) error {
	c := domain.Caller{AccountID: caller, RequestID: "req-1"}
	var err error
	switch name {
	case "create":
		_, err = s.Create(context.Background(), c, "o", owner, "CI", nil)
	case "list":
		_, err = s.List(context.Background(), c, "o", owner, 10, "")
	case "revoke":
		_, err = s.Revoke(context.Background(), c, "o", owner, tokenID)
	}
	return err
}

// TestGate: only the user themselves, while active, makes a token (an org
// admin does not make one for someone else); the user (active) and active
// org admins list and revoke; an unknown org or a caller outside it is 404;
// a refusal writes nothing.
func TestGate(t *testing.T) {
	readErr := errors.New("dynamodb down")
	cases := []struct {
		name   string
		caller *domain.User // nil: not in the org
		noOrg  bool
		err    error
		want   map[string]string // op → error code ("" allowed)
	}{
		{name: "self, active", caller: acct(owner, domain.UserActive, false),
			want: map[string]string{"create": "", "list": "", "revoke": ""}},
		{name: "self, suspended", caller: acct(owner, domain.UserSuspended, false),
			want: map[string]string{"create": domain.EFORBIDDEN, "list": domain.EFORBIDDEN, "revoke": domain.EFORBIDDEN}},
		{name: "self, invited", caller: acct(owner, domain.UserInvited, false),
			want: map[string]string{"create": domain.EFORBIDDEN, "list": domain.EFORBIDDEN, "revoke": domain.EFORBIDDEN}},
		{name: "self, suspended org admin", caller: acct(owner, domain.UserSuspended, true),
			want: map[string]string{"create": domain.EFORBIDDEN, "list": domain.EFORBIDDEN, "revoke": domain.EFORBIDDEN}},
		{name: "org admin, someone else's", caller: acct("admin", domain.UserActive, true),
			want: map[string]string{"create": domain.EFORBIDDEN, "list": "", "revoke": ""}},
		{name: "suspended org admin", caller: acct("admin", domain.UserSuspended, true),
			want: map[string]string{"create": domain.EFORBIDDEN, "list": domain.EFORBIDDEN, "revoke": domain.EFORBIDDEN}},
		{name: "another user", caller: acct("other", domain.UserActive, false),
			want: map[string]string{"create": domain.EFORBIDDEN, "list": domain.EFORBIDDEN, "revoke": domain.EFORBIDDEN}},
		{name: "caller not in the org", caller: nil,
			want: map[string]string{"create": domain.ENOTFOUND, "list": domain.ENOTFOUND, "revoke": domain.ENOTFOUND}},
		{name: "no such org", caller: acct(owner, domain.UserActive, true), noOrg: true,
			want: map[string]string{"create": domain.ENOTFOUND, "list": domain.ENOTFOUND, "revoke": domain.ENOTFOUND}},
		{name: "read fails", caller: acct(owner, domain.UserActive, false), err: readErr,
			want: map[string]string{"create": domain.EINTERNAL, "list": domain.EINTERNAL, "revoke": domain.EINTERNAL}},
	}
	for _, tc := range cases {
		for _, name := range []string{"create", "list", "revoke"} {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				callerID := "admin"
				if tc.caller != nil {
					callerID = tc.caller.AccountID
				}
				wrote := false
				st := &fakeStore{ScopeLoader: loadScope(func(o, c, a, tok string) (domain.APITokenScope, error) {
					if o != "o" || c != callerID || a != owner {
						t.Errorf("load %q %q %q", o, c, a)
					}
					if want := map[string]string{"revoke": tokenID}[name]; tok != want {
						t.Errorf("load token %q, want %q", tok, want)
					}
					sc := scope(tc.caller)
					if tc.noOrg {
						sc.Org = nil
					}
					return sc, tc.err
				})}
				if tc.want[name] == "" {
					st.Creator = createToken(func(domain.APITokenCreation) error { wrote = true; return nil })
					st.Lister = listTokens(func(string, string, int, string) (domain.Page[domain.APIToken], error) {
						return domain.Page[domain.APIToken]{}, nil
					})
					st.Revoker = revokeToken(func(domain.APITokenRevocation) error { wrote = true; return nil })
				}
				err := op(service(st), name, callerID)
				if got := domain.ErrorCode(err); got != tc.want[name] {
					t.Fatalf("%s: %v, want code %q", name, err, tc.want[name])
				}
				if tc.err != nil && !errors.Is(err, tc.err) {
					t.Errorf("read error not answered: %v", err)
				}
				if name != "list" && wrote != (tc.want[name] == "") {
					t.Errorf("wrote %v", wrote)
				}
			})
		}
	}
}

// TestIDsCheckedBeforeReading: a malformed org, caller, user or token id is
// 404 with nothing read.
func TestIDsCheckedBeforeReading(t *testing.T) {
	s := service(&fakeStore{})
	ctx := context.Background()
	c := domain.Caller{AccountID: owner}
	checks := map[string]error{}
	_, checks["create: bad org"] = s.Create(ctx, c, "O!", owner, "CI", nil)
	_, checks["create: bad caller"] = s.Create(ctx, domain.Caller{AccountID: "a#b"}, "o", owner, "CI", nil)
	_, checks["create: bad account"] = s.Create(ctx, c, "o", "", "CI", nil)
	_, checks["list: bad org"] = s.List(ctx, c, "", owner, 10, "")
	_, checks["list: bad account"] = s.List(ctx, c, "o", "a b", 10, "")
	_, checks["revoke: bad token"] = s.Revoke(ctx, c, "o", owner, "0123456789ABCDEF0123456789ABCDEF")
	_, checks["revoke: short token"] = s.Revoke(ctx, c, "o", owner, tokenID[:31])
	_, checks["revoke: bad account"] = s.Revoke(ctx, c, "o", "#", tokenID)
	for name, err := range checks {
		if domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("%s: %v, want ENOTFOUND", name, err)
		}
	}
}

// TestCreateValidation: the label is 1 to 100 characters as given, one of
// them not a space (the OpenAPI document's maxLength and pattern), and the
// lifetime 1 to 365 days, each bad field named, before anything is read.
func TestCreateValidation(t *testing.T) {
	cases := []struct {
		name  string
		label string
		days  *int
		want  []string // fields named
	}{
		{"empty label", "", nil, []string{"label"}},
		{"blank label", "   ", nil, []string{"label"}},
		{"label of 101 characters", strings.Repeat("é", 101), nil, []string{"label"}},
		{"label of 100 characters and a space", strings.Repeat("é", 100) + " ", nil, []string{"label"}},
		{"label of no-break spaces", "\u00a0\u3000", nil, []string{"label"}},
		{"zero days", "CI", ptr(0), []string{"expiresInDays"}},
		{"negative days", "CI", ptr(-1), []string{"expiresInDays"}},
		{"366 days", "CI", ptr(366), []string{"expiresInDays"}},
		{"both", " ", ptr(0), []string{"expiresInDays", "label"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := service(&fakeStore{}).Create(context.Background(), domain.Caller{AccountID: owner}, "o", owner, tc.label, tc.days)
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.EINVALID {
				t.Fatalf("Create: %v, want EINVALID", err)
			}
			var got []string
			for f := range de.Fields {
				got = append(got, f)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("fields %v, want %v", de.Fields, tc.want)
			}
		})
	}
}

// TestCreateStoresOnlyTheHash: the token written carries the SHA-256 of
// the secret answered, never the secret; the audit entry names the token
// without its secret or hash; the lifetime is the one asked (90 days by
// default, 1 and 365 allowed) and the label is trimmed; a refused write
// (the cap) answers no secret.
func TestCreateStoresOnlyTheHash(t *testing.T) {
	cases := []struct {
		name string
		days *int
		want time.Time
	}{
		{"default", nil, now.AddDate(0, 0, 90)},
		{"one day", ptr(1), now.AddDate(0, 0, 1)},
		{"a year", ptr(365), now.AddDate(0, 0, 365)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []domain.APITokenCreation
			st := &fakeStore{
				ScopeLoader: loadScope(func(_, _, _, _ string) (domain.APITokenScope, error) {
					return scope(acct(owner, domain.UserActive, false)), nil
				}),
				Creator: createToken(func(c domain.APITokenCreation) error { got = append(got, c); return nil }),
			}
			c := domain.Caller{AccountID: owner, RequestID: "req-1"}
			res, err := service(st).Create(context.Background(), c, "o", owner, "  deploy bot ", tc.days)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d writes, want 1", len(got))
			}
			tok, a := got[0].Token, got[0].Audit
			if !strings.HasPrefix(res.Secret, domain.APITokenPrefix) || !domain.ValidAPITokenShape(res.Secret) {
				t.Errorf("secret %q is not a token's", res.Secret)
			}
			if tok.Hash != domain.HashToken(res.Secret) || !reflect.DeepEqual(res.Token, tok) {
				t.Errorf("written %+v answered %+v: want the secret's hash, the same token", tok, res.Token)
			}
			if !validTokenID(tok.ID) || tok.OrgID != "o" || tok.AccountID != owner || tok.Label != "deploy bot" ||
				!tok.CreatedAt.Equal(now) || !tok.ExpiresAt.Equal(tc.want) {
				t.Errorf("token %+v, want label \"deploy bot\", created %v, expiring %v", tok, now, tc.want)
			}
			if written := fmt.Sprintf("%+v", got[0]); strings.Contains(written, res.Secret) || strings.Contains(written, strings.TrimPrefix(res.Secret, domain.APITokenPrefix)) {
				t.Errorf("the secret reached the store: %s", written)
			}
			wantAfter := map[string]any{"tokenId": tok.ID, "label": "deploy bot", "expiresAt": tc.want.Format(time.RFC3339)}
			if a.OrgID != "o" || a.Actor != owner || a.Action != domain.ActionAPITokenCreate || a.Target != domain.UserTarget(owner) ||
				a.RequestID != "req-1" || !a.At.Equal(now) || a.Before != nil || !reflect.DeepEqual(a.After, wantAfter) {
				t.Errorf("audit %+v, want after %v", a, wantAfter)
			}
		})
	}
	t.Run("at the cap", func(t *testing.T) {
		st := &fakeStore{
			ScopeLoader: loadScope(func(_, _, _, _ string) (domain.APITokenScope, error) {
				return scope(acct(owner, domain.UserActive, false)), nil
			}),
			Creator: createToken(func(domain.APITokenCreation) error { return domain.Errorf(domain.ECONFLICT, "20 tokens") }),
		}
		res, err := service(st).Create(context.Background(), domain.Caller{AccountID: owner}, "o", owner, "CI", nil)
		if domain.ErrorCode(err) != domain.ECONFLICT || res != (Created{}) {
			t.Errorf("Create = %+v, %v; want ECONFLICT and no secret", res, err)
		}
	})
}

// TestListAndRevoke: the list is the store's page for the user named, with
// the limit and cursor given; a revoke of an absent token (or of a user not
// in the org) is 404 with nothing written, else it deletes the token read
// with the audit entry (before: the token, without its hash).
func TestListAndRevoke(t *testing.T) {
	admin := acct("admin", domain.UserActive, true)
	c := domain.Caller{AccountID: "admin", RequestID: "req-2"}
	ctx := context.Background()

	page := domain.Page[domain.APIToken]{Items: []domain.APIToken{*token()}, Next: "n"}
	st := &fakeStore{
		ScopeLoader: loadScope(func(_, _, _, _ string) (domain.APITokenScope, error) { return scope(admin), nil }),
		Lister: listTokens(func(o, a string, limit int, cursor string) (domain.Page[domain.APIToken], error) {
			if o != "o" || a != owner || limit != 25 || cursor != "c" {
				t.Errorf("list %q %q %d %q", o, a, limit, cursor)
			}
			return page, nil
		}),
	}
	if got, err := service(st).List(ctx, c, "o", owner, 25, "c"); err != nil || !reflect.DeepEqual(got, page) {
		t.Errorf("List = %+v, %v", got, err)
	}

	noToken := scope(admin)
	noToken.Token = nil
	noUser := scope(admin)
	noUser.User = nil
	for name, sc := range map[string]domain.APITokenScope{"no token": noToken, "no user": noUser} {
		st := &fakeStore{ScopeLoader: loadScope(func(_, _, _, _ string) (domain.APITokenScope, error) { return sc, nil })}
		if _, err := service(st).Revoke(ctx, c, "o", owner, tokenID); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("revoke, %s: %v, want ENOTFOUND", name, err)
		}
		if name != "no user" {
			continue
		}
		if _, err := service(st).List(ctx, c, "o", owner, 10, ""); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("list, %s: %v, want ENOTFOUND", name, err)
		}
	}

	var got []domain.APITokenRevocation
	st = &fakeStore{
		ScopeLoader: loadScope(func(_, _, _, _ string) (domain.APITokenScope, error) { return scope(admin), nil }),
		Revoker:     revokeToken(func(r domain.APITokenRevocation) error { got = append(got, r); return nil }),
	}
	tok, err := service(st).Revoke(ctx, c, "o", owner, tokenID)
	if err != nil || !reflect.DeepEqual(tok, *token()) || len(got) != 1 || !reflect.DeepEqual(got[0].Token, *token()) {
		t.Fatalf("Revoke = %+v, %v; wrote %+v", tok, err, got)
	}
	a := got[0].Audit
	wantBefore := map[string]any{"tokenId": tokenID, "label": "CI", "expiresAt": token().ExpiresAt.Format(time.RFC3339)}
	if a.OrgID != "o" || a.Actor != "admin" || a.Action != domain.ActionAPITokenRevoke || a.Target != domain.UserTarget(owner) ||
		a.RequestID != "req-2" || !a.At.Equal(now) || a.After != nil || !reflect.DeepEqual(a.Before, wantBefore) {
		t.Errorf("audit %+v, want before %v", a, wantBefore)
	}
	boom := errors.New("boom")
	st.Revoker = revokeToken(func(domain.APITokenRevocation) error { return boom })
	if _, err := service(st).Revoke(ctx, c, "o", owner, tokenID); !errors.Is(err, boom) {
		t.Errorf("revoke write error: %v", err)
	}
}
