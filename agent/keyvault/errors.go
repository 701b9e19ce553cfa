package keyvault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/kv-agent/agent/agent/credential"
	"github.com/kv-agent/agent/agent/internal/errlist"
)

// Kinds of failure, for errors.Is on an *Error.
var (
	ErrNotFound       = errors.New("not found")
	ErrDisabled       = errors.New("disabled")
	ErrExpired        = errors.New("expired")
	ErrNotYetValid    = errors.New("not yet valid")
	ErrForbidden      = errors.New("access denied")
	ErrThrottled      = errors.New("throttled")
	ErrUnavailable    = errors.New("unavailable")
	ErrAuthentication = errors.New("authentication failed")
	ErrDeadline       = errors.New("deadline exceeded")
	ErrCanceled       = errors.New("interrupted")
	ErrHostNotAllowed = errors.New("host not allowed")
)

// Error is the failure of one reference.
type Error struct {
	Ref      Ref
	Identity string
	Kind     error  // one of the Err* sentinels
	Status   int    // Key Vault's HTTP status, 0 when none was received
	Detail   string // status and Key Vault error code, or the cause
	Err      error  // the underlying error, never quoting a value
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("secret %s: %v", e.Ref, e.Kind)
	if e.Kind == ErrForbidden || e.Kind == ErrAuthentication {
		msg = fmt.Sprintf("secret %s: %v for identity %q", e.Ref, e.Kind, e.Identity)
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Hint says what a user can do about the failure, or "".
func (e *Error) Hint() string {
	switch e.Kind {
	case ErrForbidden:
		return fmt.Sprintf("grant identity %q the \"Key Vault Secrets User\" role (or a get-secret access policy) on vault %s", e.Identity, e.Ref.VaultName())
	case ErrNotFound:
		return fmt.Sprintf("check the secret's name and version in vault %s", e.Ref.VaultName())
	case ErrDisabled:
		return "enable the secret's version in Key Vault, or reference another version"
	case ErrExpired:
		return "set a new version, or set allowExpired: true on the reference"
	case ErrThrottled:
		return "Key Vault throttled the requests; try again later or reduce the number of agents polling"
	}
	return ""
}

// classify maps an error from azsecrets to an *Error.
func classify(ref Ref, identity string, err error) *Error {
	e := &Error{Ref: ref, Identity: identity, Err: err}
	var re *azcore.ResponseError
	var he *hostError
	switch {
	case errors.As(err, &he):
		e.Kind, e.Detail = ErrHostNotAllowed, he.Error()
	case errors.As(err, &re):
		e.Status = re.StatusCode
		e.Detail = fmt.Sprintf("%d %s", re.StatusCode, re.ErrorCode)
		switch {
		case re.StatusCode == http.StatusNotFound:
			e.Kind = ErrNotFound
		case re.StatusCode == http.StatusForbidden:
			e.Kind = ErrForbidden
			inner := innerCode(re)
			if inner != "" {
				e.Detail = fmt.Sprintf("%d %s", re.StatusCode, inner)
			}
			if inner == "SecretDisabled" || re.ErrorCode == "SecretDisabled" {
				e.Kind = ErrDisabled
			}
		case re.StatusCode == http.StatusUnauthorized:
			e.Kind = ErrAuthentication
		case re.StatusCode == http.StatusTooManyRequests:
			e.Kind = ErrThrottled
		case re.StatusCode >= 500:
			e.Kind = ErrUnavailable
		default:
			e.Kind = ErrUnavailable
		}
	case errors.Is(err, context.DeadlineExceeded):
		e.Kind = ErrDeadline
	case errors.Is(err, context.Canceled):
		e.Kind = ErrCanceled
	case isCredentialError(err):
		e.Kind, e.Detail = ErrAuthentication, credential.Describe(err)
	default:
		e.Kind, e.Detail = ErrUnavailable, firstLine(err.Error())
	}
	return e
}

// innerCode returns Key Vault's innererror code (ForbiddenByRbac, …).
func innerCode(re *azcore.ResponseError) string {
	if re.RawResponse == nil || re.RawResponse.Body == nil {
		return ""
	}
	return parseInnerCode(re.RawResponse)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Errors is every failed reference of a fetch: one line each, and
// errors.Is and errors.As see each failure.
type Errors = errlist.List[*Error]
