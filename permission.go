package keyport

import (
	"maps"
	"slices"
)

// Permission is one endpoint permission a key may hold.
type Permission struct {
	// Name is "resource:level", such as "shipments:read".
	Name     string
	Resource string
	// Level is "read" or "write".
	Level       string
	Description string
	// Public reports whether publishable keys may use it.
	Public bool
	// Since is the catalog version that added it.
	Since int
}

// Catalog is the ordered list of endpoint permissions.
type Catalog []Permission

// CatalogVersion is the version of PermissionCatalog.
const CatalogVersion = 1

// PermissionCatalog has one entry per endpoint group of the shipping API.
var PermissionCatalog = Catalog{
	{Name: "couriers:read", Resource: "couriers", Level: "read", Description: "List couriers and their services", Public: true, Since: 1},
	{Name: "rates:read", Resource: "rates", Level: "read", Description: "Quote rates for a parcel", Public: true, Since: 1},
	{Name: "tracking:read", Resource: "tracking", Level: "read", Description: "Track a shipment by its tracking number", Public: true, Since: 1},
	{Name: "shipments:read", Resource: "shipments", Level: "read", Description: "List and read shipments", Since: 1},
	{Name: "shipments:write", Resource: "shipments", Level: "write", Description: "Create and cancel shipments", Since: 1},
}

// Lookup returns the catalog entry of a permission name.
func (c Catalog) Lookup(name string) (Permission, bool) {
	for _, p := range c {
		if p.Name == name {
			return p, true
		}
	}
	return Permission{}, false
}

// Public returns the names of the permissions publishable keys may use.
func (c Catalog) Public() []string {
	var names []string
	for _, p := range c {
		if p.Public {
			names = append(names, p.Name)
		}
	}
	return names
}

// Allows reports whether a key may use a permission of the catalog; it is
// what the permissions panel shows. It and VerifiedKey.Allows, what /v1
// enforces, are both Permits.
func (c Catalog) Allows(k APIKey, name string) bool {
	return c.Permits(k.Type, k.Access, k.Permissions, name)
}

// Permits is the one rule of what a key may do. A permission outside the
// catalog is never permitted. A publishable key never reaches a permission
// that is not public. A full-access key may use every permission its type
// reaches, including ones added to the catalog after it was created; a
// restricted key may use exactly the permissions it was created with, so a
// later catalog entry is never granted to it.
func (c Catalog) Permits(t KeyType, access Access, granted []string, name string) bool {
	p, ok := c.Lookup(name)
	switch {
	case !ok:
		return false
	case t == KeyPublishable && !p.Public:
		return false
	case access == AccessFull:
		return true
	}
	for _, g := range granted {
		if g == name {
			return true
		}
	}
	return false
}

// Grant is one catalog permission and whether a key holds it.
type Grant struct {
	Permission
	Granted bool
}

// Grants lists every catalog permission with whether the key holds it.
func (c Catalog) Grants(k APIKey) []Grant {
	out := make([]Grant, len(c))
	for i, p := range c {
		out[i] = Grant{Permission: p, Granted: c.Allows(k, p.Name)}
	}
	return out
}

// Resource is one resource of the catalog with the access levels it offers.
type Resource struct {
	Name   string
	Levels []string
}

// Resources groups the catalog by resource, in catalog order.
func (c Catalog) Resources() []Resource {
	var out []Resource
	for _, p := range c {
		if n := len(out); n > 0 && out[n-1].Name == p.Resource {
			out[n-1].Levels = append(out[n-1].Levels, p.Level)
			continue
		}
		out = append(out, Resource{Name: p.Resource, Levels: []string{p.Level}})
	}
	return out
}

// KeyAccessInput is what a create form submits about a key's type and access.
type KeyAccessInput struct {
	// Type is "secret" (the default when empty) or "publishable".
	Type string
	// Access is "full" (the default when empty) or "restricted"; it applies to secret keys.
	Access string
	// Levels maps a resource to "none", "read" or "write"; write includes read.
	Levels        map[string]string
	SuppressCosts bool
	// AllowedOrigins is the text of a publishable key's allowed origins:
	// URLs separated by spaces, commas or line breaks.
	AllowedOrigins string
}

// KeyAccess is the resolved type and access of a new key.
type KeyAccess struct {
	Type          KeyType
	Access        Access
	Permissions   []string
	SuppressCosts bool
	// AllowedOrigins are the web origins a publishable key may be used from
	// in a browser; empty allows any.
	AllowedOrigins []string
}

// ResolveAccess turns a create form's choices into a key's type and access.
// A full-access secret key lists no permissions, as it may use everything; a
// restricted secret key the chosen ones, at least one; a publishable key
// exactly the public permissions. Choices that do not apply are refused
// rather than ignored: permissions for a full-access key, any access choice
// or permission for a publishable key. Errors are keyed "type", "access" and
// "permissions".
func (c Catalog) ResolveAccess(in KeyAccessInput) (KeyAccess, error) {
	var v ValidationError
	defaults := NewKey{Type: KeyType(in.Type), Access: Access(in.Access)}.WithDefaults()
	out := KeyAccess{Type: defaults.Type, Access: defaults.Access, SuppressCosts: in.SuppressCosts}
	chosen := slices.ContainsFunc(slices.Collect(maps.Values(in.Levels)), func(l string) bool { return l != "" && l != "none" })
	switch {
	case !out.Type.Valid():
		v.Add("type", "Choose Secret or Publishable.")
	case out.Type == KeyPublishable && out.Access == AccessRestricted:
		v.Add("access", "Publishable keys always get the public permissions listed: Full access and Restricted are for secret keys.")
	case out.Type == KeyPublishable:
		if chosen {
			v.Add("permissions", "Publishable keys always get the public permissions listed (couriers, rates, tracking): set every resource to None.")
		}
		out.Access, out.Permissions = AccessRestricted, c.Public()
	case out.Access == AccessFull:
		if chosen {
			v.Add("permissions", "Permissions are chosen only for a restricted key: choose Restricted, or set every resource to None.")
		}
		if out.SuppressCosts {
			v.Add("suppress_costs", "Costs can be hidden only for restricted secret keys and publishable keys.")
		}
	case out.Access == AccessRestricted:
		out.Permissions = c.chosenPermissions(in.Levels, &v)
	default:
		v.Add("access", "Choose Full access or Restricted.")
	}
	origins, err := ParseOrigins(in.AllowedOrigins)
	switch {
	case err != nil:
		v.Add("allowed_origins", err.Error())
	case len(origins) > 0 && out.Type != KeyPublishable:
		v.Add("allowed_origins", "Allowed origins apply to publishable keys only: secret keys never answer a browser on another site.")
	default:
		out.AllowedOrigins = origins
	}
	return out, v.OrNil()
}

// chosenPermissions turns the levels chosen per resource into permission
// names, where write includes read; at least one is required.
func (c Catalog) chosenPermissions(levels map[string]string, v *ValidationError) []string {
	var names []string
	for _, r := range c.Resources() {
		level := levels[r.Name]
		switch {
		case level == "" || level == "none":
		case !r.Offers(level):
			v.Add("permissions", "Choose None, Read or Write for each resource.")
		case level == "write":
			for _, l := range r.Levels {
				names = append(names, r.Name+":"+l)
			}
		default:
			names = append(names, r.Name+":"+level)
		}
	}
	if len(names) == 0 {
		v.Add("permissions", "Select at least one endpoint permission.")
	}
	return names
}

// Offers reports whether the resource has an access level.
func (r Resource) Offers(level string) bool {
	for _, l := range r.Levels {
		if l == level {
			return true
		}
	}
	return false
}
