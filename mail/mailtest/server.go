// Package mailtest runs a real SMTP server in the test process (emersion/go-smtp), so that tests
// send mail through the same client code as production and read what arrived.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message as the server received it.
type Message struct {
	From    string
	To      []string
	Subject string
	ID      string // the Message-ID header
	Body    string
	Raw     []byte
}

// Server is an SMTP server on a loopback port. It can be stopped and started again on the same
// port to play a relay that goes away.
type Server struct {
	t    testing.TB
	addr string

	mu       sync.Mutex
	messages []Message
	arrived  chan struct{}
	srv      *smtp.Server

	// While holding, each message is read whole and then kept waiting for an answer, as on a
	// slow relay: held is signalled, and release (closed by Drop) ends the wait.
	holding bool
	held    chan struct{}
	release chan struct{}
}

// Hold makes the server keep every message it receives waiting for its answer, until Drop.
// Held tells when one is waiting: the sender is then in the middle of delivering it.
func (s *Server) Hold() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holding, s.held, s.release = true, make(chan struct{}, 100), make(chan struct{})
	return s.held
}

// Drop answers every held message with a temporary failure, so none of them was accepted,
// and stops holding.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holding {
		s.holding = false
		close(s.release)
	}
}

// Start runs a server on a free loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, arrived: make(chan struct{}, 1000)}
	s.listen("127.0.0.1:0")
	t.Cleanup(s.Stop)
	return s
}

// Reserve returns a server that owns a free port but is not listening yet: mail sent to it
// fails as it would to a relay that is down. Call Resume to start it.
func Reserve(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{t: t, addr: addr, arrived: make(chan struct{}, 1000)}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) listen(addr string) {
	s.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after a stop
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("mailtest: listen on %s: %v", addr, err)
	}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

// Resume starts (or restarts) the server on its port.
func (s *Server) Resume() { s.listen(s.addr) }

// Stop closes the server; messages received so far stay readable.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// URL is the SMTP_URL that reaches this server.
func (s *Server) URL() string { return "smtp://" + s.addr + "?tls=none" }

// Messages returns a copy of what has arrived so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitFor waits until at least n messages have arrived and returns them all, or fails the test
// after timeout.
func (s *Server) WaitFor(n int, timeout time.Duration) []Message {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		if msgs := s.Messages(); len(msgs) >= n {
			return msgs
		}
		select {
		case <-s.arrived:
		case <-deadline:
			s.t.Fatalf("mailtest: %d message(s) arrived within %s, want %d", len(s.Messages()), timeout, n)
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: fmt.Sprintf("unreadable message: %v", err)}
	}
	body, err := decodeBody(m)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return err
	}
	msg := Message{From: x.from, To: x.to, Subject: subject, ID: m.Header.Get("Message-Id"), Body: body, Raw: raw}
	x.s.mu.Lock()
	if x.s.holding {
		held, release := x.s.held, x.s.release
		x.s.mu.Unlock()
		held <- struct{}{}
		<-release
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "not accepted: the relay dropped the message"}
	}
	x.s.messages = append(x.s.messages, msg)
	x.s.mu.Unlock()
	select {
	case x.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

// decodeBody returns the text of a single-part message, undoing quoted-printable or base64.
func decodeBody(m *mail.Message) (string, error) {
	raw, err := io.ReadAll(m.Body)
	if err != nil {
		return "", err
	}
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		return string(b), err
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
		return string(b), err
	default:
		return string(raw), nil
	}
}
