package views

import (
	"strconv"

	"keyport"
)

// AccessSummary describes what a key may do in a few words: "Unrestricted",
// "Public endpoints", "1 permission", "3 permissions".
func AccessSummary(k keyport.APIKey) string {
	switch {
	case k.Type == keyport.KeySecret && k.Access == keyport.AccessFull:
		return "Unrestricted"
	case k.Type == keyport.KeyPublishable && k.Access == keyport.AccessFull:
		return "Public endpoints"
	case len(k.Permissions) == 1:
		return "1 permission"
	}
	return strconv.Itoa(len(k.Permissions)) + " permissions"
}

var auditObjectLabels = map[string]string{
	"api_account":      "API account",
	"api_key":          "Key",
	"registered_auth":  "Registered auth",
	"live_key_request": "Live key request",
	"shipment":         "Shipment",
	"invitation":       "Invitation",
	"user":             "User",
	"merchant":         "Merchant",
	"settings":         "Settings",
}

// AuditObjectLabel names an event's object for people, such as "Key #12".
func AuditObjectLabel(objectType string, objectID int64) string {
	name, ok := auditObjectLabels[objectType]
	if !ok {
		name = objectType
	}
	if objectID == 0 {
		return name
	}
	return name + " #" + strconv.FormatInt(objectID, 10)
}
