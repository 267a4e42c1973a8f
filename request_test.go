package keyport

import (
	"slices"
	"testing"
)

func TestRequestFilterNamed(t *testing.T) {
	cases := []struct {
		value  string
		want   string
		states []RequestState
		ok     bool
	}{
		{"", "open", []RequestState{RequestPending, RequestNeedsInfo}, true},
		{"open", "open", []RequestState{RequestPending, RequestNeedsInfo}, true},
		{"approved", "approved", []RequestState{RequestApproved}, true},
		{"all", "all", []RequestState{RequestPending, RequestNeedsInfo, RequestApproved, RequestIssued, RequestRejected, RequestCancelled}, true},
		{"deleted", "", nil, false},
	}
	for _, tc := range cases {
		f, ok := RequestFilterNamed(tc.value)
		if ok != tc.ok || f.Value != tc.want || !slices.Equal(f.States, tc.states) {
			t.Errorf("RequestFilterNamed(%q) = %+v, %v", tc.value, f, ok)
		}
	}
}

func TestMemberRolesAreTheMerchantRoles(t *testing.T) {
	for _, r := range []Role{RoleOwner, RoleDeveloper, RoleReviewer, RoleAdmin, Role("root")} {
		if r.IsMerchantRole() != slices.Contains(MemberRoles, r) {
			t.Errorf("%s: IsMerchantRole %v", r, r.IsMerchantRole())
		}
	}
	if RoleAdmin.IsMerchantRole() || !RoleReviewer.IsMerchantRole() {
		t.Fatal("merchant roles are Owner, Developer and Reviewer")
	}
}
