package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keyport"
)

type object = map[string]any

var apiErrorDescriptions = map[int]string{
	400: "Invalid JSON, a wrong type, a missing or unknown field, or a bad parameter; field names it",
	401: "No credentials, or the key is unknown, malformed, revoked, expired, or its account is disabled or deleted",
	403: "The key lacks this endpoint's permission, is a publishable key on a secret-only endpoint, or a publishable key used from a website its allowed origins do not list",
	404: "No such object for the key's API account and mode",
	409: "The shipment has already been collected, delivered or cancelled",
	413: "The body is larger than 1 MiB",
	415: "The body was not sent with Content-Type: application/json (UTF-8)",
	422: "The API account has no registered auth for the courier in the key's mode, or the Idempotency-Key was used for another request",
	429: "The key is over its rate limit; Retry-After says when to try again, RateLimit and RateLimit-Policy describe the limit",
}

// apiSchemaNames names the Go types the document describes as components;
// other types (the generic lists) are described where they are used.
var apiSchemaNames = map[reflect.Type]string{
	reflect.TypeFor[apiCourier]():              "Courier",
	reflect.TypeFor[apiService]():              "Service",
	reflect.TypeFor[apiParcel]():               "DefaultParcel",
	reflect.TypeFor[apiRate]():                 "Rate",
	reflect.TypeFor[apiShipment]():             "Shipment",
	reflect.TypeFor[apiTracking]():             "Tracking",
	reflect.TypeFor[apiTrackingEvent]():        "TrackingEvent",
	reflect.TypeFor[keyport.Address]():         "Address",
	reflect.TypeFor[keyport.Parcel]():          "Parcel",
	reflect.TypeFor[keyport.RateRequest]():     "RateRequest",
	reflect.TypeFor[keyport.ShipmentRequest](): "ShipmentRequest",
	reflect.TypeFor[leakReportJSON]():          "LeakReport",
}

// schemas builds the JSON Schemas of Go types from their fields and tags: a
// field is required unless its json tag says omitempty or its openapi tag
// says optional; the tags minimum, maximum, minLength, maxLength, pattern,
// format, enum (values separated by |) and doc add bounds and words. Every
// object refuses members it does not list.
type schemas struct {
	components object
}

var timeType = reflect.TypeFor[time.Time]()

// of returns the schema of t: a reference to its component when t is named in
// apiSchemaNames, else the schema itself.
func (g *schemas) of(t reflect.Type) object {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name, ok := apiSchemaNames[t]
	if !ok {
		return g.build(t)
	}
	if _, done := g.components[name]; !done {
		g.components[name] = object{}
		g.components[name] = g.build(t)
	}
	return object{"$ref": "#/components/schemas/" + name}
}

func (g *schemas) build(t reflect.Type) object {
	if t == timeType {
		return object{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Struct:
		props := object{}
		required := []string{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			p := g.of(f.Type)
			if _, isRef := p["$ref"]; !isRef {
				applySchemaTags(p, f.Tag)
			}
			props[name] = p
			if !strings.Contains(opts, "omitempty") && f.Tag.Get("openapi") != "optional" {
				required = append(required, name)
			}
		}
		return object{"type": "object", "properties": props, "required": required, "additionalProperties": false}
	case reflect.Slice:
		return object{"type": "array", "items": g.of(t.Elem())}
	case reflect.String:
		return object{"type": "string"}
	case reflect.Int, reflect.Int32:
		return object{"type": "integer"}
	case reflect.Int64:
		return object{"type": "integer", "format": "int64"}
	case reflect.Bool:
		return object{"type": "boolean"}
	}
	panic("web: no JSON Schema for " + t.String())
}

// applySchemaTags adds a field's bounds and words from its struct tags.
func applySchemaTags(p object, tag reflect.StructTag) {
	for _, key := range []string{"minimum", "maximum", "minLength", "maxLength"} {
		if v, ok := tag.Lookup(key); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				panic("web: tag " + key + " is not a number: " + v)
			}
			p[key] = n
		}
	}
	for _, key := range []string{"pattern", "format"} {
		if v, ok := tag.Lookup(key); ok {
			p[key] = v
		}
	}
	if v, ok := tag.Lookup("doc"); ok {
		p["description"] = v
	}
	if v, ok := tag.Lookup("enum"); ok {
		p["enum"] = strings.Split(v, "|")
	}
}

// apiErrorCodes are the error codes a /v1 error body may carry.
var apiErrorCodes = []string{
	"invalid_request", "api_secret_no_permission", "publishable_key_not_allowed", "not_found", "method_not_allowed",
	"shipment_not_cancellable", "request_too_large", "unsupported_media_type", "missing_registered_auth",
	"idempotency_key_reused", "rate_limited", "internal_error", "origin_not_allowed",
}

// openAPIHeaders are the response headers the document declares.
var openAPIHeaders = object{
	"X-Request-Id": object{"description": "The request's id, as the server logs it", "required": true,
		"schema": object{"type": "string"}},
	"WWW-Authenticate": object{"description": `Bearer realm="keyport", with error="invalid_token" when a key was sent but does not verify (RFC 6750)`,
		"required": true, "schema": object{"type": "string"}},
	"Retry-After": object{"description": "Seconds until the key may call again", "required": true,
		"schema": object{"type": "integer", "minimum": 1}},
	"RateLimit": object{"description": `While a rate limit is set: "per-key";r=<calls left>;t=<seconds until the quota is whole> (IETF httpapi draft)`,
		"schema": object{"type": "string"}},
	"RateLimit-Policy": object{"description": `While a rate limit is set: "per-key";q=<calls>;w=1, this replica's share (IETF httpapi draft)`,
		"schema": object{"type": "string"}},
	"Idempotent-Replayed": object{"description": "true when the answer is the stored answer to an earlier request with the same Idempotency-Key",
		"schema": object{"type": "string", "enum": []string{"true"}}},
	"ETag": object{"description": "The version of the courier catalog, for If-None-Match", "required": true,
		"schema": object{"type": "string"}},
	"Cache-Control": object{"description": "How long the answer may be kept", "required": true,
		"schema": object{"type": "string"}},
}

// headerRefs references the named headers of openAPIHeaders.
func headerRefs(names ...string) object {
	out := object{}
	for _, name := range names {
		out[name] = object{"$ref": "#/components/headers/" + name}
	}
	return out
}

// buildOpenAPI writes the OpenAPI 3.1 document of the /v1 API from the
// endpoint table and the Go types the handlers decode and encode.
func (s *Server) buildOpenAPI() ([]byte, error) {
	g := &schemas{components: object{}}
	paths := object{}
	routes := s.apiRoutes()
	for _, e := range keyport.APIEndpoints {
		item, _ := paths[e.Path].(object)
		if item == nil {
			item = object{}
			paths[e.Path] = item
		}
		item[strings.ToLower(e.Method)] = openAPIOperation(g, e, routes.of(e))
	}
	paths["/v1/leaks"] = object{"post": leakReportOperation(g)}
	g.components["Error"] = object{"type": "object", "required": []string{"error", "error_description"}, "additionalProperties": false,
		"properties": object{
			"error":             object{"type": "string", "enum": apiErrorCodes},
			"error_description": object{"type": "string", "minLength": 1},
			"field":             object{"type": "string", "description": "The JSON field (dotted), parameter or header at fault"},
		}}
	g.components["Detail"] = object{"type": "object", "required": []string{"detail"}, "additionalProperties": false,
		"properties": object{"detail": object{"type": "string", "enum": []string{errNoCredentials.problem.detail, errInvalidKey.problem.detail}}}}
	server := s.baseURL
	if server == "" {
		server = "http://127.0.0.1:8080"
	}
	return json.MarshalIndent(object{
		"openapi": "3.1.0",
		"info": object{
			"title":   "Keyport shipping API",
			"version": "1",
			"description": "Every call needs an API key from the Keyport portal in the Authorization header (Bearer, Token, " +
				"ShippoToken or the bare key). Test keys see only test data, live keys only live data. Request bodies are " +
				"JSON sent with Content-Type: application/json; field names are case-sensitive, a field sent twice and " +
				"unknown fields are refused.",
			"contact": object{"name": "The platform's API team", "url": server + "/docs/api"},
		},
		"tags":     openAPITags(),
		"servers":  []object{{"url": server}},
		"security": []object{{"apiKey": []string{}}},
		"paths":    paths,
		"components": object{
			"securitySchemes": object{"apiKey": object{"type": "http", "scheme": "bearer", "description": "sk_test_, sk_live_, pk_test_ or pk_live_ key"}},
			"schemas":         g.components,
			"headers":         openAPIHeaders,
		},
	}, "", "  ")
}

// openAPITags lists the groups of the calls, with what each holds.
func openAPITags() []object {
	tags := make([]object, 0, len(keyport.APITags))
	for _, t := range keyport.APITags {
		tags = append(tags, object{"name": t.Name, "description": t.Description})
	}
	return tags
}

func openAPIOperation(g *schemas, e keyport.Endpoint, route apiRoute) object {
	op := object{
		"operationId":   strings.ToLower(e.Method) + strings.NewReplacer("/v1/", "_", "/", "_", "{", "", "}", "").Replace(e.Path),
		"summary":       e.Title,
		"description":   e.Description,
		"tags":          []string{e.Tag},
		"x-permission":  e.Permission,
		"x-publishable": e.Public(),
	}
	params := []object{}
	for _, p := range e.Params {
		schema := object{"type": "string", "minLength": 1}
		if p.Integer {
			schema = object{"type": "integer", "minimum": max(p.Min, 1)}
			if p.Max > 0 {
				schema["maximum"] = p.Max
			}
		}
		params = append(params, object{"name": p.Name, "in": p.In, "required": p.In == "path", "description": p.Description, "schema": schema})
	}
	if e.Method == http.MethodPost {
		params = append(params, object{"name": "Idempotency-Key", "in": "header", "required": false,
			"description": "Any unique string (a UUID): a retry with the same key and the same request within 24 hours gets the first answer again, with Idempotent-Replayed: true, and changes nothing",
			"schema":      object{"type": "string", "minLength": 1, "maxLength": keyport.MaxIdempotencyKeyLength, "pattern": "^[!-~]+$"}})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if route.request != nil {
		op["requestBody"] = object{"required": true, "content": object{"application/json": object{
			"schema": g.of(reflect.TypeOf(route.request)), "example": json.RawMessage(e.Request)}}}
	}
	successHeaders := []string{"X-Request-Id", "RateLimit", "RateLimit-Policy"}
	if e.Method == http.MethodPost {
		successHeaders = append(successHeaders, "Idempotent-Replayed")
	}
	if route.cached {
		successHeaders = append(successHeaders, "ETag", "Cache-Control")
	}
	responses := object{
		strconv.Itoa(e.Status): object{"description": "Success", "headers": headerRefs(successHeaders...),
			"content": object{"application/json": object{"schema": g.of(reflect.TypeOf(route.response)), "example": json.RawMessage(e.Response)}}},
		"401": openAPIError(401, "Detail", "X-Request-Id", "WWW-Authenticate"),
		"403": openAPIError(403, "Error", "X-Request-Id", "RateLimit", "RateLimit-Policy"),
		"429": openAPIError(429, "Error", "X-Request-Id", "Retry-After", "RateLimit", "RateLimit-Policy"),
		"500": object{"description": "A server error; the error has been logged with the request id",
			"headers": headerRefs("X-Request-Id"),
			"content": object{"application/json": object{"schema": object{"$ref": "#/components/schemas/Error"}}}},
	}
	if route.cached {
		responses["304"] = object{"description": "The catalog has not changed since the ETag in If-None-Match",
			"headers": headerRefs("X-Request-Id", "ETag", "Cache-Control")}
	}
	errs := slices.Clone(e.Errors)
	if e.Method == http.MethodPost {
		errs = append(errs, 400, 422)
	}
	if route.request != nil {
		errs = append(errs, 413, 415)
	}
	for _, status := range errs {
		responses[strconv.Itoa(status)] = openAPIError(status, "Error", "X-Request-Id", "RateLimit", "RateLimit-Policy")
	}
	op["responses"] = responses
	return op
}

// leakReportOperation documents POST /v1/leaks, the one call that takes no key.
func leakReportOperation(g *schemas) object {
	report := g.of(reflect.TypeFor[leakReportJSON]())
	return object{
		"operationId": "post_leaks",
		"summary":     "Report leaked API keys",
		"tags":        []string{"Leaks"},
		"description": "Report API keys found in public (no key needed). Each Keyport secret key among them that is not revoked is " +
			"revoked at once, or only reported if the platform chose so; its merchant is emailed and told by webhook. " +
			"Publishable keys are only reported. The answer is the same whether or not a key matched.",
		"security": []object{},
		"requestBody": object{"required": true, "content": object{"application/json": object{
			"schema":  object{"oneOf": []object{report, {"type": "array", "items": report, "minItems": 1, "maxItems": keyport.MaxLeakReports}}},
			"example": json.RawMessage(`[{"token": "sk_live_…", "type": "keyport_secret_key", "url": "https://github.com/acme/shop/blob/main/.env", "source": "content"}]`)}}},
		"responses": object{
			"202": object{"description": "Received", "headers": headerRefs("X-Request-Id"),
				"content": object{"application/json": object{"schema": object{"type": "object", "required": []string{"status"},
					"additionalProperties": false, "properties": object{"status": object{"type": "string", "enum": []string{"received"}}}}}}},
			"400": openAPIError(400, "Error", "X-Request-Id"),
			"413": openAPIError(413, "Error", "X-Request-Id"),
			"415": openAPIError(415, "Error", "X-Request-Id"),
			"429": object{"description": "Over the limit of reports from this address; Retry-After says when to try again",
				"headers": headerRefs("X-Request-Id", "Retry-After"),
				"content": object{"application/json": object{"schema": object{"$ref": "#/components/schemas/Error"}}}},
			"500": object{"description": "A server error; the error has been logged with the request id",
				"headers": headerRefs("X-Request-Id"),
				"content": object{"application/json": object{"schema": object{"$ref": "#/components/schemas/Error"}}}},
		},
	}
}

func openAPIError(status int, schema string, headers ...string) object {
	return object{"description": apiErrorDescriptions[status], "headers": headerRefs(headers...),
		"content": object{"application/json": object{"schema": object{"$ref": "#/components/schemas/" + schema}}}}
}

// openAPI serves GET /v1/openapi.json.
func (s *Server) openAPI(c echo.Context) error {
	body, err := s.openAPIDoc()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/json", body)
}
