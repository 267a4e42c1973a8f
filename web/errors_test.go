package web

import (
	"fmt"
	"net/http"
	"testing"

	"keyport"
)

func TestStatusOfDomainErrors(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{keyport.ErrNotFound, http.StatusNotFound},
		{keyport.ErrForbidden, http.StatusForbidden},
		{keyport.ErrMerchantDisabled, http.StatusForbidden},
		{keyport.ErrConflict, http.StatusConflict},
		{keyport.ErrIllegalTransition, http.StatusConflict},
		{keyport.ErrAccountDisabled, http.StatusConflict},
		{keyport.ErrLastOwner, http.StatusConflict},
		{fmt.Errorf("store: revoke key 42: %w", keyport.ErrConflict), http.StatusConflict},
		{&keyport.CapError{Cap: 2, Mode: keyport.ModeTest}, http.StatusUnprocessableEntity},
		{keyport.FieldError("name", "Name is required."), http.StatusUnprocessableEntity},
		{fmt.Errorf("disk on fire"), http.StatusInternalServerError},
	}
	for _, tc := range cases {
		status, message := statusOf(tc.err)
		if status != tc.status {
			t.Errorf("statusOf(%v) = %d, want %d", tc.err, status, tc.status)
		}
		if want := keyport.ErrorMessage(tc.err); want != "" && message != want {
			t.Errorf("statusOf(%v) says %q, want the error's message %q", tc.err, message, want)
		}
		if message == "" {
			t.Errorf("statusOf(%v) has no message", tc.err)
		}
	}
	for _, code := range []keyport.ErrorCode{keyport.ENOTFOUND, keyport.EFORBIDDEN, keyport.ECONFLICT} {
		if statusOfCode[code] == 0 {
			t.Errorf("code %s has no HTTP status", code)
		}
	}
}
