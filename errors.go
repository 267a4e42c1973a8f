package keyport

import (
	"errors"
	"sort"
	"strings"
)

// ErrNotFound means the object does not exist or is not visible to the caller.
var ErrNotFound = errors.New("not found")

// ErrForbidden means the caller is known but may not perform the action.
var ErrForbidden = errors.New("forbidden")

// ErrConflict means the action clashes with the current state of the object.
var ErrConflict = errors.New("conflict")

// ValidationError reports invalid input, one message per field name.
type ValidationError struct {
	Fields map[string]string
}

// Error lists the invalid fields and their messages.
func (e *ValidationError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for name := range e.Fields {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, name+": "+e.Fields[name])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a message for a field, keeping the first message given.
func (e *ValidationError) Add(field, message string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = message
	}
}

// OrNil returns the error when it holds at least one field, nil otherwise.
func (e *ValidationError) OrNil() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// FieldError builds a ValidationError for a single field.
func FieldError(field, message string) error {
	return &ValidationError{Fields: map[string]string{field: message}}
}

// ErrAccountDisabled refuses new keys on a disabled API account.
var ErrAccountDisabled = errors.New("This API account is disabled. Enable it before creating keys.")

// ErrMerchantDisabled refuses sign-ins and invitations of a merchant the platform disabled.
var ErrMerchantDisabled = errors.New("This merchant account is disabled. Contact the platform team.")
