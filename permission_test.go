package keyport

import (
	"strings"
	"testing"
)

func TestCatalogAllows(t *testing.T) {
	full := APIKey{Type: KeySecret, Access: AccessFull}
	restricted := APIKey{Type: KeySecret, Access: AccessRestricted, Permissions: []string{"shipments:read"}}
	publishable := APIKey{Type: KeyPublishable, Access: AccessRestricted, Permissions: PermissionCatalog.Public()}
	forgedPublishable := APIKey{Type: KeyPublishable, Access: AccessRestricted, Permissions: []string{"shipments:write"}}
	tests := []struct {
		name string
		key  APIKey
		perm string
		want bool
	}{
		{"full secret, write", full, "shipments:write", true},
		{"full secret, public", full, "couriers:read", true},
		{"full secret, unknown permission", full, "labels:print", false},
		{"restricted, granted", restricted, "shipments:read", true},
		{"restricted, not granted", restricted, "shipments:write", false},
		{"restricted, public not granted", restricted, "rates:read", false},
		{"publishable, public", publishable, "tracking:read", true},
		{"publishable, private", publishable, "shipments:read", false},
		{"publishable holding a private permission", forgedPublishable, "shipments:write", false},
		{"no permissions at all", APIKey{Type: KeySecret, Access: AccessRestricted}, "couriers:read", false},
		{"publishable restricted to couriers, rates", APIKey{Type: KeyPublishable, Access: AccessRestricted, Permissions: []string{"couriers:read"}}, "rates:read", false},
		{"publishable restricted to couriers, couriers", APIKey{Type: KeyPublishable, Access: AccessRestricted, Permissions: []string{"couriers:read"}}, "couriers:read", true},
		{"full publishable, public", APIKey{Type: KeyPublishable, Access: AccessFull}, "rates:read", true},
		{"full publishable, private", APIKey{Type: KeyPublishable, Access: AccessFull}, "shipments:read", false},
		{"publishable, unknown permission", publishable, "labels:print", false},
		{"restricted, unknown permission it holds", APIKey{Type: KeySecret, Access: AccessRestricted, Permissions: []string{"labels:print"}}, "labels:print", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PermissionCatalog.Allows(tt.key, tt.perm); got != tt.want {
				t.Fatalf("Allows(%s) = %v, want %v", tt.perm, got, tt.want)
			}
			verified := VerifiedKey{Type: tt.key.Type, Access: tt.key.Access, Permissions: tt.key.Permissions}
			if got := verified.Allows(tt.perm); got != tt.want {
				t.Fatalf("VerifiedKey.Allows(%s) = %v, want %v", tt.perm, got, tt.want)
			}
		})
	}
}

func TestACatalogEntryAddedLaterIsNotGrantedToExistingRestrictedKeys(t *testing.T) {
	restricted := APIKey{Type: KeySecret, Access: AccessRestricted, Permissions: []string{"shipments:read", "shipments:write"}}
	publishable := APIKey{Type: KeyPublishable, Access: AccessRestricted, Permissions: PermissionCatalog.Public()}
	full := APIKey{Type: KeySecret, Access: AccessFull}
	later := append(Catalog{}, PermissionCatalog...)
	later = append(later, Permission{Name: "labels:read", Resource: "labels", Level: "read", Public: true, Since: CatalogVersion + 1})

	if later.Allows(restricted, "labels:read") || later.Allows(publishable, "labels:read") {
		t.Fatal("a permission added to the catalog later was granted to an existing restricted or publishable key")
	}
	if !later.Allows(full, "labels:read") {
		t.Fatal("a full-access key lacks a permission added later")
	}
	grants := later.Grants(restricted)
	if len(grants) != len(later) || grants[len(grants)-1].Granted || !grants[3].Granted {
		t.Fatalf("grants: %+v", grants)
	}
}

func TestCatalogHasOneEntryPerEndpointGroup(t *testing.T) {
	want := map[string]bool{"couriers:read": true, "rates:read": true, "tracking:read": true, "shipments:read": false, "shipments:write": false}
	if len(PermissionCatalog) != len(want) {
		t.Fatalf("%d entries", len(PermissionCatalog))
	}
	for _, p := range PermissionCatalog {
		public, ok := want[p.Name]
		if !ok || p.Public != public || p.Resource+":"+p.Level != p.Name || p.Description == "" || p.Since < 1 || p.Since > CatalogVersion {
			t.Errorf("entry %+v", p)
		}
	}
}

func TestResolveAccess(t *testing.T) {
	tests := []struct {
		name   string
		in     KeyAccessInput
		want   KeyAccess
		fields []string
	}{
		{"defaults to a full secret", KeyAccessInput{}, KeyAccess{Type: KeySecret, Access: AccessFull}, nil},
		{"publishable gets the public permissions", KeyAccessInput{Type: "publishable", Access: "full", SuppressCosts: true},
			KeyAccess{Type: KeyPublishable, Access: AccessRestricted, Permissions: []string{"couriers:read", "rates:read", "tracking:read"}, SuppressCosts: true}, nil},
		{"restricted read", KeyAccessInput{Access: "restricted", Levels: map[string]string{"shipments": "read", "rates": "none"}},
			KeyAccess{Type: KeySecret, Access: AccessRestricted, Permissions: []string{"shipments:read"}}, nil},
		{"write includes read", KeyAccessInput{Access: "restricted", Levels: map[string]string{"shipments": "write", "couriers": "read"}, SuppressCosts: true},
			KeyAccess{Type: KeySecret, Access: AccessRestricted, Permissions: []string{"couriers:read", "shipments:read", "shipments:write"}, SuppressCosts: true}, nil},
		{"restricted with nothing", KeyAccessInput{Access: "restricted", Levels: map[string]string{"shipments": "none"}}, KeyAccess{}, []string{"permissions"}},
		{"a level the resource lacks", KeyAccessInput{Access: "restricted", Levels: map[string]string{"rates": "write"}}, KeyAccess{}, []string{"permissions"}},
		{"unknown type", KeyAccessInput{Type: "master"}, KeyAccess{}, []string{"type"}},
		{"unknown access", KeyAccessInput{Access: "admin"}, KeyAccess{}, []string{"access"}},
		{"costs hidden on a full secret", KeyAccessInput{SuppressCosts: true}, KeyAccess{}, []string{"suppress_costs"}},
		{"publishable with a permission chosen", KeyAccessInput{Type: "publishable", Access: "full", Levels: map[string]string{"couriers": "read"}},
			KeyAccess{}, []string{"permissions"}},
		{"publishable asking for restricted access", KeyAccessInput{Type: "publishable", Access: "restricted", Levels: map[string]string{"couriers": "read"}},
			KeyAccess{}, []string{"access"}},
		{"publishable with every resource at none", KeyAccessInput{Type: "publishable", Levels: map[string]string{"shipments": "none", "rates": ""}},
			KeyAccess{Type: KeyPublishable, Access: AccessRestricted, Permissions: []string{"couriers:read", "rates:read", "tracking:read"}}, nil},
		{"permissions chosen for a full secret", KeyAccessInput{Access: "full", Levels: map[string]string{"shipments": "read"}}, KeyAccess{}, []string{"permissions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PermissionCatalog.ResolveAccess(tt.in)
			wantFields(t, err, tt.fields)
			if len(tt.fields) > 0 {
				return
			}
			if got.Type != tt.want.Type || got.Access != tt.want.Access || got.SuppressCosts != tt.want.SuppressCosts ||
				strings.Join(got.Permissions, " ") != strings.Join(tt.want.Permissions, " ") {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
