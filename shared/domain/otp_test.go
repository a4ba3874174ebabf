package domain

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestOTPMatchesInConstantTime: the code is compared through
// crypto/subtle.ConstantTimeCompare on the hashes, and nothing else in the
// file compares a hash (no bytes.Equal, no string ==).
func TestOTPMatchesInConstantTime(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "otp.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var uses []string
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok {
				uses = append(uses, x.Name+"."+sel.Sel.Name)
			}
		}
		return true
	})
	got := strings.Join(uses, " ")
	if !strings.Contains(got, "subtle.ConstantTimeCompare") || strings.Contains(got, "bytes.Equal") {
		t.Fatalf("Matches must use subtle.ConstantTimeCompare: %s", got)
	}
	o := OTP{Salt: []byte("salt")}
	o.Hash = HashOTP(o.Salt, "123456")
	if !o.Matches("123456") || o.Matches("123457") || o.Matches("") || (OTP{}).Matches("123456") {
		t.Fatal("Matches")
	}
}
