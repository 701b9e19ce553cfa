package emulator

import (
	"strings"
	"testing"
)

// TestOfficialClients drives azidentity and azsecrets against the emulator
// with only its environment, each scenario in its own process.
func TestOfficialClients(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	e := start(t, Options{})
	absentSeed := testSeed(t)
	absentSeed.IMDS.Absent = true
	absent := start(t, Options{Seed: absentSeed})
	c := testCerts(t)
	dir := t.TempDir()
	goodCert := writeFile(t, dir, "good.pem", c[0].bothPEM)
	otherCert := writeFile(t, dir, "other.pem", c[1].bothPEM)
	fedToken, err := e.FederatedToken("wl")
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := writeFile(t, dir, "token", []byte(fedToken))
	wlEnv := []string{"AZURE_CLIENT_ID=" + wlClientID, "AZURE_TENANT_ID=" + testTenant, "AZURE_FEDERATED_TOKEN_FILE=" + tokenFile}
	get := []string{"HELPER_ACTION=get", "HELPER_VAULT=" + testVaultURL, "HELPER_SECRET=db-password"}
	token := []string{"HELPER_ACTION=token"}
	secret := []string{"HELPER_CRED=secret", "HELPER_TENANT=" + testTenant, "HELPER_CLIENT_ID=" + ciClientID}
	cert := []string{"HELPER_CRED=cert", "HELPER_TENANT=" + testTenant, "HELPER_CLIENT_ID=" + certClientID}
	wantValue := "OK value=" + dbPassword
	tests := []struct {
		name       string
		env        []string
		appService bool
		want       []string  // substrings of the child's output line
		emu        *Emulator // default e
	}{
		{"imds system get secret", cat(get, "HELPER_CRED=mi"), false, []string{wantValue}, nil},
		{"imds system token", cat(token, "HELPER_CRED=mi"), false,
			[]string{"OK aud=https://vault.azure.net appid=" + sysClientID, "oid=" + sysObjectID, "tid=" + testTenant}, nil},
		{"imds user-assigned by client id", cat(get, "HELPER_CRED=mi", "HELPER_ID_KIND=client", "HELPER_ID="+billClientID), false, []string{wantValue}, nil},
		{"imds user-assigned by object id", cat(token, "HELPER_CRED=mi", "HELPER_ID_KIND=object", "HELPER_ID="+billObjectID), false,
			[]string{"OK ", "appid=" + billClientID}, nil},
		{"imds user-assigned by resource id", cat(token, "HELPER_CRED=mi", "HELPER_ID_KIND=resource", "HELPER_ID="+billResource), false,
			[]string{"OK ", "appid=" + billClientID}, nil},
		{"imds unassigned client id", cat(token, "HELPER_CRED=mi", "HELPER_ID_KIND=client", "HELPER_ID=99999999-9999-9999-9999-999999999999"), false,
			[]string{"ERR ", "Identity not found"}, nil},
		{"app service system get secret", cat(get, "HELPER_CRED=mi"), true, []string{wantValue}, nil},
		{"app service user-assigned by client id", cat(token, "HELPER_CRED=mi", "HELPER_ID_KIND=client", "HELPER_ID="+billClientID), true,
			[]string{"OK ", "appid=" + billClientID}, nil},
		{"app service user-assigned by resource id", cat(token, "HELPER_CRED=mi", "HELPER_ID_KIND=resource", "HELPER_ID="+billResource), true,
			[]string{"OK ", "appid=" + billClientID}, nil},
		{"client secret get secret", cat(get, append(secret, "HELPER_CLIENT_SECRET="+ciSecret)...), false, []string{wantValue}, nil},
		{"client secret wrong", cat(token, append(secret, "HELPER_CLIENT_SECRET=wrong")...), false, []string{"ERR ", "AADSTS7000215"}, nil},
		{"client secret unknown app", cat(token, "HELPER_CRED=secret", "HELPER_TENANT="+testTenant,
			"HELPER_CLIENT_ID=12345678-1234-1234-1234-123456789012", "HELPER_CLIENT_SECRET=x"), false, []string{"ERR ", "AADSTS700016"}, nil},
		{"client certificate get secret", cat(get, append(cert, "HELPER_CERT_FILE="+goodCert)...), false, []string{wantValue}, nil},
		{"client certificate unregistered", cat(token, append(cert, "HELPER_CERT_FILE="+otherCert)...), false, []string{"ERR ", "AADSTS700027"}, nil},
		{"workload identity get secret", cat(get, append(wlEnv, "HELPER_CRED=workload")...), false, []string{wantValue}, nil},
		{"default credential probes imds", cat(get, "HELPER_CRED=default"), false, []string{wantValue}, nil},
		{"default credential without imds", cat(token, "HELPER_CRED=default"), false,
			[]string{"ERR ", "DefaultAzureCredential", "ManagedIdentityCredential"}, absent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := e
			if tc.emu != nil {
				emu = tc.emu
			}
			env := append(emu.Env(), tc.env...)
			if tc.appService {
				env = append(env, emu.AppServiceEnv()...)
			}
			got := runHelper(t, env...)
			t.Logf("child: %s", got)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output %q does not contain %q", got, w)
				}
			}
		})
	}
}

func cat(a []string, b ...string) []string {
	return append(append([]string{}, a...), b...)
}
