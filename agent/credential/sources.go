package credential

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/kv-agent/agent/agent/manifest"
)

// Managed-identity sources, as azidentity detects them from the environment.
const (
	sourceIMDS       = "managed identity (IMDS)"
	sourceAppService = "managed identity (App Service)"
	sourceArc        = "managed identity (Azure Arc)"
	sourceCloudShell = "managed identity (Cloud Shell)"
	sourceAzureML    = "managed identity (Azure ML)"
	sourceFabric     = "managed identity (Service Fabric)"
)

// SourceManagedIdentity names the managed-identity source azidentity will
// use in this environment, following its detection order.
func SourceManagedIdentity(getenv func(string) string) string {
	switch {
	case getenv("IDENTITY_ENDPOINT") != "" && getenv("IDENTITY_HEADER") != "":
		if getenv("IDENTITY_SERVER_THUMBPRINT") != "" {
			return sourceFabric
		}
		return sourceAppService
	case getenv("MSI_ENDPOINT") != "":
		if getenv("MSI_SECRET") != "" {
			return sourceAzureML
		}
		return sourceCloudShell
	case getenv("IDENTITY_ENDPOINT") != "" && getenv("IMDS_ENDPOINT") != "":
		return sourceArc
	}
	if _, err := os.Stat("/opt/azcmagent/bin/himds"); err == nil {
		return sourceArc
	}
	return sourceIMDS
}

func (c *Credential) managedIdentity(id *manifest.Identity) (azcore.TokenCredential, error) {
	o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: c.clientOptions()}
	switch {
	case id.ClientID != "":
		o.ID = azidentity.ClientID(id.ClientID)
	case id.ObjectID != "":
		o.ID = azidentity.ObjectID(id.ObjectID)
	case id.ResourceID != "":
		o.ID = azidentity.ResourceID(id.ResourceID)
	}
	cred, err := azidentity.NewManagedIdentityCredential(o)
	if err != nil {
		return nil, fmt.Errorf("managed identity: %w", err)
	}
	return cred, nil
}

// servicePrincipal builds the credential of a servicePrincipal identity.
func (c *Credential) servicePrincipal(id *manifest.Identity) (azcore.TokenCredential, string, error) {
	switch {
	case id.ClientSecretFile != "":
		b, err := os.ReadFile(id.ClientSecretFile)
		if err != nil {
			return nil, "", fmt.Errorf("read client secret: %w", err)
		}
		secret := strings.TrimRight(string(b), "\r\n")
		if secret == "" {
			return nil, "", fmt.Errorf("client secret file %s is empty", id.ClientSecretFile)
		}
		cred, err := c.clientSecret(id.TenantID, id.ClientID, secret)
		return cred, "service principal (client secret)", err
	case id.ClientSecretEnv != "":
		secret := c.opts.Getenv(id.ClientSecretEnv)
		if secret == "" {
			return nil, "", fmt.Errorf("environment variable %s (clientSecretEnv) is not set", id.ClientSecretEnv)
		}
		cred, err := c.clientSecret(id.TenantID, id.ClientID, secret)
		return cred, "service principal (client secret)", err
	case id.CertificateFile != "":
		var password []byte
		if id.CertificatePasswordFile != "" {
			b, err := os.ReadFile(id.CertificatePasswordFile)
			if err != nil {
				return nil, "", fmt.Errorf("read certificate password: %w", err)
			}
			password = []byte(strings.TrimRight(string(b), "\r\n"))
		}
		cred, err := c.clientCertificate(id.TenantID, id.ClientID, id.CertificateFile, password)
		return cred, "service principal (certificate)", err
	}
	return nil, "", errors.New("a service principal needs clientSecretFile, clientSecretEnv or certificateFile")
}

func (c *Credential) clientSecret(tenant, client, secret string) (azcore.TokenCredential, error) {
	cred, err := azidentity.NewClientSecretCredential(tenant, client, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: c.clientOptions()})
	if err != nil {
		return nil, fmt.Errorf("client secret credential: %w", err)
	}
	return cred, nil
}

func (c *Credential) clientCertificate(tenant, client, path string, password []byte) (azcore.TokenCredential, error) {
	certs, key, err := loadCertificate(path, password)
	if err != nil {
		return nil, err
	}
	cred, err := azidentity.NewClientCertificateCredential(tenant, client, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: c.clientOptions()})
	if err != nil {
		return nil, fmt.Errorf("client certificate credential: %w", err)
	}
	return cred, nil
}

// loadCertificate reads a PEM (certificate and private key) or PFX file.
// Errors never quote the file's contents.
func loadCertificate(path string, password []byte) ([]*x509.Certificate, crypto.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read client certificate: %w", err)
	}
	if strings.Contains(string(data), "-----BEGIN") {
		certs, key, err := azidentity.ParseCertificates(data, password)
		if err != nil {
			return nil, nil, fmt.Errorf("client certificate %s: not a usable PEM certificate and private key", path)
		}
		return certs, key, nil
	}
	key, leaf, chain, err := pkcs12.DecodeChain(data, string(password))
	if err != nil {
		return nil, nil, fmt.Errorf("client certificate %s: not a usable PFX (wrong password or no key)", path)
	}
	return append([]*x509.Certificate{leaf}, chain...), key, nil
}

func (c *Credential) workloadIdentity(id *manifest.Identity) (azcore.TokenCredential, error) {
	o := &azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: c.clientOptions(),
		ClientID:      firstNonEmpty(id.ClientID, c.opts.Getenv("AZURE_CLIENT_ID")),
		TenantID:      firstNonEmpty(id.TenantID, c.opts.Getenv("AZURE_TENANT_ID")),
		TokenFilePath: firstNonEmpty(id.TokenFile, c.opts.Getenv("AZURE_FEDERATED_TOKEN_FILE")),
	}
	var missing []string
	if o.ClientID == "" {
		missing = append(missing, "clientId (or AZURE_CLIENT_ID)")
	}
	if o.TenantID == "" {
		missing = append(missing, "tenantId (or AZURE_TENANT_ID)")
	}
	if o.TokenFilePath == "" {
		missing = append(missing, "tokenFile (or AZURE_FEDERATED_TOKEN_FILE)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("workload identity needs %s", strings.Join(missing, ", "))
	}
	cred, err := azidentity.NewWorkloadIdentityCredential(o)
	if err != nil {
		return nil, fmt.Errorf("workload identity: %w", err)
	}
	return cred, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
