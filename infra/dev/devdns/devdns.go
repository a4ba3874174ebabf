// Package devdns is a small DNS server on loopback for the dev stack and the
// tests (built with github.com/miekg/dns): it answers TXT records published
// in it, NXDOMAIN for any other name, over UDP and TCP on one port. It lets
// a person (the /dev page) or a test publish and remove a domain's
// ownership challenge, which the functions then read with a real lookup.
// It is never part of a Lambda bootstrap.
package devdns

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Server is a running loopback DNS server.
type Server struct {
	addr string
	udp  *dns.Server
	tcp  *dns.Server
	mu   sync.Mutex
	txt  map[string][]string
	// fail answers SERVFAIL for every query (a resolver outage).
	fail bool
}

// Start starts a server on addr ("127.0.0.1:0" picks a free port; UDP and
// TCP share it).
func Start(addr string) (*Server, error) {
	var pc net.PacketConn
	var ln net.Listener
	var err error
	// A free UDP port may be taken for TCP: a picked port is tried again.
	for range 20 {
		if pc, err = net.ListenPacket("udp", addr); err != nil {
			return nil, fmt.Errorf("devdns: %w", err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		_ = pc.Close()
		if _, port, _ := net.SplitHostPort(addr); port != "0" {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("devdns: %w", err)
	}
	s := &Server{addr: pc.LocalAddr().String(), txt: map[string][]string{}}
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: ln, Handler: s}
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	<-started
	<-started
	return s, nil
}

// Addr is the server's host:port (the functions' DNS_RESOLVER).
func (s *Server) Addr() string { return s.addr }

// Close stops the server.
func (s *Server) Close() error {
	err := s.udp.Shutdown()
	if e := s.tcp.Shutdown(); err == nil {
		err = e
	}
	return err
}

func canonical(name string) string { return dns.CanonicalName(strings.TrimSpace(name)) }

// Publish adds a TXT record (value) at name; publishing it twice keeps one.
func (s *Server) Publish(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := canonical(name)
	if !slices.Contains(s.txt[n], value) {
		s.txt[n] = append(s.txt[n], value)
	}
}

// Remove removes a TXT record from name ("" value: every record there).
func (s *Server) Remove(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := canonical(name)
	if value == "" {
		delete(s.txt, n)
		return
	}
	s.txt[n] = slices.DeleteFunc(s.txt[n], func(v string) bool { return v == value })
	if len(s.txt[n]) == 0 {
		delete(s.txt, n)
	}
}

// SetFailing makes every answer SERVFAIL (true) or normal again.
func (s *Server) SetFailing(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

// Record is one published TXT record.
type Record struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Records lists what is published, by name.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Record{}
	for n, vs := range s.txt {
		for _, v := range vs {
			out = append(out, Record{Name: strings.TrimSuffix(n, "."), Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	s.mu.Lock()
	fail := s.fail
	var vals []string
	known := false
	if len(r.Question) == 1 {
		vals, known = s.txt[canonical(r.Question[0].Name)]
	}
	s.mu.Unlock()
	switch {
	case fail || len(r.Question) != 1:
		m.Rcode = dns.RcodeServerFailure
	case !known:
		m.Rcode = dns.RcodeNameError
	case r.Question[0].Qtype == dns.TypeTXT || r.Question[0].Qtype == dns.TypeANY:
		q := r.Question[0]
		for _, v := range vals {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0}, Txt: split(v)})
		}
	}
	_ = w.WriteMsg(m)
}

// split cuts a value into TXT character-strings of at most 255 bytes (a
// resolver joins them back).
func split(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}
