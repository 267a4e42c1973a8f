package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"

	"keyport"
)

// apiRefusal is a /v1 refusal answered with a fixed problem body.
type apiRefusal struct{ problem apiProblem }

// Error names the refusal for logs.
func (r *apiRefusal) Error() string {
	return "api refusal " + strconv.Itoa(r.problem.status) + " " + r.problem.code
}

// Refusals of the /v1 API; the authentication ones have DESIGN.md's exact bodies.
var (
	errNoCredentials = &apiRefusal{apiProblem{status: http.StatusUnauthorized,
		detail: "Authentication credentials were not provided."}}
	errInvalidKey = &apiRefusal{apiProblem{status: http.StatusUnauthorized,
		detail: "Token does not exist"}}
	errNoPermission = &apiRefusal{apiProblem{status: http.StatusForbidden, code: "api_secret_no_permission",
		description: "User has no permission to execute this action"}}
	errPublishableKey = &apiRefusal{apiProblem{status: http.StatusForbidden, code: "publishable_key_not_allowed",
		description: "Publishable keys cannot call this endpoint. Use a secret key (sk_test_ or sk_live_) from your server."}}
	errOriginNotAllowed = &apiRefusal{apiProblem{status: http.StatusForbidden, code: "origin_not_allowed",
		description: "This publishable key may not be used from this website: its allowed origins do not list it. Create a key that lists it."}}
	errUnsupportedMediaType = &apiRefusal{apiProblem{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
		description: "Send the request body as JSON, with the header Content-Type: application/json."}}
	errNotCancellable = &apiRefusal{apiProblem{status: http.StatusConflict, code: "shipment_not_cancellable",
		description: "Only a shipment that has not been collected yet (status \"created\") can be cancelled."}}
)

// rateLimitedError refuses a call over the key's rate limit.
type rateLimitedError struct{ retryAfter time.Duration }

func (e *rateLimitedError) Error() string {
	return "Too many requests with this key. Retry after " + strconv.Itoa(e.seconds()) + " seconds."
}

func (e *rateLimitedError) seconds() int {
	return max(1, int((e.retryAfter+time.Second-1)/time.Second))
}

// credential extracts the key from an Authorization header value. It accepts
// "Bearer KEY", "Token KEY", "ShippoToken KEY" and the bare key.
func credential(header string) string {
	v := strings.TrimSpace(header)
	scheme, rest, found := strings.Cut(v, " ")
	if found && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Token") || strings.EqualFold(scheme, "ShippoToken")) {
		return strings.TrimSpace(rest)
	}
	return v
}

// apiHandler answers a /v1 request made with the verified key k.
type apiHandler func(c echo.Context, k keyport.VerifiedKey) error

// apiRoute is what serves one endpoint of keyport.APIEndpoints: its handler,
// and the Go types of its request body (nil when it takes none) and of its
// successful answer, from which the OpenAPI document describes them.
type apiRoute struct {
	handler  apiHandler
	request  any
	response any
	// cached marks an answer clients may keep and revalidate with its ETag.
	cached bool
}

// apiRouteSet maps "METHOD /path" of each endpoint in keyport.APIEndpoints to its route.
type apiRouteSet map[string]apiRoute

// apiRoutes is the route of every /v1 endpoint; the endpoint table states
// each one's path and permission.
func (s *Server) apiRoutes() apiRouteSet {
	return apiRouteSet{
		"GET /v1/couriers":               {handler: s.apiCouriers, response: apiList[apiCourier]{}, cached: true},
		"POST /v1/rates":                 {handler: s.apiRates, request: keyport.RateRequest{}, response: apiList[apiRate]{}},
		"GET /v1/tracking/{number}":      {handler: s.apiTracking, response: apiTracking{}},
		"GET /v1/shipments":              {handler: s.apiListShipments, response: apiPage[apiShipment]{}},
		"GET /v1/shipments/{id}":         {handler: s.apiShipment, response: apiShipment{}},
		"POST /v1/shipments":             {handler: s.apiCreateShipment, request: keyport.ShipmentRequest{}, response: apiShipment{}},
		"POST /v1/shipments/{id}/cancel": {handler: s.apiCancelShipment, response: apiShipment{}},
	}
}

// of returns the route of an endpoint; an endpoint without one is a
// programming error found when the routes are built.
func (h apiRouteSet) of(ep keyport.Endpoint) apiRoute {
	route, ok := h[ep.Method+" "+ep.Path]
	if !ok {
		panic("web: no handler for API endpoint " + ep.Method + " " + ep.Path)
	}
	return route
}

// withKey authenticates a /v1 request by its key and calls h only when the key
// has permission. The handler is built once, when the route is registered.
func (s *Server) withKey(permission string, h apiHandler) echo.HandlerFunc {
	p, _ := keyport.PermissionCatalog.Lookup(permission)
	public := p.Public
	return func(c echo.Context) error {
		req := c.Request()
		if public {
			c.Response().Header().Add(echo.HeaderVary, echo.HeaderOrigin)
		}
		values := req.Header.Values(echo.HeaderAuthorization)
		if len(values) == 0 || strings.TrimSpace(values[0]) == "" {
			s.metrics.keyVerified(time.Time{}, verifyMissing)
			return errNoCredentials
		}
		now := s.Now()
		start := s.metrics.verifyStarted()
		k, err := s.verifier.Verify(req.Context(), credential(values[0]), now)
		if err != nil {
			s.metrics.keyVerified(start, verificationOf(err))
			return err
		}
		s.usage.Record(k.ID, c.RealIP(), now)
		if origin := req.Header.Get(echo.HeaderOrigin); origin != "" && public && k.Type == keyport.KeyPublishable {
			if !keyport.AllowsOrigin(k.AllowedOrigins, origin) {
				s.metrics.keyVerified(start, verifyOriginRefused)
				return errOriginNotAllowed
			}
			allowOrigin(c.Response().Header(), origin)
		}
		decision := s.limiter.Take(k.ID, now)
		setRateLimitHeaders(c.Response().Header(), decision)
		if !decision.Allowed {
			s.metrics.keyVerified(start, verifyRateLimited)
			return &rateLimitedError{retryAfter: decision.RetryAfter}
		}
		if !k.Allows(permission) {
			if k.Type == keyport.KeyPublishable {
				s.metrics.keyVerified(start, verifyPublishable)
				return errPublishableKey
			}
			s.metrics.keyVerified(start, verifyForbidden)
			return errNoPermission
		}
		s.metrics.keyVerified(start, verifiedOK)
		if req.Method == http.MethodHead {
			c.Response().Writer = headWriter{c.Response().Writer}
		}
		return h(c, k)
	}
}

// rateLimitPolicy names the per-key limit in the RateLimit and
// RateLimit-Policy headers.
const rateLimitPolicy = `"per-key"`

// setRateLimitHeaders describes the key's limit and what is left of it, as
// the IETF httpapi RateLimit header fields draft does, when a limit applies:
// RateLimit-Policy gives the quota per window of one second (this replica's
// share), RateLimit the calls left and the seconds until the quota is whole.
func setRateLimitHeaders(h http.Header, d keyport.RateDecision) {
	if d.Limit <= 0 {
		return
	}
	h.Set("RateLimit-Policy", rateLimitPolicy+";q="+strconv.Itoa(d.Limit)+";w=1")
	reset := int((d.Reset + time.Second - 1) / time.Second)
	h.Set("RateLimit", rateLimitPolicy+";r="+strconv.Itoa(d.Remaining)+";t="+strconv.Itoa(reset))
}

// headWriter answers a HEAD request as its GET twin, headers and status, and
// drops the body, whatever server the app runs in.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(p []byte) (int, error) { return len(p), nil }

// decodeJSON reads the request body into v, strictly: the body must be sent as
// application/json and hold exactly one JSON object whose member names match
// v's fields exactly (letter case included), each at most once, and none
// unknown.
// It returns the body as read.
func decodeJSON(c echo.Context, v any) ([]byte, error) {
	body, err := readJSON(c)
	if err != nil {
		return nil, err
	}
	if err := jsonv2.Unmarshal(body, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, jsonInputError(err)
	}
	return body, nil
}

// readJSON reads a request body that must not be empty and must be sent as
// application/json.
func readJSON(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, jsonInputError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, keyport.FieldError("body", "is empty: send a JSON object")
	}
	if err := requireJSON(c.Request().Header.Get(echo.HeaderContentType)); err != nil {
		return nil, err
	}
	return body, nil
}

// idempotency reads the request's Idempotency-Key, if any, for key k.
func idempotency(c echo.Context, k keyport.VerifiedKey, body []byte) (*keyport.Idempotency, error) {
	req := c.Request()
	return keyport.NewIdempotency(k.ID, req.Header.Get("Idempotency-Key"), req.Method, req.URL.Path, body)
}

// jsonAnswer is v as the API answers it with status.
func jsonAnswer(status int, v any) (keyport.Answer, error) {
	body, err := json.Marshal(v)
	return keyport.Answer{Status: status, Body: body}, err
}

// writeAnswer sends an answer; a replay of a stored one says so in Idempotent-Replayed.
func writeAnswer(c echo.Context, a keyport.Answer, replayed bool) error {
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return c.JSONBlob(a.Status, a.Body)
}

// requireJSON refuses a body sent as anything but application/json (UTF-8).
func requireJSON(contentType string) error {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "application/json" {
		return errUnsupportedMediaType
	}
	if charset, ok := params["charset"]; ok && !strings.EqualFold(charset, "utf-8") {
		return errUnsupportedMediaType
	}
	return nil
}

func jsonInputError(err error) error {
	var he *echo.HTTPError
	var syntax *jsontext.SyntacticError
	var semantic *jsonv2.SemanticError
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &syntax):
		switch {
		case errors.Is(syntax.Err, jsontext.ErrDuplicateName):
			return keyport.FieldError(jsonField(syntax.JSONPointer), "appears more than once: send each field once")
		case errors.Is(syntax.Err, io.ErrUnexpectedEOF):
			return keyport.FieldError("body", "ends before the JSON object is complete")
		}
		return keyport.FieldError("body", "is not valid JSON at byte "+strconv.FormatInt(syntax.ByteOffset, 10)+": "+syntax.Err.Error())
	case errors.As(err, &semantic):
		field := jsonField(semantic.JSONPointer)
		switch {
		case errors.Is(semantic.Err, jsonv2.ErrUnknownName):
			return keyport.FieldError(field, "is not a field of this request (names are case-sensitive)")
		case field == "body":
			return keyport.FieldError("body", "must be a JSON object")
		case semantic.GoType != nil:
			return keyport.FieldError(field, "must be "+jsonTypeName(semantic.GoType.Kind())+", not "+semantic.JSONKind.String())
		}
		return keyport.FieldError(field, "could not be read: "+semantic.Error())
	}
	return keyport.FieldError("body", "could not be read as JSON")
}

// jsonField names the member a JSON pointer reaches, as the API's error field
// names it ("parcel.weight_grams"), or "body" for the whole body.
func jsonField(p jsontext.Pointer) string {
	var names []string
	for name := range p.Tokens() {
		names = append(names, name)
	}
	if len(names) == 0 {
		return "body"
	}
	return strings.Join(names, ".")
}

func jsonTypeName(kind reflect.Kind) string {
	switch kind {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		return "a whole number in range"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Pointer, reflect.Struct:
		return "an object"
	case reflect.Bool:
		return "true or false"
	}
	return "of another type"
}

// catalog is the courier catalog, read once: it only changes with a migration.
// After the first successful load it is read without locking.
type catalog struct {
	mu     sync.Mutex
	loaded atomic.Pointer[loadedCatalog]
}

type loadedCatalog struct {
	couriers []keyport.Courier
	json     []byte
	// etag names this version of the answer; weak, since gzip may re-encode it.
	etag string
}

// catalogCacheControl lets a client keep the catalog for five minutes and
// then revalidate it with its ETag; private, since the request is
// authenticated, and varying with the key, so that a cached answer is never
// given to another key (or to a key refused since). A browser's cache
// answers a page on another origin without asking again, whatever the key, so
// answers to such pages stay no-store: each call is checked, CORS included.
const catalogCacheControl = "private, max-age=300"

func (s *Server) couriers(c echo.Context) (*loadedCatalog, error) {
	if l := s.catalog.loaded.Load(); l != nil {
		return l, nil
	}
	s.catalog.mu.Lock()
	defer s.catalog.mu.Unlock()
	if l := s.catalog.loaded.Load(); l != nil {
		return l, nil
	}
	list, err := s.db.Couriers(c.Request().Context())
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(apiList[apiCourier]{Data: apiCouriers(list)})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	l := &loadedCatalog{couriers: list, json: body, etag: `W/"` + hex.EncodeToString(sum[:12]) + `"`}
	s.catalog.loaded.Store(l)
	return l, nil
}

// matchesETag reports whether an If-None-Match header value names etag, by
// the weak comparison RFC 9110 prescribes for it, or is "*".
func matchesETag(ifNoneMatch, etag string) bool {
	for candidate := range strings.SplitSeq(ifNoneMatch, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

func findService(list []keyport.Courier, code, service string) (keyport.Courier, keyport.Preset, error) {
	for _, co := range list {
		if co.Code != code {
			continue
		}
		if service == "" {
			return co, keyport.Preset{}, nil
		}
		p, ok := co.Service(service)
		if !ok {
			return co, p, keyport.FieldError("service_code", "is not a service of "+co.Name+"; see GET /v1/couriers")
		}
		return co, p, nil
	}
	return keyport.Courier{}, keyport.Preset{}, keyport.FieldError("courier", "is not a known courier code; see GET /v1/couriers")
}

func (s *Server) apiCouriers(c echo.Context, _ keyport.VerifiedKey) error {
	catalog, err := s.couriers(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	if c.Request().Header.Get(echo.HeaderOrigin) == "" {
		h.Set(echo.HeaderCacheControl, catalogCacheControl)
		h.Add(echo.HeaderVary, echo.HeaderAuthorization)
	}
	h.Set("ETag", catalog.etag)
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && matchesETag(inm, catalog.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(catalog.json)))
	return c.JSONBlob(http.StatusOK, catalog.json)
}

func (s *Server) apiRates(c echo.Context, k keyport.VerifiedKey) error {
	var in keyport.RateRequest
	body, err := decodeJSON(c, &in)
	if err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	idem, err := idempotency(c, k, body)
	if err != nil {
		return err
	}
	catalog, err := s.couriers(c)
	if err != nil {
		return err
	}
	list := catalog.couriers
	if in.Courier != "" {
		co, _, err := findService(list, in.Courier, "")
		if err != nil {
			return err
		}
		list = []keyport.Courier{co}
	}
	rates, err := keyport.Quotes(list, *in.From, *in.To, *in.Parcel)
	if err != nil {
		return err
	}
	answer, replayed, err := s.db.AnswerOnce(c.Request().Context(), idem, func() (keyport.Answer, error) {
		out := apiList[apiRate]{Data: make([]apiRate, 0, len(rates))}
		for _, r := range rates {
			out.Data = append(out.Data, newAPIRate(r, in.Parcel.BillableGrams(), k.SuppressCosts))
		}
		return jsonAnswer(http.StatusOK, out)
	})
	if err != nil {
		return err
	}
	return writeAnswer(c, answer, replayed)
}

func (s *Server) apiCreateShipment(c echo.Context, k keyport.VerifiedKey) error {
	var in keyport.ShipmentRequest
	body, err := decodeJSON(c, &in)
	if err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	idem, err := idempotency(c, k, body)
	if err != nil {
		return err
	}
	catalog, err := s.couriers(c)
	if err != nil {
		return err
	}
	co, preset, err := findService(catalog.couriers, in.Courier, in.ServiceCode)
	if err != nil {
		return err
	}
	rate, err := keyport.Quote(co, preset, *in.From, *in.To, *in.Parcel)
	if err != nil {
		return err
	}
	tracking, err := keyport.NewTrackingNumber()
	if err != nil {
		return err
	}
	answer, replayed, err := s.db.ShipWithKey(c.Request().Context(), k, c.RealIP(), keyport.Shipment{
		Courier: co.Code, ServiceCode: preset.ServiceCode, Status: keyport.ShipmentCreated, TrackingNumber: tracking,
		LabelRef: "LBL-" + tracking, AmountMinor: rate.AmountMinor, Currency: rate.Currency,
		FromPostcode: in.From.Postcode, FromCountry: in.From.Country, ToPostcode: in.To.Postcode, ToCountry: in.To.Country,
		WeightGrams: in.Parcel.WeightGrams,
	}, idem, func(sh keyport.Shipment) (keyport.Answer, error) {
		return jsonAnswer(http.StatusCreated, newAPIShipment(sh, k.SuppressCosts))
	})
	if err != nil {
		return err
	}
	return writeAnswer(c, answer, replayed)
}

func (s *Server) apiListShipments(c echo.Context, k keyport.VerifiedKey) error {
	limit := keyport.DefaultShipmentsLimit
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > keyport.MaxShipmentsLimit {
			return keyport.FieldError("limit", "must be a whole number from 1 to "+strconv.Itoa(keyport.MaxShipmentsLimit))
		}
		limit = n
	}
	var before int64
	if v := c.QueryParam("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return keyport.FieldError("cursor", "must be the next_cursor of a previous page")
		}
		before = n
	}
	list, more, err := s.db.KeyShipments(c.Request().Context(), k.AccountID, k.Mode, before, limit)
	if err != nil {
		return err
	}
	out := apiPage[apiShipment]{Data: make([]apiShipment, 0, len(list)), HasMore: more}
	for _, sh := range list {
		out.Data = append(out.Data, newAPIShipment(sh, k.SuppressCosts))
	}
	if more {
		out.NextCursor = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}

// apiShipmentID reads the {id} path parameter; an id that is not a number names no shipment.
func apiShipmentID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, keyport.ErrNotFound
	}
	return id, nil
}

func (s *Server) apiShipment(c echo.Context, k keyport.VerifiedKey) error {
	id, err := apiShipmentID(c)
	if err != nil {
		return err
	}
	sh, err := s.db.KeyShipment(c.Request().Context(), k.AccountID, k.Mode, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newAPIShipment(sh, k.SuppressCosts))
}

func (s *Server) apiCancelShipment(c echo.Context, k keyport.VerifiedKey) error {
	id, err := apiShipmentID(c)
	if err != nil {
		return err
	}
	idem, err := idempotency(c, k, nil)
	if err != nil {
		return err
	}
	answer, replayed, err := s.db.CancelShipment(c.Request().Context(), k, c.RealIP(), id, idem,
		func(sh keyport.Shipment) (keyport.Answer, error) {
			return jsonAnswer(http.StatusOK, newAPIShipment(sh, k.SuppressCosts))
		})
	if errors.Is(err, keyport.ErrConflict) {
		return errNotCancellable
	}
	if err != nil {
		return err
	}
	return writeAnswer(c, answer, replayed)
}

func (s *Server) apiTracking(c echo.Context, k keyport.VerifiedKey) error {
	sh, err := s.db.TrackShipment(c.Request().Context(), k.AccountID, k.Mode, c.Param("number"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newAPITracking(sh))
}

// apiNotFound answers what no endpoint serves under /v1: on an endpoint's
// path, 405 with Allow for another method, or 204 with Allow for OPTIONS (a
// CORS preflight of a public endpoint gets its answer too); elsewhere 404.
// Route: Any /v1 and Any /v1/*.
func (s *Server) apiNotFound(c echo.Context) error {
	req := c.Request()
	allowed := allowedMethods(req.URL.Path)
	if allowed == nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set(echo.HeaderAllow, strings.Join(allowed, ", "))
	if req.Method != http.MethodOptions {
		return echo.ErrMethodNotAllowed
	}
	origin := req.Header.Get(echo.HeaderOrigin)
	if methods := publicMethods(req.URL.Path); origin != "" && slices.Contains(methods, req.Header.Get(echo.HeaderAccessControlRequestMethod)) {
		h.Add(echo.HeaderVary, echo.HeaderOrigin)
		allowOrigin(h, origin)
		h.Set(echo.HeaderAccessControlAllowMethods, strings.Join(methods, ", "))
		h.Set(echo.HeaderAccessControlAllowHeaders, corsRequestHeaders)
		h.Set(echo.HeaderAccessControlMaxAge, "600")
	}
	return c.NoContent(http.StatusNoContent)
}

// corsRequestHeaders are the request headers a page on another origin may send to a public endpoint.
const corsRequestHeaders = "Authorization, Content-Type, Idempotency-Key"

// corsExposedHeaders are the answer headers such a page may read.
const corsExposedHeaders = "X-Request-Id, Retry-After, RateLimit, RateLimit-Policy, Idempotent-Replayed, ETag"

// allowOrigin lets a page at origin read the answer. It never allows
// credentials: the API authenticates by key, not by cookie.
func allowOrigin(h http.Header, origin string) {
	h.Set(echo.HeaderAccessControlAllowOrigin, origin)
	h.Set(echo.HeaderAccessControlExposeHeaders, corsExposedHeaders)
}

// publicMethods are the methods of the public endpoints on path, those
// publishable keys may call from a browser, with HEAD beside GET.
func publicMethods(path string) []string {
	var out []string
	for _, ep := range keyport.APIEndpoints {
		if ep.Public() && matchesPattern(ep.Path, path) {
			out = append(out, ep.Method)
			if ep.Method == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	return out
}
