package keyport

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrorCode says what kind of failure an Error is, for machines: web maps
// each code to one HTTP status.
type ErrorCode string

// The error codes.
const (
	ENOTFOUND  ErrorCode = "not_found"
	EFORBIDDEN ErrorCode = "forbidden"
	ECONFLICT  ErrorCode = "conflict"
)

// Error is a failure the domain expects: a code for machines and a message
// for people, shown as it is.
type Error struct {
	Code    ErrorCode
	Message string
}

// Error is the code and the message, for logs.
func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// ErrorMessage returns the message for people of an *Error in err's chain, or "".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// ErrNotFound means the object does not exist or is not visible to the caller.
var ErrNotFound = &Error{ENOTFOUND, "We could not find that page, or you do not have access to it."}

// ErrForbidden means the caller is known but may not perform the action.
var ErrForbidden = &Error{EFORBIDDEN, "You do not have permission to do that."}

// ErrConflict means the action clashes with the current state of the object.
var ErrConflict = &Error{ECONFLICT, "That change conflicts with the current state. Reload the page and try again."}

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
var ErrAccountDisabled = &Error{ECONFLICT, "This API account is disabled. Enable it before creating keys."}

// ThrottledError refuses an action repeated too often from one client or
// for one merchant: What names the action ("sign-ups"), Wait how long until
// it may be tried again.
type ThrottledError struct {
	What string
	Wait time.Duration
}

func (e *ThrottledError) Error() string {
	m := int((e.Wait + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "Too many " + e.What + ". Wait a minute and try again."
	}
	return fmt.Sprintf("Too many %s. Wait %d minutes and try again.", e.What, m)
}

// ErrEmailUnverified refuses a live key request from a user who has not
// verified their email address yet.
var ErrEmailUnverified = &Error{EFORBIDDEN, "Verify your email address before requesting a live key: open the link we emailed you, " +
	"or send a new one from Your settings."}

// ErrInvitationHasAccount refuses to accept an invitation whose email address
// already has a Keyport account: an account belongs to one merchant.
var ErrInvitationHasAccount = &Error{ECONFLICT, "This invitation cannot be accepted: its email address already has a Keyport account, " +
	"and an account belongs to one merchant. Log in to that account, or ask for an invitation to another address."}

// ErrMerchantDisabled refuses sign-ins and invitations of a merchant the platform disabled.
var ErrMerchantDisabled = &Error{EFORBIDDEN, "This merchant account is disabled. Contact the platform team."}
