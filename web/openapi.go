package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"keyport"
)

type object = map[string]any

var apiErrorDescriptions = map[int]string{
	400: "Invalid JSON, a wrong type, a missing or unknown field, or a bad parameter; field names it",
	401: "No credentials, or the key is unknown, malformed, revoked, expired, or its account is disabled or deleted",
	403: "The key lacks this endpoint's permission, or is a publishable key on a secret-only endpoint",
	404: "No such object for the key's API account and mode",
	409: "The shipment has already been collected, delivered or cancelled",
	413: "The body is larger than 1 MiB",
	415: "The body was not sent with Content-Type: application/json (UTF-8)",
	422: "The API account has no registered auth for the courier in the key's mode, or the Idempotency-Key was used for another request",
	429: "The key is over its rate limit; Retry-After says when to try again, RateLimit and RateLimit-Policy describe the limit",
}

var openAPIDoc = sync.OnceValues(func() ([]byte, error) {
	paths := object{}
	for _, e := range keyport.APIEndpoints {
		item, _ := paths[e.Path].(object)
		if item == nil {
			item = object{}
			paths[e.Path] = item
		}
		item[strings.ToLower(e.Method)] = openAPIOperation(e)
	}
	return json.MarshalIndent(object{
		"openapi": "3.1.0",
		"info": object{
			"title":       "Keyport shipping API",
			"version":     "1",
			"description": "Every call needs an API key from the Keyport portal in the Authorization header (Bearer, Token, ShippoToken or the bare key). Test keys see only test data, live keys only live data.",
		},
		"servers":  []object{{"url": "/"}},
		"security": []object{{"apiKey": []string{}}},
		"paths":    paths,
		"components": object{
			"securitySchemes": object{"apiKey": object{"type": "http", "scheme": "bearer", "description": "sk_test_, sk_live_, pk_test_ or pk_live_ key"}},
			"schemas": object{
				"Error": object{"type": "object", "required": []string{"error", "error_description"}, "properties": object{
					"error": object{"type": "string"}, "error_description": object{"type": "string"}, "field": object{"type": "string"},
				}},
				"Detail": object{"type": "object", "required": []string{"detail"}, "properties": object{"detail": object{"type": "string"}}},
			},
		},
	}, "", "  ")
})

func openAPIOperation(e keyport.Endpoint) object {
	op := object{
		"operationId":   strings.ToLower(e.Method) + strings.NewReplacer("/v1/", "_", "/", "_", "{", "", "}", "").Replace(e.Path),
		"summary":       e.Summary,
		"x-permission":  e.Permission,
		"x-publishable": e.Public(),
	}
	var params []object
	for _, p := range e.Params {
		typ := "string"
		if p.Integer {
			typ = "integer"
		}
		params = append(params, object{"name": p.Name, "in": p.In, "required": p.In == "path", "description": p.Description,
			"schema": object{"type": typ}})
	}
	if e.Method == "POST" {
		params = append(params, object{"name": "Idempotency-Key", "in": "header", "required": false,
			"description": "Any unique string (a UUID): a retry with the same key and the same request within 24 hours gets the first answer again, with Idempotent-Replayed: true, and changes nothing",
			"schema":      object{"type": "string", "minLength": 1, "maxLength": keyport.MaxIdempotencyKeyLength}})
	}
	if params != nil {
		op["parameters"] = params
	}
	if e.Request != "" {
		op["requestBody"] = object{"required": true, "content": object{"application/json": object{"example": json.RawMessage(e.Request)}}}
	}
	responses := object{
		strconv.Itoa(e.Status): object{"description": "Success", "content": object{"application/json": object{"example": json.RawMessage(e.Response)}}},
		"401":                  openAPIError(401, "#/components/schemas/Detail"),
		"403":                  openAPIError(403, "#/components/schemas/Error"),
		"429":                  openAPIError(429, "#/components/schemas/Error"),
	}
	for _, status := range e.Errors {
		responses[strconv.Itoa(status)] = openAPIError(status, "#/components/schemas/Error")
	}
	if e.Method == "POST" {
		responses["422"] = openAPIError(422, "#/components/schemas/Error")
	}
	if e.Request != "" {
		responses["413"] = openAPIError(413, "#/components/schemas/Error")
		responses["415"] = openAPIError(415, "#/components/schemas/Error")
	}
	op["responses"] = responses
	return op
}

func openAPIError(status int, schema string) object {
	return object{"description": apiErrorDescriptions[status], "content": object{"application/json": object{"schema": object{"$ref": schema}}}}
}

// openAPI serves GET /v1/openapi.json.
func (s *Server) openAPI(c echo.Context) error {
	body, err := openAPIDoc()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/json", body)
}
