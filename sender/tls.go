package sender

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSOptions describe certificate-based TLS to a Zabbix server, like the
// --tls-connect cert options of zabbix_sender.
type TLSOptions struct {
	// CAFile is a PEM file of the certificate authorities trusted to sign
	// the server certificate; empty means the system pool.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and key presented
	// to the server; both or neither.
	CertFile, KeyFile string
	// ServerName is checked against the server certificate; empty means the
	// host of the server address.
	ServerName string
	// ServerCertIssuer, when set, must equal the server certificate's issuer
	// as rendered by Go (pkix.Name.String, e.g. "CN=Zabbix CA,O=Example").
	ServerCertIssuer string
	// ServerCertSubject, when set, must equal the server certificate's
	// subject in the same form.
	ServerCertSubject string
}

// TLSConfig builds a client tls.Config from opts for Options.TLS.
func TLSConfig(opts TLSOptions) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: opts.ServerName,
	}
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca file %s: no PEM certificate found", opts.CAFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case opts.CertFile != "" && opts.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate %s: %w", opts.CertFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case opts.CertFile != "" || opts.KeyFile != "":
		return nil, errors.New("tls: certificate file and key file go together")
	}
	if opts.ServerCertIssuer != "" || opts.ServerCertSubject != "" {
		issuer, subject := opts.ServerCertIssuer, opts.ServerCertSubject
		// VerifyConnection runs after the normal chain and name verification,
		// on full and resumed handshakes alike.
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: server presented no certificate")
			}
			leaf := cs.PeerCertificates[0]
			if issuer != "" && leaf.Issuer.String() != issuer {
				return fmt.Errorf("tls: server certificate issuer %q, want %q", leaf.Issuer.String(), issuer)
			}
			if subject != "" && leaf.Subject.String() != subject {
				return fmt.Errorf("tls: server certificate subject %q, want %q", leaf.Subject.String(), subject)
			}
			return nil
		}
	}
	return cfg, nil
}
