package credential

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/kv-agent/agent/agent/manifest"
)

// imdsProbeURL is IMDS's token endpoint. The probe sends no Metadata header
// and no query: IMDS answers 400, and any answer means IMDS is there.
const imdsProbeURL = "http://169.254.169.254/metadata/identity/oauth2/token"

// candidate is one source an auto identity may use.
type candidate struct {
	source string
	// make returns the credential, or why this source does not apply here.
	make func(ctx context.Context) (azcore.TokenCredential, error)
	// probe, when set, must succeed for the source to be used. It runs
	// while the first token request is already in flight, so that a
	// present IMDS costs no extra round trip.
	probe func(ctx context.Context) error
}

// firstToken gets the candidate's first token, racing its probe.
func (cand candidate) firstToken(ctx context.Context) (azcore.TokenCredential, error) {
	cred, err := cand.make(ctx)
	if err != nil {
		return nil, err
	}
	if cand.probe == nil {
		_, err = cred.GetToken(ctx, scopesFrom(ctx))
		return cred, err
	}
	tokCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := cred.GetToken(tokCtx, scopesFrom(ctx))
		done <- err
	}()
	if err := cand.probe(ctx); err != nil {
		cancel()
		<-done
		return nil, err
	}
	return cred, <-done
}

// auto returns the builder of an auto identity: the first candidate that
// yields a token for the requested scopes wins.
func (c *Credential) auto(id *manifest.Identity) func(context.Context) (azcore.TokenCredential, string, error) {
	return func(ctx context.Context) (azcore.TokenCredential, string, error) {
		nse := &NoSourceError{Identity: c.name}
		for _, cand := range c.candidates(id) {
			cred, err := cand.firstToken(ctx)
			if err == nil {
				return cred, cand.source, nil
			}
			if denied(err) {
				nse.Denied = true
			}
			if ctx.Err() != nil {
				return nil, "", fmt.Errorf("identity %q: %s: %w", c.name, cand.source, ctx.Err())
			}
			nse.Tried = append(nse.Tried, cand.source+": "+oneLine(err))
		}
		return nil, "", nse
	}
}

func (c *Credential) candidates(id *manifest.Identity) []candidate {
	getenv := c.opts.Getenv
	probe := id.IMDSProbeTimeout
	if probe <= 0 {
		probe = c.opts.ProbeTimeout
	}
	miSource := SourceManagedIdentity(getenv)
	var imdsProbe func(context.Context) error
	if miSource == sourceIMDS {
		imdsProbe = func(ctx context.Context) error { return c.probeIMDS(ctx, probe) }
	}
	return []candidate{
		{source: "workload identity", make: func(context.Context) (azcore.TokenCredential, error) {
			if getenv("AZURE_FEDERATED_TOKEN_FILE") == "" {
				return nil, errors.New("AZURE_FEDERATED_TOKEN_FILE is not set")
			}
			return c.workloadIdentity(&manifest.Identity{Name: id.Name, ClientID: id.ClientID})
		}},
		{source: miSource, probe: imdsProbe, make: func(ctx context.Context) (azcore.TokenCredential, error) {
			return c.managedIdentity(&manifest.Identity{Name: id.Name, ClientID: id.ClientID})
		}},
		{source: "service principal (environment)", make: func(context.Context) (azcore.TokenCredential, error) {
			tenant, client := getenv("AZURE_TENANT_ID"), getenv("AZURE_CLIENT_ID")
			secret, certPath := getenv("AZURE_CLIENT_SECRET"), getenv("AZURE_CLIENT_CERTIFICATE_PATH")
			if tenant == "" || client == "" || (secret == "" && certPath == "") {
				return nil, errors.New("AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH are not all set")
			}
			if secret != "" {
				return c.clientSecret(tenant, client, secret)
			}
			return c.clientCertificate(tenant, client, certPath, []byte(getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD")))
		}},
	}
}

// probeIMDS reports whether IMDS answers within timeout.
func (c *Credential) probeIMDS(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, imdsProbeURL, nil)
	if err != nil {
		return err
	}
	client := c.opts.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("no IMDS endpoint answered within %s", timeout)
	}
	resp.Body.Close()
	return nil
}

// denied reports whether err is a token service that answered and refused.
func denied(err error) bool {
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		s := afe.RawResponse.StatusCode
		return s == http.StatusBadRequest || s == http.StatusUnauthorized || s == http.StatusForbidden
	}
	return false
}

// Denied reports whether err is a credential that reached its token service
// and was refused (wrong secret, unknown client, identity not assigned).
func Denied(err error) bool {
	var nse *NoSourceError
	if errors.As(err, &nse) {
		return nse.Denied
	}
	return denied(err)
}

// Describe returns err on one line: azidentity's errors carry multi-line
// troubleshooting text, while the token service's own error code and
// description (AADSTS7000215, "Identity not found") say more. It never
// includes a token or a client secret.
func Describe(err error) string { return oneLine(err) }

func oneLine(err error) string {
	var nse *NoSourceError
	if errors.As(err, &nse) {
		return fmt.Sprintf("identity %q: no credential source worked: %s", nse.Identity, strings.Join(nse.Tried, "; "))
	}
	msg := err.Error()
	line := strings.TrimSpace(firstLine(msg))
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil {
		return line
	}
	status := describeResponse(afe.RawResponse)
	if code := aadsts.FindString(msg); code != "" && !strings.Contains(status, code) {
		status += ": " + code
	}
	if strings.HasSuffix(line, "failed.") {
		return line + " " + status
	}
	return line + " (" + status + ")"
}

// aadsts finds Entra ID's error code and its first sentence in a message.
var aadsts = regexp.MustCompile(`AADSTS\d+: [^.\r\n"]*`)

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// describeResponse summarises a token service's error response: status,
// error code and the first line of its description (which names codes like
// AADSTS7000215, never a secret).
func describeResponse(resp *http.Response) string {
	msg := resp.Status
	if resp.Body == nil {
		return msg
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error != "" {
		msg += ": " + body.Error
		if d := firstLine(strings.ReplaceAll(body.Description, "\r", "")); d != "" {
			msg += ": " + d
		}
	}
	return msg
}
