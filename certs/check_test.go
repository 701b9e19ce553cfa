package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	valid := mustGenerate(t, Spec{KeyType: "ECDSA", Format: "pem", NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(1, 0, 0)})
	soon := mustGenerate(t, Spec{KeyType: "ECDSA", Format: "pem", NotBefore: now.AddDate(0, -1, 0), NotAfter: now.Add(12*24*time.Hour + time.Hour)})
	expired := mustGenerate(t, Spec{KeyType: "ECDSA", Format: "pem", NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.Add(-3 * 24 * time.Hour)})
	future := mustGenerate(t, Spec{KeyType: "ECDSA", Format: "pem", NotBefore: now.Add(48 * time.Hour), NotAfter: now.AddDate(1, 0, 0)})
	noKey := mustGenerate(t, Spec{KeyType: "ECDSA", NoKey: true, NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(1, 0, 0)})

	// The leaf of one certificate with the key of another.
	otherKey, err := x509.MarshalPKCS8PrivateKey(soon.Bundle.Key)
	if err != nil {
		t.Fatal(err)
	}
	mismatch := pemValue(&pem.Block{Type: "PRIVATE KEY", Bytes: otherKey}, valid.Bundle.Leaf, valid.Bundle.Intermediates[0], valid.Bundle.Root)

	tests := []struct {
		name         string
		value        string
		opts         CheckOptions
		wantErr      error
		wantErrText  string
		wantWarnings []string
	}{
		{name: "valid", value: valid.Value, opts: CheckOptions{NeedKey: true, WarnBefore: 30 * 24 * time.Hour}},
		{name: "expires soon", value: soon.Value, opts: CheckOptions{WarnBefore: 30 * 24 * time.Hour},
			wantWarnings: []string{"certificate expires in 12 days (2026-12-11)"}},
		{name: "expires soon, outside window", value: soon.Value, opts: CheckOptions{WarnBefore: 7 * 24 * time.Hour}},
		{name: "expires soon, no window", value: soon.Value},
		{name: "expired", value: expired.Value, wantErr: ErrExpired, wantErrText: "expired 3 days ago (2026-11-26)"},
		{name: "expired allowed", value: expired.Value, opts: CheckOptions{AllowExpired: true, WarnBefore: time.Hour},
			wantWarnings: []string{"certificate expired 3 days ago (2026-11-26)"}},
		{name: "not yet valid", value: future.Value, opts: CheckOptions{AllowExpired: true}, wantErr: ErrNotYetValid, wantErrText: "valid from 2026-12-01T12:00:00Z"},
		{name: "key of another certificate", value: mismatch, wantErr: ErrKeyMismatch, wantErrText: "CN=localhost"},
		{name: "no key needed", value: noKey.Value, opts: CheckOptions{NeedKey: true}, wantErr: ErrNoPrivateKey, wantErrText: "policy must mark the key exportable"},
		{name: "no key not needed", value: noKey.Value},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := mustParse(t, tt.value, "")
			warnings, err := b.Check(now, tt.opts)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Check error = %v, want none", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check error = %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantErrText) {
				t.Errorf("Check error = %q, want it to contain %q", err, tt.wantErrText)
			}
			if strings.Join(warnings, "|") != strings.Join(tt.wantWarnings, "|") {
				t.Errorf("warnings = %q, want %q", warnings, tt.wantWarnings)
			}
		})
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	t.Parallel()
	now := time.Now()
	g := mustGenerate(t, Spec{KeyType: "ECDSA", NoKey: true, NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.Add(-time.Hour)})
	b := mustParse(t, g.Value, g.ContentType)
	_, err := b.Check(now, CheckOptions{NeedKey: true})
	if !errors.Is(err, ErrNoPrivateKey) || !errors.Is(err, ErrExpired) {
		t.Errorf("Check error = %v, want both ErrNoPrivateKey and ErrExpired", err)
	}
}
