package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"keyport"
)

// contract is the OpenAPI document of a test app's server, loaded and
// validated by kin-openapi, with a router that finds a request's operation.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

// contracts holds one contract per document text: every test app at the same
// base URL serves the same document.
var contracts sync.Map

// loadContract loads the document srv serves, failing the test when
// kin-openapi finds it invalid.
func loadContract(t testing.TB, srv *Server) *contract {
	t.Helper()
	body, err := srv.openAPIDoc()
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := contracts.Load(string(body)); ok {
		return c.(*contract)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(body)
	if err != nil {
		t.Fatalf("load /v1/openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("/v1/openapi.json is not a valid OpenAPI document: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	c := &contract{doc: doc, router: router}
	contracts.Store(string(body), c)
	return c
}

// check validates the answer to req (status, headers and body) against the
// operation of the document that req calls. Requests that name no operation
// (an unknown path or method, HEAD, OPTIONS) have nothing to check.
func (c *contract) check(req *http.Request, rec *httptest.ResponseRecorder) error {
	if !isAPIPath(req.URL.Path) || req.URL.Path == "/v1/openapi.json" || isLoadTestRoute(req.URL.Path) {
		return nil
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil || !matchesPattern(route.Path, req.URL.Path) {
		return nil
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	body := bytes.Clone(rec.Body.Bytes())
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	input.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), input)
}

// serve has the app answer req into rec and checks every /v1 answer against
// the OpenAPI document.
func (a *testApp) serve(rec *httptest.ResponseRecorder, req *http.Request) {
	a.t.Helper()
	a.srv.ServeHTTP(rec, req)
	if err := loadContract(a.t, a.srv).check(req, rec); err != nil {
		a.t.Errorf("%s %s answered %d against the OpenAPI document: %v\n%.600s", req.Method, req.URL, rec.Code, err,
			strings.TrimSpace(rec.Body.String()))
	}
}

func TestContractRefusesAnswersTheDocumentDoesNotDescribe(t *testing.T) {
	app := newTestApp(t)
	c := loadContract(t, app.srv)
	answer := func(status int, body string, header map[string]string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", "application/json")
		rec.Header().Set("X-Request-Id", "0123456789abcdef")
		for k, v := range header {
			rec.Header().Set(k, v)
		}
		rec.WriteHeader(status)
		rec.WriteString(body)
		return rec
	}
	const shipment = `{"id": 1, "mode": "test", "status": "created", "courier": "dpd", "courier_name": "DPD",
		"service_code": "DPD_NEXT_DAY", "service_name": "Next Day", "tracking_number": "KP1", "label_ref": "LBL-KP1",
		"from": {"postcode": "M1 1AE", "country": "GB"}, "to": {"postcode": "EH1 1YZ", "country": "GB"},
		"weight_grams": 1800, "created_at": "2026-11-23T10:15:00Z", "updated_at": "2026-11-23T10:15:00Z"}`
	tests := []struct {
		name, method, path string
		rec                *httptest.ResponseRecorder
		valid              bool
	}{
		{"a shipment", "GET", "/v1/shipments/1", answer(200, shipment, nil), true},
		{"couriers of nonsense", "GET", "/v1/couriers", answer(200, `{"nonsense": true}`, map[string]string{"ETag": `W/"x"`, "Cache-Control": "private"}), false},
		{"an empty shipment", "POST", "/v1/shipments", answer(201, `{}`, nil), false},
		{"an unknown member", "GET", "/v1/shipments/1", answer(200, strings.Replace(shipment, `"id": 1`, `"id": 1, "extra": 2`, 1), nil), false},
		{"a status outside the enum", "GET", "/v1/shipments/1", answer(200, strings.Replace(shipment, `"created",`, `"lost",`, 1), nil), false},
		{"an undocumented status", "GET", "/v1/shipments/1", answer(418, `{"error": "not_found", "error_description": "x"}`, nil), false},
		{"an error code outside the list", "GET", "/v1/shipments/1", answer(404, `{"error": "gone", "error_description": "x"}`, nil), false},
		{"a 429 without Retry-After", "GET", "/v1/shipments/1", answer(429, `{"error": "rate_limited", "error_description": "x"}`, nil), false},
		{"a 401 without WWW-Authenticate", "GET", "/v1/couriers", answer(401, `{"detail": "Token does not exist"}`, nil), false},
		{"a 401", "GET", "/v1/couriers", answer(401, `{"detail": "Token does not exist"}`, map[string]string{"WWW-Authenticate": "Bearer"}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://example.test"+tt.path, nil)
			err := c.check(req, tt.rec)
			if (err == nil) != tt.valid {
				t.Fatalf("check: %v, want valid %v", err, tt.valid)
			}
		})
	}
}

func TestOpenAPIDocumentDescribesTheGoTypes(t *testing.T) {
	app := newTestApp(t)
	doc := loadContract(t, app.srv).doc
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "http://example.test" {
		t.Fatalf("servers %v, want the absolute base URL", doc.Servers)
	}
	schema := func(name string) *openapi3.Schema {
		t.Helper()
		ref, ok := doc.Components.Schemas[name]
		if !ok || ref.Value == nil {
			t.Fatalf("no component %s", name)
		}
		return ref.Value
	}
	parcel := schema("Parcel")
	if w := parcel.Properties["weight_grams"].Value; w.Max == nil || *w.Max != keyport.MaxParcelGrams || w.Min == nil || *w.Min != 1 {
		t.Errorf("weight_grams bounds %v..%v, want 1..%d", w.Min, w.Max, keyport.MaxParcelGrams)
	}
	if l := parcel.Properties["length_cm"].Value; l.Max == nil || *l.Max != keyport.MaxParcelCM {
		t.Errorf("length_cm maximum %v, want %d", l.Max, keyport.MaxParcelCM)
	}
	if got := strings.Join(parcel.Required, ","); got != "weight_grams" {
		t.Errorf("Parcel requires %s, want weight_grams alone", got)
	}
	if got := strings.Join(schema("RateRequest").Required, ","); got != "from,to,parcel" {
		t.Errorf("RateRequest requires %s", got)
	}
	if got := strings.Join(schema("ShipmentRequest").Required, ","); got != "courier,service_code,from,to,parcel" {
		t.Errorf("ShipmentRequest requires %s", got)
	}
	for name, ref := range doc.Components.Schemas {
		if ref.Value.Type.Is("object") && (ref.Value.AdditionalProperties.Has == nil || *ref.Value.AdditionalProperties.Has) {
			t.Errorf("%s allows members it does not list", name)
		}
	}
	limit := doc.Paths.Find("/v1/shipments").Get.Parameters.GetByInAndName("query", "limit").Schema.Value
	if limit.Min == nil || *limit.Min != 1 || limit.Max == nil || *limit.Max != keyport.MaxShipmentsLimit {
		t.Errorf("limit bounds %v..%v", limit.Min, limit.Max)
	}
	for _, e := range keyport.APIEndpoints {
		op := doc.Paths.Find(e.Path).GetOperation(e.Method)
		success := op.Responses.Status(e.Status)
		if success == nil || success.Value.Content.Get("application/json").Schema == nil {
			t.Errorf("%s %s: no schema for its %d answer", e.Method, e.Path, e.Status)
		}
		if (e.Request != "") != (op.RequestBody != nil && op.RequestBody.Value.Content.Get("application/json").Schema != nil) {
			t.Errorf("%s %s: request body schema does not match the endpoint table", e.Method, e.Path)
		}
		for _, status := range []int{401, 403, 429, 500} {
			if op.Responses.Status(status) == nil {
				t.Errorf("%s %s: no %d answer", e.Method, e.Path, status)
			}
		}
	}
	statuses := []any{keyport.ShipmentCreated, keyport.ShipmentInTransit, keyport.ShipmentDelivered, keyport.ShipmentCancelled}
	enums := []struct {
		schema, field string
		want          []any
	}{
		{"Shipment", "status", statuses},
		{"Tracking", "status", statuses},
		{"TrackingEvent", "status", statuses},
		{"Shipment", "mode", []any{string(keyport.ModeTest), string(keyport.ModeLive)}},
	}
	for _, e := range enums {
		if got := schema(e.schema).Properties[e.field].Value.Enum; fmt.Sprint(got) != fmt.Sprint(e.want) {
			t.Errorf("%s.%s enum %v, want the domain's %v", e.schema, e.field, got, e.want)
		}
	}
	codes := doc.Components.Schemas["Error"].Value.Properties["error"].Value.Enum
	if len(codes) != len(apiErrorCodes) {
		t.Errorf("error codes %v", codes)
	}
}

// TestOpenAPIOperationsAreNamedAndGrouped checks what linters such as
// Spectral ask of each operation and what client generators build on: a short
// summary (a method's title), a description, and one tag (the API class that
// holds the method) among the document's tags, each used, and a contact.
func TestOpenAPIOperationsAreNamedAndGrouped(t *testing.T) {
	app := newTestApp(t)
	doc := loadContract(t, app.srv).doc
	if doc.Info.Contact == nil || doc.Info.Contact.URL != "http://example.test/docs/api" {
		t.Errorf("contact %+v, want the API reference", doc.Info.Contact)
	}
	declared := map[string]bool{}
	for _, tag := range doc.Tags {
		if tag.Description == "" {
			t.Errorf("tag %s has no description", tag.Name)
		}
		declared[tag.Name] = false
	}
	operations := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			operations++
			name := method + " " + path
			if op.Summary == "" || len(op.Summary) > 40 || strings.HasSuffix(op.Summary, ".") {
				t.Errorf("%s: summary %q, want a title of a few words", name, op.Summary)
			}
			if len(op.Description) <= len(op.Summary) {
				t.Errorf("%s: description %q says no more than its summary", name, op.Description)
			}
			if len(op.Tags) != 1 {
				t.Errorf("%s: tags %v, want one", name, op.Tags)
				continue
			}
			if _, ok := declared[op.Tags[0]]; !ok {
				t.Errorf("%s: tag %q is not among the document's tags", name, op.Tags[0])
			}
			declared[op.Tags[0]] = true
		}
	}
	for tag, used := range declared {
		if !used {
			t.Errorf("tag %s groups no operation", tag)
		}
	}
	if operations != len(keyport.APIEndpoints)+1 {
		t.Errorf("%d operations, want the %d endpoints and the leak report", operations, len(keyport.APIEndpoints))
	}
}

func TestEveryErrorCodeIsInTheDocument(t *testing.T) {
	used := map[string]bool{}
	for _, file := range []string{"errors.go", "api.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`code: +"([a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = true
		}
	}
	if len(used) < 5 {
		t.Fatalf("found only %v", used)
	}
	for code := range used {
		if !slices.Contains(apiErrorCodes, code) {
			t.Errorf("error code %s is answered but not listed in the document", code)
		}
	}
	for _, code := range apiErrorCodes {
		if !used[code] {
			t.Errorf("error code %s is listed but never answered", code)
		}
	}
}
