package certs

import (
	"errors"
	"fmt"
	"time"
)

// CheckOptions says what [Bundle.Check] requires.
type CheckOptions struct {
	// NeedKey makes a missing private key an error.
	NeedKey bool
	// AllowExpired turns an expired leaf into a warning.
	AllowExpired bool
	// WarnBefore warns when the leaf expires within this duration; 0 never warns.
	WarnBefore time.Duration
}

// Check reports problems that would make the certificate unusable at now.
//
// Errors (joined with errors.Join, so test with errors.Is): [ErrKeyMismatch]
// when the private key does not belong to the leaf; [ErrNoPrivateKey] when
// opts.NeedKey and the secret holds no key; [ErrExpired] unless
// opts.AllowExpired; [ErrNotYetValid]. Warnings are sentences for the user,
// e.g. "certificate expires in 12 days (2026-12-11)". Neither contains key
// material.
func (b *Bundle) Check(now time.Time, opts CheckOptions) (warnings []string, err error) {
	var errs []error
	if b.Key != nil && !publicKeyMatches(b.Key.Public(), b.Leaf) {
		errs = append(errs, fmt.Errorf("%w %s (thumbprint %s): the secret pairs it with the key of another certificate", ErrKeyMismatch, b.Subject(), b.Thumbprint()))
	}
	if b.Key == nil && opts.NeedKey {
		errs = append(errs, fmt.Errorf("%w: the key of %s is not exportable; the certificate's policy must mark the key exportable (keyProperties.exportable: true) and the certificate be re-issued", ErrNoPrivateKey, b.Subject()))
	}
	notAfter := b.Leaf.NotAfter.UTC()
	switch {
	case now.Before(b.Leaf.NotBefore):
		errs = append(errs, fmt.Errorf("%w: %s is valid from %s", ErrNotYetValid, b.Subject(), b.Leaf.NotBefore.UTC().Format(time.RFC3339)))
	case now.After(b.Leaf.NotAfter):
		if opts.AllowExpired {
			warnings = append(warnings, fmt.Sprintf("certificate expired %s ago (%s)", days(now.Sub(notAfter)), notAfter.Format(time.DateOnly)))
		} else {
			errs = append(errs, fmt.Errorf("%w: %s expired %s ago (%s)", ErrExpired, b.Subject(), days(now.Sub(notAfter)), notAfter.Format(time.DateOnly)))
		}
	case opts.WarnBefore > 0 && notAfter.Sub(now) <= opts.WarnBefore:
		warnings = append(warnings, fmt.Sprintf("certificate expires in %s (%s)", days(notAfter.Sub(now)), notAfter.Format(time.DateOnly)))
	}
	return warnings, errors.Join(errs...)
}

// days renders a duration in whole days, rounded down ("12 days", "1 day"),
// or "less than a day".
func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	switch n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	default:
		return fmt.Sprintf("%d days", n)
	}
}
