package keyport

import "strconv"

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

// Allows reports whether a key may use a permission of the catalog. A
// full-access secret key may use every permission, including ones added to
// the catalog after it was created; any other key may use exactly the
// permissions it was created with, so a later catalog entry is never granted
// to it. A publishable key never reaches a permission that is not public.
func (c Catalog) Allows(k APIKey, name string) bool {
	p, ok := c.Lookup(name)
	if !ok {
		return false
	}
	if k.Type == KeyPublishable && !p.Public {
		return false
	}
	if k.Type == KeySecret && k.Access == AccessFull {
		return true
	}
	for _, granted := range k.Permissions {
		if granted == name {
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

// AccessSummary describes what a key may do in a few words: "Unrestricted",
// "Public endpoints", "1 permission", "3 permissions".
func AccessSummary(k APIKey) string {
	switch {
	case k.Type == KeySecret && k.Access == AccessFull:
		return "Unrestricted"
	case k.Type == KeyPublishable && k.Access == AccessFull:
		return "Public endpoints"
	case len(k.Permissions) == 1:
		return "1 permission"
	}
	return strconv.Itoa(len(k.Permissions)) + " permissions"
}

// SecretsPerPage is how many keys one page of the API secrets page lists.
const SecretsPerPage = 50

// SecretsFilter selects keys on the API secrets page; zero fields select everything.
type SecretsFilter struct {
	AccountID int64
	Mode      Mode
	Type      KeyType
	Status    KeyStatus
	Page      int
}

// SecretsPage is one page of a merchant's keys across its API accounts.
type SecretsPage struct {
	Filter SecretsFilter
	Keys   []APIKey
	// More reports whether another page follows.
	More bool
}
