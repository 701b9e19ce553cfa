package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kv-agent/agent/agent/keyvault"
	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/certs"
)

const checkExamples = `  agent check --offline -m agent.yaml          # manifest and templates only
  agent check -m agent.yaml                    # also resolve every reference
  agent check -m agent.yaml --output json
`

// checkRow is one reference's status as agent check reports it. It never
// holds a value.
type checkRow struct {
	Name     string     `json:"name"`
	Vault    string     `json:"vault"`
	Secret   string     `json:"secret"`
	Identity string     `json:"identity"`
	Source   string     `json:"source,omitempty"`
	Status   string     `json:"status"`
	Version  string     `json:"version,omitempty"`
	Expires  *time.Time `json:"expires,omitempty"`
	Error    string     `json:"error,omitempty"`
	// Certificate is set for a secret that holds a certificate.
	Certificate *checkCert `json:"certificate,omitempty"`
}

// checkCert is what check reports of a certificate: never key material.
type checkCert struct {
	Subject    string    `json:"subject"`
	Thumbprint string    `json:"thumbprint"`
	NotAfter   time.Time `json:"notAfter"`
	Warning    string    `json:"warning,omitempty"`
}

func cmdCheck(ctx context.Context, inv *invocation, args []string) error {
	tuneForOneShot()
	fs := newFlagSet(inv, "check", "agent check [-m FILE] [--offline] [--output text|json]", checkExamples)
	var offline bool
	var output string
	s, err := setup(inv, fs, args, func(*Settings) {
		fs.BoolVar(&offline, "offline", false, "check the manifest and templates only; contact nothing")
		fs.StringVar(&output, "output", "text", "text or json")
	})
	if err != nil {
		return err
	}
	if output != "text" && output != "json" {
		return exitf(ExitUsage, "--output %q must be text or json", output)
	}
	if fs.NArg() > 0 {
		return exitf(ExitUsage, "check takes no arguments, got %q", strings.Join(fs.Args(), " "))
	}
	p, err := loadPlan(s.manifestPath())
	if err != nil {
		return err
	}
	if offline {
		if output == "json" {
			return json.NewEncoder(inv.stdout).Encode(map[string]any{"manifest": p.m.Path, "valid": true, "secrets": len(p.m.Secrets), "files": len(p.files), "env": len(p.env)})
		}
		fmt.Fprintf(inv.stdout, "%s: valid (%d secrets, %d files, %d env entries)\n", p.m.Path, len(p.m.Secrets), len(p.files), len(p.env))
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	sess, err := connect(ctx, s, p.m, s.newLogger(inv.stderr), envMap(inv.environ).get)
	if err != nil {
		return err
	}
	defer sess.close()
	secrets, got, ferr := sess.fetchAll(ctx)
	rows := checkRows(sess, got, ferr)
	// Render every output in memory, as render would, so that a template
	// failing on the real values fails the check too. Nothing is written.
	var renderErr error
	if ferr == nil {
		p.certs.log = sess.log
		if _, err := p.renderFiles(secrets); err != nil {
			renderErr = err
		} else if _, err := renderEnvValues(p, secrets); err != nil {
			renderErr = withCode(ExitDataErr, err)
		}
	}
	if output == "json" {
		enc := json.NewEncoder(inv.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	} else {
		writeCheckTable(inv.stdout, rows)
	}
	if renderErr != nil {
		return renderErr
	}
	for _, r := range rows {
		if r.Certificate != nil && r.Status == "error" && ferr == nil {
			return &ExitError{Code: ExitDataErr, Err: errSilent}
		}
	}
	if ferr != nil {
		var ee *ExitError
		if errors.As(ferr, &ee) {
			return &ExitError{Code: ee.Code, Err: errSilent}
		}
		return ferr
	}
	return nil
}

func checkRows(sess *session, got map[string]*keyvault.Secret, ferr error) []checkRow {
	var kerrs keyvault.Errors
	errors.As(ferr, &kerrs)
	var rows []checkRow
	for name, sec := range sess.m.Secrets {
		ref := sess.ref(sec)
		row := checkRow{Name: name, Vault: sec.Vault, Secret: ref.String(), Identity: sec.Identity, Source: sess.creds[sec.Identity].Source()}
		if kv, ok := got[name]; ok {
			row.Status, row.Version, row.Expires = "ok", kv.Version, kv.Expires
			if isCertificate(kv.ContentType) {
				row.Certificate, row.Error = checkCertificate(sess.m, name, kv)
				if row.Error != "" {
					row.Status = "error"
				}
			}
		} else {
			row.Status = "error"
			for _, ke := range kerrs {
				if ke.Ref == ref && ke.Identity == sec.Identity {
					row.Status, row.Error = ke.Kind.Error(), ke.Error()
				}
			}
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows
}

func writeCheckTable(w io.Writer, rows []checkRow) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVAULT\tIDENTITY\tSOURCE\tSTATUS\tVERSION\tEXPIRES")
	for _, r := range rows {
		exp := "-"
		if r.Expires != nil {
			exp = r.Expires.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Vault, r.Identity, dash(r.Source), r.Status, dash(r.Version), exp)
	}
	tw.Flush()
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Name, r.Error)
		}
		if c := r.Certificate; c != nil && c.Warning != "" {
			fmt.Fprintf(w, "%s: warning: %s %s\n", r.Name, c.Subject, c.Warning)
		}
	}
}

func isCertificate(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.HasPrefix(ct, certs.ContentTypePKCS12) || strings.HasPrefix(ct, certs.ContentTypePEM)
}

// checkCertificate parses and checks a certificate-backed secret: a
// certificate that cannot be used is an error; one expiring within the
// reference's warnBefore carries a warning.
func checkCertificate(m *manifest.Manifest, name string, kv *keyvault.Secret) (*checkCert, string) {
	b, err := certs.Parse(kv.Value, kv.ContentType)
	if err != nil {
		return nil, fmt.Sprintf("not a usable certificate: %v", err)
	}
	c := &checkCert{Subject: b.Subject(), Thumbprint: b.Thumbprint(), NotAfter: b.NotAfter()}
	ref := m.Secrets[name]
	warnings, err := b.Check(time.Now(), certs.CheckOptions{AllowExpired: ref.AllowExpired, WarnBefore: ref.WarnBefore})
	if err != nil {
		return c, err.Error()
	}
	c.Warning = strings.Join(warnings, "; ")
	return c, ""
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
