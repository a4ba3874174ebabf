// Package dnscheck is the DNS adapter of domain proofs: it reads a name's
// TXT records with the standard library's resolver, from the system's
// resolver or from one named address (DNS_RESOLVER: the dev stack's and the
// tests' loopback server), each lookup bounded in time.
package dnscheck

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"
)

// DefaultTimeout bounds one lookup (every try of it).
const DefaultTimeout = 5 * time.Second

// Resolver looks up TXT records.
type Resolver struct {
	// Addr is the resolver's host:port (UDP, then TCP for a truncated
	// answer); empty for the system's.
	Addr string
	// Timeout bounds one lookup (0: DefaultTimeout).
	Timeout time.Duration
}

// LookupTXT returns the TXT records of name (each record's strings joined,
// as the standard library does). A name that does not exist or holds no
// TXT record is no records and no error; an error is a lookup that failed
// (a timeout, a server failure), which says nothing of the record.
func (r Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := &net.Resolver{PreferGo: true}
	if r.Addr != "" {
		addr := r.Addr
		res.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	}
	// Absolute: no search domain of the host is tried.
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	txt, err := res.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return nil, nil
	}
	return txt, err
}
