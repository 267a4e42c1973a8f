package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/store/storetest"
)

// hostileValue is one kind of hostile input posted into every field.
type hostileValue struct {
	name  string
	value string
	// invalid marks text that is not valid UTF-8 or holds a NUL byte.
	invalid bool
	// tooLong marks text longer than any field allows.
	tooLong bool
	// tooLarge marks a value that takes a request body over the 1 MiB limit.
	tooLarge bool
	// control marks text holding control characters other than line breaks.
	control bool
	// lineBreak marks text holding a line break, which only multi-line texts accept.
	lineBreak bool
	// blank marks text that is empty once trimmed.
	blank bool
}

// hostileValues are the inputs the hostile-input tests try in every field.
var hostileValues = []hostileValue{
	{name: "1 MB string (under the body limit)", value: strings.Repeat("A", maxBodyBytes-32<<10), tooLong: true},
	{name: "string over the 1 MiB body limit", value: strings.Repeat("A", maxBodyBytes+1), tooLong: true, tooLarge: true},
	{name: "NUL byte inside text", value: "Acme\x00Parcels", invalid: true},
	{name: "percent-encoded NUL", value: "%00"},
	{name: "invalid UTF-8", value: "Acme\xff\xfeParcels", invalid: true},
	{name: "script tag", value: "<script>alert(1)</script>"},
	{name: "attribute-breaking HTML", value: `"><img src=x onerror=alert(1)>`},
	{name: "SQL metacharacters", value: "' OR 1=1; DROP TABLE api_keys; --"},
	{name: "very long unicode", value: strings.Repeat("Zoë 配送🚚", 10_000), tooLong: true},
	{name: "unicode", value: "Zoë 配送 🚚 Ünïcödé"},
	{name: "huge number", value: "99999999999999999999"},
	{name: "huge float", value: "1e308"},
	{name: "negative number", value: "-1"},
	{name: "smallest int64", value: "-9223372036854775808"},
	{name: "date 0001-01-01", value: "0001-01-01"},
	{name: "date 1900-01-01", value: "1900-01-01"},
	{name: "date 3000-01-01", value: "3000-01-01"},
	{name: "date 9999-12-31", value: "9999-12-31"},
	{name: "whitespace only", value: " \t\n  ", blank: true},
	{name: "control characters", value: "Acme\x1b[31m\x07\x08Parcels", control: true},
	{name: "CRLF header injection", value: "Acme Parcels\r\nSet-Cookie: pwned=1", lineBreak: true},
	{name: "javascript: URL", value: "javascript:alert(1)"},
}

// rawMarkers must never appear unescaped in a response.
var rawMarkers = []string{"<script>alert(1)", "<img src=x onerror", `href="javascript:`}

// fieldKind says what a field accepts and therefore what a hostile value must do.
type fieldKind int

const (
	// singleLine is stored text of one line: stored exactly as sent (trimmed) or refused.
	singleLine fieldKind = iota
	// multiLine is stored text that may hold line breaks.
	multiLine
	// secretText is a password: any valid text of the right length, stored only as a hash.
	secretText
	// choice is one of a fixed set, an email, a URL or a number in range: every hostile value is refused.
	choice
	// ignored falls back to a default for anything unknown (a filter, a flag, a return
	// address): every hostile value is accepted, unless the body is too large.
	ignored
	// pathParam is an id or code in the path: every hostile value names nothing.
	pathParam
	// headerToken is a header value of 1 to 255 visible ASCII characters (an
	// Idempotency-Key): refused unless the value is one.
	headerToken
)

// hostileField is one field of a route that hostile values go into.
type hostileField struct {
	// key is the form field, query parameter or (for /v1) dotted JSON field; ":name" is a
	// path parameter, "?name" a query parameter and "header:Name" a header of a /v1 call.
	key  string
	kind fieldKind
	// also are fields set to the same value (a password's confirmation).
	also []string
	// base overrides fields of the route's valid form for this field.
	base url.Values
	// optional marks a field that may be left blank.
	optional bool
	// number marks a JSON field holding a number: numeric hostile values are sent as JSON numbers.
	number bool
	// errID is the id of the message a 422 must show next to the field; "-" when it is shown elsewhere.
	errID string
	// stored is SQL returning the value the last accepted request stored.
	stored string
	// upper marks a value stored in upper case, besides trimming.
	upper bool
	// pages lists the pages that show the stored value.
	pages func(e *hostileEnv, self *client) []pageRef
}

// pageRef is a page fetched by a client.
type pageRef struct {
	c    *client
	path string
}

// mustRefuse reports whether the field must refuse the value with a 4xx.
func (f hostileField) mustRefuse(v hostileValue) bool {
	switch f.kind {
	case choice:
		return !(v.blank && f.optional)
	case pathParam:
		return true
	case singleLine:
		return v.invalid || v.tooLong || v.control || v.lineBreak || (v.blank && !f.optional)
	case multiLine:
		return v.invalid || v.tooLong || v.control || (v.blank && !f.optional)
	case secretText:
		return v.invalid || v.tooLong || v.blank
	case headerToken:
		return len(v.value) > keyport.MaxIdempotencyKeyLength || strings.IndexFunc(v.value, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0
	}
	return false
}

func (f hostileField) bodyField() bool {
	return f.kind != pathParam && !strings.HasPrefix(f.key, "?") && !strings.HasPrefix(f.key, "header:")
}

// formCase is a valid request of a route, before a hostile value goes in.
type formCase struct {
	c      *client
	params map[string]string
	form   url.Values
	// header holds the headers of a /v1 call; body its JSON body.
	header http.Header
	body   string
}

// hostileRoute is a route with the fields hostile values go into.
type hostileRoute struct {
	method, path string
	// anon marks a route used signed out (no check that the session stays).
	anon  bool
	setup func(e *hostileEnv) formCase
	// fields are the route's fields; its path parameters are added automatically.
	fields []hostileField
	// noFields marks a route that reads no field besides its path parameters.
	noFields bool
	// catchAll marks a route that answers 404 to every request, its valid one included.
	catchAll bool
	// ceremony marks a route whose valid request carries a credential that
	// only an authenticator makes (a passkey): every request of the table is
	// refused, and the browser tests cover the valid one.
	ceremony bool
}

var pathParamName = regexp.MustCompile(`:[a-z]+|\*`)

// allFields is the route's fields with one pathParam field per path parameter.
func (r hostileRoute) allFields() []hostileField {
	out := append([]hostileField(nil), r.fields...)
	for _, p := range pathParamName.FindAllString(r.path, -1) {
		out = append(out, hostileField{key: p, kind: pathParam})
	}
	return out
}

// hostileEnv is a merchant with data behind every form, its Owner, an admin, and
// triggers counting the writes to the database.
type hostileEnv struct {
	t         *testing.T
	app       *testApp
	owner     *client
	res       store.SignupResult
	admin     *client
	adminUser keyport.User
	// self is a member who changes their own password.
	self     *client
	selfUser keyport.User
	// dev is a member whose role the Owner changes.
	dev       keyport.User
	spare     keyport.APIAccount
	bystander store.SignupResult
	authID    int64
	apiKey    string
	n         int
	failures  int
	// refused, accepted and shown count the outcomes of the cases.
	refused, accepted, shown int
}

func newHostileEnv(t *testing.T) *hostileEnv {
	app := newTestApp(t)
	ctx := context.Background()
	e := &hostileEnv{t: t, app: app}
	e.owner, e.res = app.merchant("Acme", "owner@acme.test")
	e.bystander = app.signupMerchant("Bystander", "owner@bystander.test")
	e.admin = app.adminClient()
	u, err := app.db.UserByEmail(ctx, "staff@keyport.test")
	if err != nil {
		t.Fatal(err)
	}
	e.adminUser = u
	e.self = app.member(e.res, "self@acme.test", keyport.RoleDeveloper)
	if e.selfUser, err = app.db.UserByEmail(ctx, "self@acme.test"); err != nil {
		t.Fatal(err)
	}
	if e.dev, err = app.db.AddMember(ctx, keyport.SystemActor, e.res.Merchant.ID, "Dev", "dev@acme.test", keyport.RoleDeveloper, passwordHashOnce()); err != nil {
		t.Fatal(err)
	}
	spare, err := app.db.CreateAccount(ctx, e.ownerActor(), e.res.Merchant.ID, keyport.NewAccount{Name: "Spare"})
	if err != nil {
		t.Fatal(err)
	}
	e.spare = spare.Account
	if err := app.db.SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	e.authID = e.owner.registerDPD(e.res, "Acme Ltd")
	e.apiKey = app.newKey(e.res, keyport.NewKey{Name: "API"})
	app.addShipments(e.res, keyport.ModeTest, 1)
	// Wrong passwords are among the hostile values; the throttle has its own tests.
	for _, th := range []*keyport.LoginThrottle{app.srv.Throttle(), app.srv.resetThrottle, app.srv.mailThrottle, app.srv.inviteThrottle,
		app.srv.secondFactorThrottle} {
		th.PerAccount, th.PerIP = 1_000_000, 1_000_000
	}
	e.watchWrites()
	return e
}

func (e *hostileEnv) next() int { e.n++; return e.n }

// freshMember adds a signed-in Developer of its own for a case that changes
// their sign-in.
func (e *hostileEnv) freshMember(what string) (*client, keyport.User) {
	email := fmt.Sprintf("%s-%d@acme.test", what, e.next())
	c := e.app.member(e.res, email, keyport.RoleDeveloper)
	u, err := e.app.db.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, u
}

// secondStep is a new member with two-factor authentication whose password
// was accepted, and the code that completes their sign-in.
func (e *hostileEnv) secondStep() (*client, string) {
	email := fmt.Sprintf("second-%d@acme.test", e.next())
	if _, err := e.app.db.AddMember(context.Background(), keyport.SystemActor, e.res.Merchant.ID, "Second", email,
		keyport.RoleDeveloper, passwordHashOnce()); err != nil {
		e.t.Fatal(err)
	}
	secret, _ := e.app.enableTwoFactor(email)
	c := e.app.client()
	c.passwordStep(email)
	return c, e.app.totpCode(secret)
}

func (e *hostileEnv) ownerActor() keyport.Actor { return keyport.UserActor(&e.res.Owner, "") }

func (e *hostileEnv) lastID(table string) int64 {
	e.t.Helper()
	var id int64
	if err := e.app.db.SQL().QueryRow(`SELECT coalesce(max(id), 0) FROM ` + table).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *hostileEnv) acct() string { return fmt.Sprint(e.res.Account.ID) }

// freshAuth registers a DPD auth of its own on the merchant's first account,
// the newest of the table, and returns the path parameters naming it.
func (e *hostileEnv) freshAuth() map[string]string {
	e.t.Helper()
	courier, err := e.app.db.Courier(context.Background(), "dpd")
	if err != nil {
		e.t.Fatal(err)
	}
	in := keyport.NewAuth{Courier: "dpd", Company: fmt.Sprintf("Fresh %d", e.next()), Testing: "no",
		Values: map[string]string{"username": "u", "password": "p", "account_number": "1"}}
	a, err := e.app.db.RegisterAuth(context.Background(), e.ownerActor(), e.res.Merchant.ID, e.res.Account.ID, courier, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return map[string]string{"id": e.acct(), "aid": fmt.Sprint(a.ID)}
}

// webhook adds a webhook endpoint to the merchant and returns its id.
func (e *hostileEnv) webhook() string {
	e.t.Helper()
	e.clearWebhooks()
	in := keyport.WebhookEndpointInput{URL: fmt.Sprintf("https://hooks.acme.test/%d", e.next()), Events: keyport.WebhookEventTypes, Enabled: true}
	w, _, err := e.app.db.CreateWebhookEndpoint(context.Background(), e.ownerActor(), e.res.Merchant.ID, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprint(w.ID)
}

// clearWebhooks deletes the merchant's endpoints, which are capped, before a case adds one.
func (e *hostileEnv) clearWebhooks() {
	e.t.Helper()
	if _, err := e.app.db.SQL().Exec(`UPDATE webhook_endpoints SET deleted_at = 1 WHERE merchant_id = $1`, e.res.Merchant.ID); err != nil {
		e.t.Fatal(err)
	}
}

// webhookForm is a valid webhook endpoint form for url.
func webhookForm(u string) url.Values {
	return url.Values{"url": {u}, "description": {"Our key monitor"}, "events": {"key.revoked", "key.leaked"}, "enabled": {"on"}}
}

// key stores a fresh test key on the merchant's first account and returns its id.
func (e *hostileEnv) key() string {
	e.app.newKey(e.res, keyport.NewKey{Name: fmt.Sprintf("Fresh key %d", e.next())})
	return fmt.Sprint(e.lastID("api_keys"))
}

// request files a live key request and moves it to state, returning its id.
func (e *hostileEnv) request(state keyport.RequestState) string {
	e.t.Helper()
	ctx := context.Background()
	r, err := e.app.db.FileRequest(ctx, e.ownerActor(), e.res.Merchant.ID, e.res.Account.ID, keyport.LiveKeyRequestInput{
		TokenName: fmt.Sprintf("Live %d", e.next()), IntendedUse: "Print labels for our web shop's orders.", Website: "https://acme.example",
		Access: keyport.KeyAccess{Type: keyport.KeySecret, Access: keyport.AccessFull}}, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	admin := keyport.UserActor(&e.adminUser, "")
	switch state {
	case keyport.RequestNeedsInfo:
		err = e.app.db.AskForInfo(ctx, admin, r.ID, "Which shop is it for?")
	case keyport.RequestApproved:
		err = e.app.db.ApproveRequest(ctx, admin, r.ID)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprint(r.ID)
}

func (e *hostileEnv) invitation() (int64, string) {
	e.t.Helper()
	inv, token, err := e.app.db.CreateInvitation(context.Background(), nil, e.ownerActor(), e.res.Merchant.ID,
		keyport.NewInvitation{Email: fmt.Sprintf("invitee-%d@acme.test", e.next()), Role: keyport.RoleDeveloper})
	if err != nil {
		e.t.Fatal(err)
	}
	return inv.ID, token
}

// verifyNewest opens, as c, the email verification link of the newest user,
// which signs c in as them.
func (e *hostileEnv) verifyNewest(c *client) {
	e.t.Helper()
	var email string
	if err := e.app.db.SQL().QueryRow(`SELECT email FROM users ORDER BY id DESC LIMIT 1`).Scan(&email); err != nil {
		e.t.Fatal(err)
	}
	token := e.app.messageData(keyport.MessageVerifyEmail, email)["token"]
	wantStatus(e.t, c.post("/verify-email", url.Values{"token": {token}}), http.StatusSeeOther)
}

// verifyToken is the token of the email verification link of a new sign-up of its own.
func (e *hostileEnv) verifyToken() string {
	e.t.Helper()
	email := fmt.Sprintf("verifying-%d@hostile.test", e.next())
	if _, _, err := e.app.db.SignUp(context.Background(), unlimited(), keyport.Signup{MerchantName: "Verifying Ltd",
		Name: "Verifying", Email: email}, passwordHashOnce(), ""); err != nil {
		e.t.Fatal(err)
	}
	return e.app.messageData(keyport.MessageVerifyEmail, email)["token"]
}

// resetToken is the token of a password reset link of a new member of its own.
func (e *hostileEnv) resetToken() string {
	e.t.Helper()
	email := fmt.Sprintf("resetting-%d@acme.test", e.next())
	if _, err := e.app.db.AddMember(context.Background(), keyport.SystemActor, e.res.Merchant.ID, "Resetting member", email,
		keyport.RoleDeveloper, passwordHashOnce()); err != nil {
		e.t.Fatal(err)
	}
	return e.app.resetToken(email)
}

func (e *hostileEnv) ownerCase(params map[string]string, form url.Values) formCase {
	return formCase{c: e.owner, params: params, form: form}
}

func (e *hostileEnv) adminCase(params map[string]string, form url.Values) formCase {
	return formCase{c: e.admin, params: params, form: form}
}

func (e *hostileEnv) page(c *client, format string, args ...any) pageRef {
	return pageRef{c: c, path: fmt.Sprintf(format, args...)}
}

func keyPages(e *hostileEnv, _ *client) []pageRef {
	a, k := e.res.Account.ID, e.lastID("api_keys")
	return []pageRef{e.page(e.owner, "/accounts/%d/keys", a), e.page(e.owner, "/secrets"), e.page(e.owner, "/accounts/%d/tokens", a),
		e.page(e.owner, "/accounts/%d/keys/manage?mode=test", a), e.page(e.owner, "/secrets/%d", k),
		e.page(e.admin, "/admin/merchants/%d/secrets", e.res.Merchant.ID), e.page(e.admin, "/admin/merchants/%d/secrets/%d", e.res.Merchant.ID, k)}
}

func requestPages(e *hostileEnv, _ *client) []pageRef {
	return []pageRef{e.page(e.owner, "/accounts/%d/keys", e.res.Account.ID), e.page(e.admin, "/admin/requests?state=all"),
		e.page(e.admin, "/admin/requests/%d", e.lastID("live_key_requests"))}
}

func authPages(e *hostileEnv, _ *client) []pageRef {
	return []pageRef{e.page(e.owner, "/accounts/%d/auths", e.res.Account.ID), e.page(e.owner, "/accounts")}
}

func revokedPages(e *hostileEnv, _ *client) []pageRef {
	return []pageRef{e.page(e.owner, "/accounts/%d/keys", e.res.Account.ID), e.page(e.owner, "/secrets?status=revoked"),
		e.page(e.admin, "/admin/merchants/%d/secrets?status=revoked", e.res.Merchant.ID)}
}

const lastKeyName = `SELECT name FROM api_keys ORDER BY id DESC LIMIT 1`

// keyAccessFields are the type and access fields of the forms that create a key or request one.
func keyAccessFields() []hostileField {
	fields := []hostileField{
		{key: "type", kind: choice},
		{key: "access", kind: choice},
		{key: "suppress_costs", kind: ignored, base: url.Values{"access": {"restricted"}, "perm_rates": {"read"}}},
	}
	for _, r := range keyport.PermissionCatalog.Resources() {
		fields = append(fields, hostileField{key: "perm_" + r.Name, kind: choice, errID: "f-permissions-error",
			base: url.Values{"access": {"restricted"}}})
	}
	return fields
}

// formRoutes are every route of the portal with its fields.
func formRoutes() []hostileRoute {
	anon := func(form url.Values) func(e *hostileEnv) formCase {
		return func(e *hostileEnv) formCase { return formCase{c: e.app.client(), form: form} }
	}
	owner := func(params func(e *hostileEnv) map[string]string) func(e *hostileEnv) formCase {
		return func(e *hostileEnv) formCase { return e.ownerCase(params(e), url.Values{}) }
	}
	admin := func(params func(e *hostileEnv) map[string]string) func(e *hostileEnv) formCase {
		return func(e *hostileEnv) formCase { return e.adminCase(params(e), url.Values{}) }
	}
	none := func(*hostileEnv) map[string]string { return nil }
	webhook := func(e *hostileEnv) map[string]string { return map[string]string{"wid": e.webhook()} }
	webhookPages := func(e *hostileEnv, self *client) []pageRef { return []pageRef{e.page(e.owner, "/webhooks")} }
	webhookFields := []hostileField{
		{key: "url", kind: choice, stored: `SELECT url FROM webhook_endpoints ORDER BY id DESC LIMIT 1`},
		{key: "description", optional: true, stored: `SELECT description FROM webhook_endpoints ORDER BY id DESC LIMIT 1`, pages: webhookPages},
		{key: "events", kind: choice},
		{key: "enabled", kind: ignored},
	}
	account := func(e *hostileEnv) map[string]string { return map[string]string{"id": e.acct()} }
	accountKey := func(e *hostileEnv) map[string]string { return map[string]string{"id": e.acct(), "kid": e.key()} }
	accountAuth := func(e *hostileEnv) map[string]string {
		return map[string]string{"id": e.acct(), "aid": fmt.Sprint(e.authID)}
	}
	merchant := func(e *hostileEnv) map[string]string { return map[string]string{"mid": fmt.Sprint(e.res.Merchant.ID)} }
	merchantKey := func(e *hostileEnv) map[string]string {
		return map[string]string{"mid": fmt.Sprint(e.res.Merchant.ID), "kid": e.key()}
	}
	request := func(state keyport.RequestState) func(e *hostileEnv) map[string]string {
		return func(e *hostileEnv) map[string]string {
			return map[string]string{"id": e.acct(), "rid": e.request(state)}
		}
	}
	adminRequest := func(state keyport.RequestState) func(e *hostileEnv) map[string]string {
		return func(e *hostileEnv) map[string]string { return map[string]string{"rid": e.request(state)} }
	}
	auditFilters := []hostileField{{key: "account", kind: choice, optional: true}, {key: "actor", kind: singleLine, optional: true},
		{key: "action", kind: singleLine, optional: true}, {key: "from", kind: singleLine, optional: true},
		{key: "to", kind: singleLine, optional: true}, {key: "before", kind: ignored}, {key: "after", kind: ignored}}
	// The export answers a bad filter with an error page: its messages are not beside fields.
	exportFilters := slices.Clone(auditFilters)
	for i := range exportFilters {
		exportFilters[i].errID = "-"
	}
	secretsFilters := []hostileField{{key: "account", kind: ignored}, {key: "mode", kind: ignored}, {key: "type", kind: ignored},
		{key: "status", kind: ignored}, {key: "page", kind: ignored}, {key: "before", kind: ignored}, {key: "after", kind: ignored},
		{key: "q", kind: singleLine, optional: true}}
	shipmentsFilters := []hostileField{{key: "mode", kind: choice, optional: true}, {key: "tracking", kind: singleLine, optional: true},
		{key: "status", kind: choice, optional: true}, {key: "from", kind: singleLine, optional: true},
		{key: "to", kind: singleLine, optional: true}, {key: "page", kind: ignored}, {key: "before", kind: ignored}, {key: "after", kind: ignored}}
	// Like the audit log's, the shipments export answers a bad filter with an error page.
	shipmentsExportFilters := slices.Clone(shipmentsFilters)
	for i := range shipmentsExportFilters {
		shipmentsExportFilters[i].errID = "-"
	}
	revokedCursors := []hostileField{{key: "live_page", kind: ignored}, {key: "test_page", kind: ignored},
		{key: "live_before", kind: ignored}, {key: "live_after", kind: ignored}, {key: "test_before", kind: ignored}, {key: "test_after", kind: ignored}}

	return []hostileRoute{
		// Signed out.
		{method: "GET", path: "/", anon: true, setup: anon(nil), noFields: true},
		{method: "GET", path: "/healthz", anon: true, setup: anon(nil), noFields: true},
		{method: "GET", path: "/readyz", anon: true, setup: anon(nil), noFields: true},
		{method: "GET", path: "/favicon.ico", anon: true, setup: anon(nil), noFields: true},
		{method: "GET", path: "/robots.txt", anon: true, setup: anon(nil), noFields: true},
		{method: "GET", path: "/static/*", anon: true, setup: func(e *hostileEnv) formCase {
			return formCase{c: e.app.client(), params: map[string]string{"*": "app.css"}}
		}, fields: []hostileField{{key: "v", kind: ignored}}},
		{method: "GET", path: "/docs/api", anon: true, setup: anon(nil), noFields: true},
		{method: "GET", path: "/v1/openapi.json", anon: true, setup: anon(nil), noFields: true},
		{method: "GET", path: "/signup", anon: true, setup: anon(nil), noFields: true},
		{method: "POST", path: "/signup", anon: true, setup: func(e *hostileEnv) formCase {
			n := e.next()
			return formCase{c: e.app.client(), form: url.Values{"merchant_name": {fmt.Sprintf("Merchant %d", n)}, "name": {fmt.Sprintf("Person %d", n)},
				"email": {fmt.Sprintf("signup-%d@hostile.test", n)}, "password": {"a-long-unusual-passphrase"}}}
		}, fields: []hostileField{
			{key: "merchant_name", stored: `SELECT name FROM merchants ORDER BY id DESC LIMIT 1`, pages: func(e *hostileEnv, self *client) []pageRef {
				return []pageRef{e.page(e.admin, "/admin/merchants"), e.page(e.admin, "/admin/merchants/%d/secrets", e.lastID("merchants"))}
			}},
			{key: "name", stored: `SELECT name FROM users ORDER BY id DESC LIMIT 1`, pages: func(e *hostileEnv, self *client) []pageRef {
				e.verifyNewest(self)
				return []pageRef{e.page(self, "/team"), e.page(self, "/accounts")}
			}},
			{key: "email", kind: choice},
			{key: "password", kind: secretText},
		}},
		{method: "GET", path: "/login", anon: true, setup: anon(nil), fields: []hostileField{{key: "signed_out", kind: ignored}}},
		{method: "POST", path: "/login", anon: true, setup: anon(url.Values{"email": {"owner@acme.test"}, "password": {testPassword}}),
			fields: []hostileField{{key: "email", kind: choice, errID: "-"}, {key: "password", kind: choice, errID: "-"}}},
		{method: "POST", path: "/logout", anon: true, setup: anon(nil), noFields: true},
		{method: "GET", path: "/verify-email", anon: true, setup: func(e *hostileEnv) formCase {
			return formCase{c: e.app.client(), form: url.Values{"token": {e.verifyToken()}}}
		}, fields: []hostileField{{key: "token", kind: choice}}},
		{method: "POST", path: "/verify-email", anon: true, setup: func(e *hostileEnv) formCase {
			return formCase{c: e.app.client(), form: url.Values{"token": {e.verifyToken()}}}
		}, fields: []hostileField{{key: "token", kind: choice}}},
		{method: "GET", path: "/password/forgot", anon: true, setup: anon(nil), noFields: true},
		{method: "POST", path: "/password/forgot", anon: true, setup: func(e *hostileEnv) formCase {
			return formCase{c: e.app.client(), form: url.Values{"email": {fmt.Sprintf("forgot-%d@hostile.test", e.next())}}}
		}, fields: []hostileField{{key: "email", kind: choice}}},
		{method: "GET", path: "/password/reset", anon: true, setup: func(e *hostileEnv) formCase {
			return formCase{c: e.app.client(), form: url.Values{"token": {e.resetToken()}}}
		}, fields: []hostileField{{key: "token", kind: choice}}},
		{method: "POST", path: "/password/reset", anon: true, setup: func(e *hostileEnv) formCase {
			return formCase{c: e.app.client(), form: url.Values{"token": {e.resetToken()}, "new_password": {"a-long-unusual-passphrase"},
				"confirm_password": {"a-long-unusual-passphrase"}}}
		}, fields: []hostileField{
			{key: "token", kind: choice},
			{key: "new_password", kind: secretText, also: []string{"confirm_password"}},
		}},
		{method: "GET", path: "/invite", anon: true, setup: func(e *hostileEnv) formCase {
			_, token := e.invitation()
			return formCase{c: e.app.client(), form: url.Values{"token": {token}}}
		}, fields: []hostileField{{key: "token", kind: choice}}},
		{method: "POST", path: "/invite", anon: true, setup: func(e *hostileEnv) formCase {
			_, token := e.invitation()
			return formCase{c: e.app.client(), form: url.Values{"token": {token}, "name": {"Ivy Invitee"}, "password": {"a-long-unusual-passphrase"}}}
		}, fields: []hostileField{
			{key: "token", kind: choice},
			{key: "name", stored: `SELECT name FROM users ORDER BY id DESC LIMIT 1`, pages: func(e *hostileEnv, self *client) []pageRef {
				return []pageRef{e.page(e.owner, "/team"), e.page(self, "/accounts")}
			}},
			{key: "password", kind: secretText},
		}},

		{method: "GET", path: "/login/code", anon: true, setup: func(e *hostileEnv) formCase {
			c, _ := e.secondStep()
			return formCase{c: c}
		}, noFields: true},
		{method: "POST", path: "/login/code", anon: true, setup: func(e *hostileEnv) formCase {
			c, code := e.secondStep()
			return formCase{c: c, form: url.Values{"code": {code}}}
		}, fields: []hostileField{{key: "code", kind: choice}}},

		// Any signed-in user.
		{method: "GET", path: "/settings", setup: func(e *hostileEnv) formCase { return formCase{c: e.self} }, noFields: true},
		{method: "GET", path: "/settings/two-factor/passkeys/new", setup: func(e *hostileEnv) formCase { return formCase{c: e.self} },
			noFields: true},
		{method: "POST", path: "/settings/two-factor/passkeys", setup: func(e *hostileEnv) formCase {
			return formCase{c: e.self, form: url.Values{"name": {"Work laptop"}, "credential": {"{}"}}}
		}, ceremony: true, fields: []hostileField{{key: "name", kind: choice}, {key: "credential", kind: choice, errID: "-"}}},
		{method: "POST", path: "/login/passkey", anon: true, setup: func(e *hostileEnv) formCase {
			c, _ := e.secondStep()
			return formCase{c: c, form: url.Values{"assertion": {"{}"}}}
		}, ceremony: true, fields: []hostileField{{key: "assertion", kind: choice, errID: "-"}}},
		{method: "GET", path: "/settings/two-factor/passkeys/:pid/remove", setup: func(e *hostileEnv) formCase {
			c, u := e.freshMember("passkey")
			if _, err := e.app.db.AddPasskey(context.Background(), keyport.SystemActor, u, "Key", []byte(fmt.Sprint("cred-", u.ID)), []byte("{}"), nil); err != nil {
				e.t.Fatal(err)
			}
			var id int64
			if err := e.app.db.SQL().QueryRow(`SELECT id FROM passkeys WHERE user_id = $1`, u.ID).Scan(&id); err != nil {
				e.t.Fatal(err)
			}
			return formCase{c: c, params: map[string]string{"pid": fmt.Sprint(id)}}
		}, noFields: true},
		{method: "POST", path: "/settings/two-factor/passkeys/:pid/remove", setup: func(e *hostileEnv) formCase {
			c, u := e.freshMember("passkey")
			if _, err := e.app.db.AddPasskey(context.Background(), keyport.SystemActor, u, "Key", []byte(fmt.Sprint("cred-", u.ID)), []byte("{}"), nil); err != nil {
				e.t.Fatal(err)
			}
			var id int64
			if err := e.app.db.SQL().QueryRow(`SELECT id FROM passkeys WHERE user_id = $1`, u.ID).Scan(&id); err != nil {
				e.t.Fatal(err)
			}
			return formCase{c: c, params: map[string]string{"pid": fmt.Sprint(id)}}
		}, noFields: true},
		{method: "GET", path: "/sudo", setup: func(e *hostileEnv) formCase {
			return formCase{c: e.self, form: url.Values{"action": {"team_role"}, "next": {"/settings"}}}
		}, fields: []hostileField{{key: "action", kind: ignored}, {key: "next", kind: ignored}}},
		{method: "POST", path: "/sudo", setup: func(e *hostileEnv) formCase {
			return formCase{c: e.self, form: url.Values{"action": {"team_role"}, "next": {"/settings"}, "password": {testPassword}}}
		}, fields: []hostileField{{key: "action", kind: choice, errID: "-"}, {key: "next", kind: ignored}, {key: "password", kind: choice}}},
		{method: "POST", path: "/settings/two-factor/app", setup: func(e *hostileEnv) formCase { return formCase{c: e.self} }, noFields: true},
		{method: "GET", path: "/settings/two-factor/app", setup: func(e *hostileEnv) formCase {
			wantStatus(e.t, e.self.post("/settings/two-factor/app", nil), http.StatusSeeOther)
			return formCase{c: e.self}
		}, noFields: true},
		{method: "POST", path: "/settings/two-factor/app/confirm", setup: func(e *hostileEnv) formCase {
			c, u := e.freshMember("setup")
			wantStatus(e.t, c.post("/settings/two-factor/app", nil), http.StatusSeeOther)
			secret, err := e.app.db.PendingTOTP(context.Background(), u.ID)
			if err != nil {
				e.t.Fatal(err)
			}
			return formCase{c: c, form: url.Values{"code": {e.app.totpCode(secret)}}}
		}, fields: []hostileField{{key: "code", kind: choice}}},
		{method: "GET", path: "/settings/two-factor/recovery-codes", setup: func(e *hostileEnv) formCase {
			c, u := e.freshMember("codes")
			e.app.enableTwoFactor(u.Email)
			return formCase{c: c}
		}, noFields: true},
		{method: "POST", path: "/settings/two-factor/recovery-codes", setup: func(e *hostileEnv) formCase {
			c, u := e.freshMember("codes")
			e.app.enableTwoFactor(u.Email)
			return formCase{c: c}
		}, noFields: true},
		{method: "POST", path: "/settings/two-factor/off", setup: func(e *hostileEnv) formCase {
			c, u := e.freshMember("off")
			e.app.enableTwoFactor(u.Email)
			return formCase{c: c, form: url.Values{"password": {testPassword}}}
		}, fields: []hostileField{{key: "password", kind: choice}}},
		{method: "POST", path: "/settings/verify-email", setup: func(e *hostileEnv) formCase { return formCase{c: e.self} }, noFields: true},
		{method: "POST", path: "/settings/email", setup: func(e *hostileEnv) formCase {
			return formCase{c: e.self, form: url.Values{"receive": {"expiry"}}}
		}, fields: []hostileField{{key: "receive", kind: choice, optional: true}}},
		{method: "POST", path: "/settings/password", setup: func(e *hostileEnv) formCase {
			if _, err := e.app.db.SQL().Exec(`UPDATE users SET password_hash = $1 WHERE id = $2`, passwordHashOnce(), e.selfUser.ID); err != nil {
				e.t.Fatal(err)
			}
			return formCase{c: e.self, form: url.Values{"current_password": {testPassword}, "new_password": {"another-long-passphrase-9"},
				"confirm_password": {"another-long-passphrase-9"}}}
		}, fields: []hostileField{
			{key: "current_password", kind: choice},
			{key: "new_password", kind: secretText, also: []string{"confirm_password"}},
			{key: "new_password", kind: choice, errID: "-"},
			{key: "confirm_password", kind: choice},
		}},
		{method: "GET", path: "/settings/sessions/:session/end", setup: func(e *hostileEnv) formCase {
			email := fmt.Sprintf("session-%d@acme.test", e.next())
			c := e.app.member(e.res, email, keyport.RoleReviewer)
			other := e.app.client()
			other.login(email)
			return formCase{c: c, params: map[string]string{"session": e.app.otherSession(c, email)}}
		}, noFields: true},
		{method: "POST", path: "/settings/sessions/:session/end", setup: func(e *hostileEnv) formCase {
			email := fmt.Sprintf("session-%d@acme.test", e.next())
			c := e.app.member(e.res, email, keyport.RoleReviewer)
			other := e.app.client()
			other.login(email)
			return formCase{c: c, params: map[string]string{"session": e.app.otherSession(c, email)}}
		}, noFields: true},
		{method: "GET", path: "/settings/sessions/end", setup: func(e *hostileEnv) formCase {
			email := fmt.Sprintf("ender-%d@acme.test", e.next())
			return formCase{c: e.app.member(e.res, email, keyport.RoleReviewer)}
		}, noFields: true},
		{method: "POST", path: "/settings/sessions/end", setup: func(e *hostileEnv) formCase {
			email := fmt.Sprintf("ender-%d@acme.test", e.next())
			return formCase{c: e.app.member(e.res, email, keyport.RoleReviewer)}
		}, noFields: true},

		// Webhooks.
		{method: "GET", path: "/webhooks", setup: owner(none), noFields: true},
		{method: "GET", path: "/webhooks/new", setup: owner(none), noFields: true},
		{method: "POST", path: "/webhooks", setup: func(e *hostileEnv) formCase {
			e.clearWebhooks()
			return e.ownerCase(nil, webhookForm(fmt.Sprintf("https://hooks.acme.test/%d", e.next())))
		}, fields: webhookFields},
		{method: "GET", path: "/webhooks/:wid", setup: owner(webhook), noFields: true},
		{method: "GET", path: "/webhooks/:wid/edit", setup: owner(webhook), noFields: true},
		{method: "POST", path: "/webhooks/:wid", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(webhook(e), webhookForm(fmt.Sprintf("https://hooks.acme.test/edited/%d", e.next())))
		}, fields: webhookFields},
		{method: "GET", path: "/webhooks/:wid/delete", setup: owner(webhook), noFields: true},
		{method: "POST", path: "/webhooks/:wid/delete", setup: owner(webhook), noFields: true},
		{method: "GET", path: "/webhooks/:wid/roll", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(webhook(e), url.Values{"grace": {"1h"}})
		}, fields: []hostileField{{key: "grace", kind: choice}}},
		{method: "POST", path: "/webhooks/:wid/roll", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(webhook(e), url.Values{"grace": {"1h"}})
		}, fields: []hostileField{{key: "grace", kind: choice}}},
		{method: "POST", path: "/webhooks/:wid/test", setup: owner(webhook), noFields: true},
		{method: "POST", path: "/webhooks/:wid/deliveries/:did/resend", setup: owner(func(e *hostileEnv) map[string]string {
			params := webhook(e)
			wid, _ := strconv.ParseInt(params["wid"], 10, 64)
			if err := e.app.db.SendTestWebhook(context.Background(), e.ownerActor(), e.res.Merchant.ID, wid); err != nil {
				e.t.Fatal(err)
			}
			params["did"] = fmt.Sprint(e.lastID("webhook_deliveries"))
			return params
		}), noFields: true},

		// Merchant pages.
		{method: "GET", path: "/accounts", setup: owner(none), noFields: true},
		{method: "GET", path: "/accounts/table", setup: owner(none), noFields: true},
		{method: "GET", path: "/accounts/new", setup: owner(none), noFields: true},
		{method: "POST", path: "/accounts", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(nil, url.Values{"name": {fmt.Sprintf("Account %d", e.next())}, "account_key": {""}, "action": {"save"}})
		}, fields: []hostileField{
			{key: "name", stored: `SELECT name FROM api_accounts ORDER BY id DESC LIMIT 1`, pages: func(e *hostileEnv, _ *client) []pageRef {
				a := e.lastID("api_accounts")
				return []pageRef{e.page(e.owner, "/accounts"), e.page(e.owner, "/accounts/%d/keys", a), e.page(e.owner, "/accounts/%d/tokens", a),
					e.page(e.owner, "/accounts/%d/auths", a), e.page(e.owner, "/accounts/%d/shipments", a), e.page(e.owner, "/secrets"),
					e.page(e.owner, "/accounts/%d/delete", a), e.page(e.admin, "/admin/merchants/%d/secrets", e.res.Merchant.ID)}
			}},
			{key: "account_key", kind: choice, optional: true},
			{key: "action", kind: ignored},
			{key: "_csrf", kind: choice},
		}},
		{method: "GET", path: "/secrets", setup: owner(none), fields: secretsFilters},
		{method: "POST", path: "/secrets", setup: owner(none), fields: secretsFilters},
		{method: "GET", path: "/audit", setup: owner(none), fields: auditFilters},
		{method: "GET", path: "/audit/export.csv", setup: owner(none), fields: exportFilters},
		{method: "GET", path: "/secrets/new", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(nil, url.Values{"account": {e.acct()}})
		}, fields: []hostileField{{key: "account", kind: choice}, {key: "from", kind: ignored}}},
		{method: "GET", path: "/secrets/:kid", setup: owner(func(e *hostileEnv) map[string]string { return map[string]string{"kid": e.key()} }), noFields: true},
		{method: "GET", path: "/secrets/:kid/revoke", setup: owner(func(e *hostileEnv) map[string]string { return map[string]string{"kid": e.key()} }),
			fields: []hostileField{{key: "back", kind: ignored}}},
		{method: "POST", path: "/secrets/:kid/revoke", setup: owner(func(e *hostileEnv) map[string]string { return map[string]string{"kid": e.key()} }),
			fields: []hostileField{{key: "back", kind: ignored}}},

		{method: "GET", path: "/team", setup: owner(none), noFields: true},
		{method: "POST", path: "/team/invitations", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(nil, url.Values{"email": {fmt.Sprintf("new-%d@acme.test", e.next())}, "role": {"developer"}})
		}, fields: []hostileField{{key: "email", kind: choice}, {key: "role", kind: choice}}},
		{method: "GET", path: "/team/invitations/:iid/revoke", setup: owner(func(e *hostileEnv) map[string]string {
			id, _ := e.invitation()
			return map[string]string{"iid": fmt.Sprint(id)}
		}), noFields: true},
		{method: "POST", path: "/team/invitations/:iid/revoke", setup: owner(func(e *hostileEnv) map[string]string {
			id, _ := e.invitation()
			return map[string]string{"iid": fmt.Sprint(id)}
		}), noFields: true},
		{method: "POST", path: "/team/members/:uid/role", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(map[string]string{"uid": fmt.Sprint(e.dev.ID)}, url.Values{"role": {"reviewer"}})
		}, fields: []hostileField{{key: "role", kind: choice, errID: "-"}}},
		{method: "GET", path: "/team/members/:uid/remove", setup: owner(func(e *hostileEnv) map[string]string {
			u, err := e.app.db.AddMember(context.Background(), keyport.SystemActor, e.res.Merchant.ID, "Leaver",
				fmt.Sprintf("leaver-%d@acme.test", e.next()), keyport.RoleReviewer, passwordHashOnce())
			if err != nil {
				e.t.Fatal(err)
			}
			return map[string]string{"uid": fmt.Sprint(u.ID)}
		}), noFields: true},
		{method: "POST", path: "/team/members/:uid/remove", setup: owner(func(e *hostileEnv) map[string]string {
			u, err := e.app.db.AddMember(context.Background(), keyport.SystemActor, e.res.Merchant.ID, "Leaver",
				fmt.Sprintf("leaver-%d@acme.test", e.next()), keyport.RoleReviewer, passwordHashOnce())
			if err != nil {
				e.t.Fatal(err)
			}
			return map[string]string{"uid": fmt.Sprint(u.ID)}
		}), noFields: true},

		// One API account.
		{method: "GET", path: "/accounts/:id", setup: owner(account), noFields: true},
		{method: "GET", path: "/accounts/:id/summary", setup: owner(account), noFields: true},
		{method: "GET", path: "/accounts/:id/keys", setup: owner(account), fields: revokedCursors},
		{method: "GET", path: "/accounts/:id/keys/section", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(account(e), url.Values{"mode": {"test"}})
		}, fields: append([]hostileField{{key: "mode", kind: choice}}, revokedCursors...)},
		{method: "GET", path: "/accounts/:id/tokens", setup: owner(account), noFields: true},
		{method: "GET", path: "/accounts/:id/auths", setup: owner(account), noFields: true},
		{method: "GET", path: "/accounts/:id/shipments", setup: owner(account), fields: shipmentsFilters},
		{method: "GET", path: "/accounts/:id/shipments/export.csv", setup: owner(account), fields: shipmentsExportFilters},
		{method: "GET", path: "/accounts/:id/shipments/:sid", setup: owner(func(e *hostileEnv) map[string]string {
			return map[string]string{"id": e.acct(), "sid": fmt.Sprint(e.lastID("shipments"))}
		}), noFields: true},
		{method: "GET", path: "/accounts/:id/disable", setup: owner(func(e *hostileEnv) map[string]string {
			return map[string]string{"id": fmt.Sprint(e.spare.ID)}
		}), noFields: true},
		{method: "POST", path: "/accounts/:id/disable", setup: owner(func(e *hostileEnv) map[string]string {
			return map[string]string{"id": fmt.Sprint(e.spare.ID)}
		}), noFields: true},
		{method: "POST", path: "/accounts/:id/enable", setup: owner(func(e *hostileEnv) map[string]string {
			return map[string]string{"id": fmt.Sprint(e.spare.ID)}
		}), noFields: true},
		{method: "GET", path: "/accounts/:id/delete", setup: owner(account), noFields: true},
		{method: "GET", path: "/accounts/:id/rename", setup: owner(account), noFields: true},
		{method: "POST", path: "/accounts/:id/rename", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(map[string]string{"id": fmt.Sprint(e.spare.ID)}, url.Values{"name": {fmt.Sprintf("Renamed %d", e.next())}})
		}, fields: []hostileField{{key: "name", stored: `SELECT name FROM api_accounts WHERE id = (SELECT max(id) FROM api_accounts WHERE name <> 'Default')`,
			pages: func(e *hostileEnv, self *client) []pageRef { return []pageRef{e.page(e.owner, "/accounts")} }}}},
		{method: "POST", path: "/accounts/:id/delete", setup: func(e *hostileEnv) formCase {
			name := fmt.Sprintf("Doomed %d", e.next())
			a, err := e.app.db.CreateAccount(context.Background(), e.ownerActor(), e.res.Merchant.ID, keyport.NewAccount{Name: name})
			if err != nil {
				e.t.Fatal(err)
			}
			return e.ownerCase(map[string]string{"id": fmt.Sprint(a.Account.ID)}, url.Values{"confirm_name": {name}})
		}, fields: []hostileField{{key: "confirm_name", kind: choice}}},
		{method: "GET", path: "/accounts/:id/auths/new", setup: owner(account), fields: []hostileField{{key: "courier", kind: ignored}}},
		{method: "GET", path: "/accounts/:id/auths/fields", setup: owner(account), fields: []hostileField{{key: "courier", kind: ignored}}},
		{method: "POST", path: "/accounts/:id/auths", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(account(e), goodDPD(fmt.Sprintf("Company %d", e.next())))
		}, fields: []hostileField{
			{key: "courier", kind: choice},
			{key: "company", stored: `SELECT company FROM registered_auths ORDER BY id DESC LIMIT 1`, pages: authPages},
			{key: "testing", kind: choice},
			{key: "field_username", stored: storedAuthField("username"), pages: authPages},
			{key: "field_password"},
			{key: "field_account_number", stored: storedAuthField("account_number"), pages: authPages},
			{key: "action", kind: ignored},
		}},
		{method: "GET", path: "/accounts/:id/auths/:aid/edit", setup: owner(accountAuth), noFields: true},
		{method: "POST", path: "/accounts/:id/auths/:aid", setup: func(e *hostileEnv) formCase {
			form := goodDPD(fmt.Sprintf("Edited %d", e.next()))
			form.Del("courier")
			form.Del("action")
			return e.ownerCase(e.freshAuth(), form)
		}, fields: []hostileField{
			{key: "company", stored: `SELECT company FROM registered_auths ORDER BY id DESC LIMIT 1`, pages: authPages},
			{key: "testing", kind: choice},
			{key: "field_username", stored: storedAuthField("username"), pages: authPages},
			{key: "field_password", optional: true},
			{key: "field_account_number", stored: storedAuthField("account_number"), pages: authPages},
			{key: "courier", kind: ignored},
		}},
		{method: "POST", path: "/accounts/:id/auths/:aid/reveal", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(accountAuth(e), url.Values{"field": {"password"}})
		}, fields: []hostileField{{key: "field", kind: choice}}},
		{method: "GET", path: "/accounts/:id/auths/:aid/delete", setup: owner(func(e *hostileEnv) map[string]string {
			courier, err := e.app.db.Courier(context.Background(), "dpd")
			if err != nil {
				e.t.Fatal(err)
			}
			in := keyport.NewAuth{Courier: "dpd", Company: fmt.Sprintf("Doomed %d", e.next()), Testing: "no",
				Values: map[string]string{"username": "u", "password": "p", "account_number": "1"}}
			a, err := e.app.db.RegisterAuth(context.Background(), e.ownerActor(), e.res.Merchant.ID, e.res.Account.ID, courier, in)
			if err != nil {
				e.t.Fatal(err)
			}
			return map[string]string{"id": e.acct(), "aid": fmt.Sprint(a.ID)}
		}), noFields: true},
		{method: "POST", path: "/accounts/:id/auths/:aid/delete", setup: owner(func(e *hostileEnv) map[string]string {
			courier, err := e.app.db.Courier(context.Background(), "dpd")
			if err != nil {
				e.t.Fatal(err)
			}
			in := keyport.NewAuth{Courier: "dpd", Company: fmt.Sprintf("Doomed %d", e.next()), Testing: "no",
				Values: map[string]string{"username": "u", "password": "p", "account_number": "1"}}
			a, err := e.app.db.RegisterAuth(context.Background(), e.ownerActor(), e.res.Merchant.ID, e.res.Account.ID, courier, in)
			if err != nil {
				e.t.Fatal(err)
			}
			return map[string]string{"id": e.acct(), "aid": fmt.Sprint(a.ID)}
		}), noFields: true},
		{method: "GET", path: "/accounts/:id/keys/manage", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(account(e), url.Values{"mode": {"test"}})
		}, fields: []hostileField{{key: "mode", kind: choice}}},
		{method: "GET", path: "/accounts/:id/keys/new", setup: owner(account), fields: []hostileField{{key: "from", kind: ignored}}},
		{method: "POST", path: "/accounts/:id/keys", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(account(e), url.Values{"name": {fmt.Sprintf("Key %d", e.next())}, "expiry": {"never"}})
		}, fields: append([]hostileField{
			{key: "name", stored: lastKeyName, pages: keyPages},
			{key: "expiry", kind: choice},
			{key: "expiry_date", kind: choice, base: url.Values{"expiry": {"date"}}},
			{key: "from", kind: ignored},
		}, keyAccessFields()...)},
		{method: "GET", path: "/accounts/:id/keys/:kid/revoke", setup: owner(accountKey), fields: []hostileField{{key: "from", kind: ignored}}},
		{method: "POST", path: "/accounts/:id/keys/:kid/revoke", setup: owner(accountKey), fields: []hostileField{{key: "from", kind: ignored}}},
		{method: "GET", path: "/accounts/:id/keys/:kid/roll", setup: owner(accountKey), fields: []hostileField{{key: "from", kind: ignored}}},
		{method: "POST", path: "/accounts/:id/keys/:kid/roll", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(accountKey(e), url.Values{"grace": {"1h"}})
		}, fields: []hostileField{{key: "grace", kind: choice}, {key: "from", kind: ignored}}},
		{method: "GET", path: "/accounts/:id/requests/new", setup: owner(account), noFields: true},
		{method: "POST", path: "/accounts/:id/requests", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(account(e), goodRequest(fmt.Sprintf("Live token %d", e.next())))
		}, fields: append([]hostileField{
			{key: "token_name", stored: `SELECT token_name FROM live_key_requests ORDER BY id DESC LIMIT 1`, pages: requestPages},
			{key: "intended_use", kind: multiLine, stored: `SELECT intended_use FROM live_key_requests ORDER BY id DESC LIMIT 1`,
				pages: func(e *hostileEnv, _ *client) []pageRef {
					return []pageRef{e.page(e.admin, "/admin/requests/%d", e.lastID("live_key_requests")), e.page(e.admin, "/admin/requests")}
				}},
			{key: "website", kind: choice},
			{key: "monthly_shipments", kind: choice},
		}, keyAccessFields()...)},
		{method: "POST", path: "/accounts/:id/requests/:rid/reply", setup: func(e *hostileEnv) formCase {
			return e.ownerCase(request(keyport.RequestNeedsInfo)(e), url.Values{"reply": {"It is for our web shop."}})
		}, fields: []hostileField{{key: "reply", kind: multiLine, stored: `SELECT reply FROM live_key_requests ORDER BY id DESC LIMIT 1`,
			pages: func(e *hostileEnv, _ *client) []pageRef {
				return []pageRef{e.page(e.admin, "/admin/requests/%d", e.lastID("live_key_requests"))}
			}}}},
		{method: "GET", path: "/accounts/:id/requests/:rid/cancel", setup: owner(request(keyport.RequestPending)), noFields: true},
		{method: "POST", path: "/accounts/:id/requests/:rid/cancel", setup: owner(request(keyport.RequestPending)), noFields: true},
		{method: "POST", path: "/accounts/:id/requests/:rid/issue", setup: owner(request(keyport.RequestApproved)), noFields: true},
		{method: "POST", path: "/notices/:rid/dismiss", setup: owner(adminRequest(keyport.RequestApproved)),
			fields: []hostileField{{key: "back", kind: ignored}}},

		// Admins.
		{method: "GET", path: "/admin/merchants", setup: admin(none), noFields: true},
		{method: "GET", path: "/admin/merchants/:mid/disable", setup: admin(func(e *hostileEnv) map[string]string {
			return map[string]string{"mid": fmt.Sprint(e.bystander.Merchant.ID)}
		}), noFields: true},
		{method: "POST", path: "/admin/merchants/:mid/disable", setup: admin(func(e *hostileEnv) map[string]string {
			return map[string]string{"mid": fmt.Sprint(e.bystander.Merchant.ID)}
		}), noFields: true},
		{method: "POST", path: "/admin/merchants/:mid/enable", setup: admin(func(e *hostileEnv) map[string]string {
			return map[string]string{"mid": fmt.Sprint(e.bystander.Merchant.ID)}
		}), noFields: true},
		{method: "GET", path: "/admin/merchants/:mid/secrets", setup: admin(merchant), fields: secretsFilters},
		{method: "POST", path: "/admin/merchants/:mid/secrets", setup: admin(merchant), fields: secretsFilters},
		{method: "GET", path: "/admin/keys", setup: func(e *hostileEnv) formCase {
			return e.adminCase(nil, url.Values{"q": {e.apiKey}})
		}, fields: []hostileField{{key: "q", kind: choice, optional: true}}},
		{method: "POST", path: "/admin/keys", setup: func(e *hostileEnv) formCase {
			return e.adminCase(nil, url.Values{"q": {e.apiKey}})
		}, fields: []hostileField{{key: "q", kind: choice, optional: true}}},
		{method: "GET", path: "/admin/merchants/:mid/users", setup: admin(merchant), noFields: true},
		{method: "GET", path: "/admin/merchants/:mid/users/:uid/sessions/end", setup: admin(func(e *hostileEnv) map[string]string {
			return map[string]string{"mid": fmt.Sprint(e.res.Merchant.ID), "uid": fmt.Sprint(e.selfUser.ID)}
		}), noFields: true},
		{method: "POST", path: "/admin/merchants/:mid/users/:uid/sessions/end", setup: admin(func(e *hostileEnv) map[string]string {
			return map[string]string{"mid": fmt.Sprint(e.res.Merchant.ID), "uid": fmt.Sprint(e.selfUser.ID)}
		}), noFields: true},
		{method: "GET", path: "/admin/merchants/:mid/users/:uid/two-factor/reset", setup: admin(func(e *hostileEnv) map[string]string {
			_, u := e.freshMember("reset")
			e.app.enableTwoFactor(u.Email)
			return map[string]string{"mid": fmt.Sprint(e.res.Merchant.ID), "uid": fmt.Sprint(u.ID)}
		}), noFields: true},
		{method: "POST", path: "/admin/merchants/:mid/users/:uid/two-factor/reset", setup: admin(func(e *hostileEnv) map[string]string {
			_, u := e.freshMember("reset")
			e.app.enableTwoFactor(u.Email)
			return map[string]string{"mid": fmt.Sprint(e.res.Merchant.ID), "uid": fmt.Sprint(u.ID)}
		}), noFields: true},
		{method: "GET", path: "/admin/merchants/:mid/secrets/:kid", setup: admin(merchantKey), noFields: true},
		{method: "GET", path: "/admin/merchants/:mid/secrets/:kid/revoke", setup: admin(merchantKey), noFields: true},
		{method: "POST", path: "/admin/merchants/:mid/secrets/:kid/revoke", setup: func(e *hostileEnv) formCase {
			return e.adminCase(merchantKey(e), url.Values{"reason": {"Found in a public repository."}})
		}, fields: []hostileField{{key: "reason", kind: multiLine, stored: `SELECT revoke_reason FROM api_keys WHERE revoked_at IS NOT NULL ORDER BY revoked_at DESC, id DESC LIMIT 1`,
			pages: revokedPages}}},
		{method: "GET", path: "/admin/requests", setup: admin(none), fields: []hostileField{{key: "state", kind: choice, optional: true},
			{key: "page", kind: ignored}, {key: "before", kind: ignored}, {key: "after", kind: ignored}}},
		{method: "GET", path: "/admin/requests/:rid", setup: admin(adminRequest(keyport.RequestPending)), noFields: true},
		{method: "GET", path: "/admin/requests/:rid/approve", setup: admin(adminRequest(keyport.RequestPending)), noFields: true},
		{method: "POST", path: "/admin/requests/:rid/approve", setup: admin(adminRequest(keyport.RequestPending)), noFields: true},
		{method: "POST", path: "/admin/requests/:rid/reject", setup: func(e *hostileEnv) formCase {
			return e.adminCase(adminRequest(keyport.RequestPending)(e), url.Values{"reason": {"Tell us more about your shop first."}})
		}, fields: []hostileField{{key: "reason", kind: multiLine, stored: `SELECT reject_reason FROM live_key_requests ORDER BY id DESC LIMIT 1`,
			pages: func(e *hostileEnv, _ *client) []pageRef {
				return []pageRef{e.page(e.owner, "/accounts/%d/keys", e.res.Account.ID), e.page(e.admin, "/admin/requests/%d", e.lastID("live_key_requests"))}
			}}}},
		{method: "POST", path: "/admin/requests/:rid/ask", setup: func(e *hostileEnv) formCase {
			return e.adminCase(adminRequest(keyport.RequestPending)(e), url.Values{"question": {"Which shop is it for?"}})
		}, fields: []hostileField{{key: "question", kind: multiLine, stored: `SELECT question FROM live_key_requests ORDER BY id DESC LIMIT 1`,
			pages: func(e *hostileEnv, _ *client) []pageRef {
				return []pageRef{e.page(e.owner, "/accounts/%d/keys", e.res.Account.ID), e.page(e.admin, "/admin/requests/%d", e.lastID("live_key_requests"))}
			}}}},
		{method: "GET", path: "/admin/outbox", setup: admin(none), fields: []hostileField{{key: "state", kind: choice, optional: true},
			{key: "before", kind: choice, optional: true}}},
		{method: "POST", path: "/admin/outbox/:msg/retry", setup: admin(func(e *hostileEnv) map[string]string {
			_, _ = e.invitation()
			return map[string]string{"msg": fmt.Sprint(e.lastID("outbox"))}
		}), noFields: true},
		{method: "GET", path: "/admin/settings", setup: admin(none), noFields: true},
		{method: "POST", path: "/admin/settings", setup: func(e *hostileEnv) formCase {
			return e.adminCase(nil, url.Values{"token_cap": {"0"}})
		}, fields: []hostileField{{key: "token_cap", kind: choice}}},
	}
}

// apiRoutes are every /v1 route with its JSON fields, query and path parameters.
func apiRoutes() []hostileRoute {
	call := func(body string) func(e *hostileEnv) formCase {
		return func(e *hostileEnv) formCase {
			return formCase{header: http.Header{"Authorization": {"Bearer " + e.apiKey}}, body: body}
		}
	}
	withParams := func(params func(e *hostileEnv) map[string]string) func(e *hostileEnv) formCase {
		return func(e *hostileEnv) formCase {
			fc := call("")(e)
			fc.params = params(e)
			return fc
		}
	}
	shipment := func(e *hostileEnv) map[string]string {
		return map[string]string{"id": fmt.Sprint(e.lastID("shipments"))}
	}
	route := []hostileField{
		{key: "from", kind: choice}, {key: "to", kind: choice}, {key: "parcel", kind: choice},
		{key: "from.country", kind: choice}, {key: "to.country", kind: choice},
		{key: "parcel.weight_grams", kind: choice, number: true}, {key: "parcel.length_cm", kind: choice, number: true},
		{key: "parcel.width_cm", kind: choice, number: true}, {key: "parcel.height_cm", kind: choice, number: true},
	}
	shipmentPages := func(e *hostileEnv, _ *client) []pageRef {
		return []pageRef{e.page(e.owner, "/accounts/%d/shipments", e.res.Account.ID),
			e.page(e.owner, "/accounts/%d/shipments/%d", e.res.Account.ID, e.lastID("shipments"))}
	}
	return []hostileRoute{
		{method: "GET", path: "/v1/couriers", setup: call(""), fields: []hostileField{{key: "header:Authorization", kind: choice},
			{key: "header:Origin", kind: ignored}}},
		{method: "POST", path: "/v1/rates", setup: call(rateBody), fields: append([]hostileField{
			{key: "courier", kind: choice, optional: true}, {key: "header:Idempotency-Key", kind: headerToken},
			{key: "header:Origin", kind: ignored},
			{key: "from.postcode"}, {key: "to.postcode"},
		}, route...)},
		{method: "POST", path: "/v1/shipments", setup: call(shipmentBody), fields: append([]hostileField{
			{key: "courier", kind: choice}, {key: "service_code", kind: choice}, {key: "header:Authorization", kind: choice},
			{key: "header:Idempotency-Key", kind: headerToken},
			{key: "from.postcode", stored: `SELECT from_postcode FROM shipments ORDER BY id DESC LIMIT 1`, upper: true, pages: shipmentPages},
			{key: "to.postcode", stored: `SELECT to_postcode FROM shipments ORDER BY id DESC LIMIT 1`, upper: true, pages: shipmentPages},
		}, route...)},
		{method: "POST", path: "/v1/leaks", setup: func(e *hostileEnv) formCase {
			e.app.advance(time.Minute)
			return formCase{body: `{"token": "sk_live_not_a_key", "url": "https://github.com/acme/shop"}`}
		}, fields: []hostileField{{key: "token", kind: singleLine}, {key: "url", kind: singleLine, optional: true}}},
		{method: "GET", path: "/v1/shipments", setup: call(""), fields: []hostileField{{key: "?limit", kind: choice}, {key: "?cursor", kind: choice}}},
		{method: "GET", path: "/v1/shipments/:id", setup: withParams(shipment), noFields: true},
		{method: "POST", path: "/v1/shipments/:id/cancel", setup: withParams(func(e *hostileEnv) map[string]string {
			tn, err := keyport.NewTrackingNumber()
			if err != nil {
				e.t.Fatal(err)
			}
			sh, err := e.app.db.CreateShipment(context.Background(), keyport.Shipment{AccountID: e.res.Account.ID, MerchantID: e.res.Merchant.ID,
				Mode: keyport.ModeTest, Courier: "dpd", ServiceCode: "DPD_NEXT_DAY", Status: keyport.ShipmentCreated, TrackingNumber: tn,
				LabelRef: "LBL-" + tn, AmountMinor: 675, Currency: "GBP", FromPostcode: "M1 1AE", FromCountry: "GB",
				ToPostcode: "EH1 1YZ", ToCountry: "GB", WeightGrams: 1800}, 0)
			if err != nil {
				e.t.Fatal(err)
			}
			return map[string]string{"id": fmt.Sprint(sh.ID)}
		}), noFields: true},
		{method: "GET", path: "/v1/tracking/:number", setup: withParams(func(e *hostileEnv) map[string]string {
			var number string
			if err := e.app.db.SQL().QueryRow(`SELECT tracking_number FROM shipments ORDER BY id DESC LIMIT 1`).Scan(&number); err != nil {
				e.t.Fatal(err)
			}
			return map[string]string{"number": number}
		}), noFields: true},
		{method: "GET", path: "/v1/*", setup: withParams(func(*hostileEnv) map[string]string { return map[string]string{"*": "parcels"} }), catchAll: true},
		{method: "GET", path: "/v1", setup: withParams(func(*hostileEnv) map[string]string { return nil }), catchAll: true},
	}
}

// buildPath fills the route's path parameters.
func buildPath(route string, params map[string]string) string {
	return pathParamName.ReplaceAllStringFunc(route, func(p string) string {
		return url.PathEscape(params[strings.TrimPrefix(p, ":")])
	})
}

// stateTables are the tables a refused request must leave exactly as they were.
var stateTables = []string{"merchants", "users", "api_accounts", "api_keys", "registered_auths", "shipments",
	"live_key_requests", "invitations", "settings", "audit_events"}

// watchWrites adds triggers to the test database that count, per table, every
// row inserted, deleted or changed.
func (e *hostileEnv) watchWrites() {
	e.t.Helper()
	db := e.app.db.SQL()
	stmts := []string{`CREATE TABLE hostile_writes (name TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0)`}
	if e.app.db.Engine() == store.Postgres {
		stmts = append(stmts, `CREATE FUNCTION hostile_count() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN UPDATE hostile_writes SET n = n + 1 WHERE name = TG_TABLE_NAME; RETURN NULL; END; $$`)
		for _, table := range stateTables {
			stmts = append(stmts,
				fmt.Sprintf(`INSERT INTO hostile_writes (name) VALUES ('%s')`, table),
				fmt.Sprintf(`CREATE TRIGGER hostile_%s_insert_delete AFTER INSERT OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION hostile_count()`, table, table),
				fmt.Sprintf(`CREATE TRIGGER hostile_%s_update AFTER UPDATE ON %s FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION hostile_count()`, table, table))
		}
	}
	for _, table := range stateTables {
		if e.app.db.Engine() == store.Postgres {
			break
		}
		rows, err := db.Query(`SELECT name FROM pragma_table_info($1)`, table)
		if err != nil {
			e.t.Fatal(err)
		}
		var changed []string
		for rows.Next() {
			var col string
			if err := rows.Scan(&col); err != nil {
				e.t.Fatal(err)
			}
			changed = append(changed, fmt.Sprintf("OLD.%s IS NOT NEW.%s", col, col))
		}
		rows.Close()
		count := fmt.Sprintf(`BEGIN UPDATE hostile_writes SET n = n + 1 WHERE name = '%s'; END`, table)
		stmts = append(stmts,
			fmt.Sprintf(`INSERT INTO hostile_writes (name) VALUES ('%s')`, table),
			fmt.Sprintf(`CREATE TRIGGER hostile_%s_insert AFTER INSERT ON %s %s`, table, table, count),
			fmt.Sprintf(`CREATE TRIGGER hostile_%s_delete AFTER DELETE ON %s %s`, table, table, count),
			fmt.Sprintf(`CREATE TRIGGER hostile_%s_update AFTER UPDATE ON %s WHEN %s %s`, table, table, strings.Join(changed, " OR "), count))
	}
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			e.t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// state counts the writes to every table of stateTables so far.
func (e *hostileEnv) state() map[string]string {
	e.t.Helper()
	rows, err := e.app.db.SQL().Query(`SELECT name, n FROM hostile_writes`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, n string
		if err := rows.Scan(&name, &n); err != nil {
			e.t.Fatal(err)
		}
		out[name] = n
	}
	return out
}

// changedTables lists the tables written between two states.
func changedTables(before, after map[string]string) []string {
	var out []string
	for table, v := range before {
		if after[table] != v {
			out = append(out, table)
		}
	}
	sort.Strings(out)
	return out
}

// fail reports a failed case, and stops the test after 40 of them.
func (e *hostileEnv) fail(what string, format string, args ...any) {
	e.t.Helper()
	e.failures++
	e.t.Errorf("%s: %s", what, fmt.Sprintf(format, args...))
	if e.failures >= 40 {
		e.t.Fatal("too many failures")
	}
}

// rawMarker returns the hostile markup a body holds unescaped, if any.
func rawMarker(body string) string {
	for _, m := range rawMarkers {
		if strings.Contains(body, m) {
			return m
		}
	}
	return ""
}

// escapedPrefix is the start of a stored value as a page shows it, escaped: lists
// may cut long values, so pages are searched for its first 40 characters.
func escapedPrefix(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		s = string(r[:40])
	}
	return html.EscapeString(s)
}

// sendForm sends the case with the field set to value.
func (e *hostileEnv) sendForm(r hostileRoute, f hostileField, fc formCase, value string) response {
	params := map[string]string{}
	for k, v := range fc.params {
		params[k] = v
	}
	form := url.Values{}
	for k, v := range fc.form {
		form[k] = v
	}
	for k, v := range f.base {
		form[k] = v
	}
	switch {
	case f.kind == pathParam:
		params[strings.TrimPrefix(f.key, ":")] = value
	case f.key != "":
		form.Set(f.key, value)
		for _, k := range f.also {
			form.Set(k, value)
		}
	}
	path := buildPath(r.path, params)
	if r.method == http.MethodGet {
		if q := form.Encode(); q != "" {
			path += "?" + q
		}
		return fc.c.getURL(path)
	}
	return fc.c.post(path, form)
}

// tryForm posts one hostile value into one field of a portal route and checks the outcome.
func (e *hostileEnv) tryForm(r hostileRoute, f hostileField, v hostileValue) {
	e.t.Helper()
	what := fmt.Sprintf("%s %s [%s = %s]", r.method, r.path, f.key, v.name)
	if f.key == "" {
		what = fmt.Sprintf("%s %s [unexpected field = %s]", r.method, r.path, v.name)
		f.key = "unexpected"
	}
	fc := r.setup(e)
	before := e.state()
	res := e.sendForm(r, f, fc, v.value)
	after := e.state()
	e.check(what, r, f, v, fc.c, res, before, after, false)
}

// check applies the expectations common to portal and API cases.
func (e *hostileEnv) check(what string, r hostileRoute, f hostileField, v hostileValue, self *client, res response, before, after map[string]string, api bool) {
	e.t.Helper()
	if res.Code >= 500 {
		e.fail(what, "status %d\n%.600s", res.Code, res.Body)
		return
	}
	if m := rawMarker(res.Body); m != "" && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		e.fail(what, "the response holds %q unescaped", m)
	}
	refused := res.Code >= 400
	tooLarge := v.tooLarge && r.method == http.MethodPost && f.bodyField()
	if tooLarge && res.Code != http.StatusRequestEntityTooLarge {
		e.fail(what, "status %d, want 413 for a body over 1 MiB", res.Code)
	}
	if f.mustRefuse(v) && !refused {
		e.fail(what, "accepted with status %d, want a 4xx", res.Code)
	}
	if f.kind == ignored && !tooLarge && refused && !r.catchAll && !r.ceremony {
		e.fail(what, "refused with status %d, want it ignored\n%.300s", res.Code, res.Body)
	}
	if !r.anon && !api && res.Header.Get("Location") == "/login" {
		e.fail(what, "the request signed the user out")
	}
	if changed := changedTables(before, after); len(changed) > 0 && (refused || r.method == http.MethodGet) {
		e.fail(what, "status %d changed %v", res.Code, changed)
	}
	if refused {
		e.refused++
		if r.ceremony {
			f.errID = "-"
		}
		if api {
			e.checkAPIError(what, res)
		} else {
			e.checkFormError(what, f, res)
		}
		return
	}
	e.accepted++
	if f.stored == "" {
		return
	}
	if len(changedTables(before, after)) == 0 {
		e.fail(what, "accepted with status %d but nothing was written", res.Code)
	}
	var got string
	if err := e.app.db.SQL().QueryRow(f.stored).Scan(&got); err != nil {
		e.fail(what, "read the stored value: %v", err)
		return
	}
	want := strings.TrimSpace(v.value)
	if f.upper {
		want = strings.ToUpper(want)
	}
	if got != want && got != v.value {
		e.fail(what, "stored %q, want %q", got, want)
		return
	}
	if f.pages == nil {
		return
	}
	shown := false
	for _, p := range f.pages(e, self) {
		page := p.c.getURL(p.path)
		if page.Code != http.StatusOK {
			e.fail(what, "GET %s: status %d", p.path, page.Code)
			continue
		}
		if m := rawMarker(page.Body); m != "" {
			e.fail(what, "GET %s holds %q unescaped", p.path, m)
		}
		if strings.Contains(page.Body, escapedPrefix(got)) {
			shown = true
		}
	}
	if !shown {
		e.fail(what, "no page shows the stored value %.80q escaped", got)
	}
	e.shown++
}

// checkFormError checks that a refused portal request shows a message, next to the field for a 422.
func (e *hostileEnv) checkFormError(what string, f hostileField, res response) {
	e.t.Helper()
	message := false
	for _, class := range []string{`class="field-error"`, `class="form-error"`, `class="error-page"`} {
		message = message || strings.Contains(res.Body, class)
	}
	if !message {
		e.fail(what, "status %d without a message\n%.600s", res.Code, res.Body)
		return
	}
	if res.Code != http.StatusUnprocessableEntity || f.kind == pathParam || f.errID == "-" {
		return
	}
	id := f.errID
	if id == "" {
		id = "f-" + f.key + "-error"
	}
	if !strings.Contains(res.Body, `id="`+id+`"`) {
		e.fail(what, "422 without the message next to the field (%s)", id)
	}
}

// checkAPIError checks that a refused /v1 call answers a JSON error, naming the field for a 400.
func (e *hostileEnv) checkAPIError(what string, res response) {
	e.t.Helper()
	var out struct {
		Detail      string
		Error       string
		Description string `json:"error_description"`
		Field       string
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.fail(what, "status %d with Content-Type %q", res.Code, ct)
		return
	}
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
		e.fail(what, "status %d, body not JSON: %v", res.Code, err)
		return
	}
	switch {
	case res.Code == http.StatusBadRequest && (out.Field == "" || out.Description == ""):
		e.fail(what, "400 without the field: %s", res.Body)
	case out.Detail == "" && out.Description == "":
		e.fail(what, "status %d without a message: %s", res.Code, res.Body)
	}
}

// jsonString encodes s as a JSON string byte for byte: invalid UTF-8 is sent as it is.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

const placeholder = "hostile-value-goes-here"

// withJSONField returns body with the dotted field set to the raw JSON value.
func withJSONField(t testing.TB, body, field, raw string) string {
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(field, ".")
	obj := doc
	for _, p := range parts[:len(parts)-1] {
		obj = obj[p].(map[string]any)
	}
	obj[parts[len(parts)-1]] = placeholder
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(string(out), `"`+placeholder+`"`, raw, 1)
}

// tryAPI sends one hostile value in one field of a /v1 call and checks the outcome.
func (e *hostileEnv) tryAPI(r hostileRoute, f hostileField, v hostileValue) {
	e.t.Helper()
	what := fmt.Sprintf("%s %s [%s = %s]", r.method, r.path, f.key, v.name)
	fc := r.setup(e)
	params := map[string]string{}
	for k, p := range fc.params {
		params[k] = p
	}
	header := fc.header.Clone()
	body, query := fc.body, ""
	switch {
	case f.key == "":
		what = fmt.Sprintf("%s %s [unexpected query parameter = %s]", r.method, r.path, v.name)
		query = "?" + url.Values{"unexpected": {v.value}}.Encode()
	case f.kind == pathParam:
		params[strings.TrimPrefix(f.key, ":")] = v.value
	case strings.HasPrefix(f.key, "?"):
		query = "?" + url.Values{f.key[1:]: {v.value}}.Encode()
	case strings.HasPrefix(f.key, "header:"):
		header.Set(strings.TrimPrefix(f.key, "header:"), v.value)
	default:
		raw := jsonString(v.value)
		if f.number && jsonNumber.MatchString(v.value) {
			raw = v.value
		}
		body = withJSONField(e.t, body, f.key, raw)
	}
	req := httptest.NewRequest(r.method, "http://example.test"+buildPath(r.path, params)+query, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.RemoteAddr = "127.0.0.1:40000"
	before := e.state()
	rec := httptest.NewRecorder()
	e.app.serve(rec, req)
	res := response{Code: rec.Code, Header: rec.Result().Header, Body: rec.Body.String()}
	after := e.state()
	e.check(what, r, f, v, e.owner, res, before, after, true)
}

// routeKey names a route as the coverage check sees it.
func routeKey(method, path string) string { return method + " " + path }

// TestHostileInputTablesCoverEveryRoute walks the router: a new route, and so a
// new form, cannot slip past the hostile-input tests.
func TestHostileInputTablesCoverEveryRoute(t *testing.T) {
	app := newTestApp(t)
	covered := map[string]bool{}
	for _, r := range append(formRoutes(), apiRoutes()...) {
		if (len(r.fields) == 0) != (r.noFields || r.catchAll) {
			t.Errorf("%s %s: fields %d, noFields %v", r.method, r.path, len(r.fields), r.noFields)
		}
		covered[routeKey(r.method, r.path)] = true
	}
	seen := map[string]bool{}
	for _, rt := range app.srv.Echo().Routes() {
		if rt.Method == echo.RouteNotFound || isLoadTestRoute(rt.Path) {
			// Groups register these to answer 404 inside them; they read no input.
			// The load-test routes are not in the shipped build.
			continue
		}
		key := routeKey(rt.Method, rt.Path)
		if rt.Path == "/v1/*" || rt.Path == "/v1" || rt.Method == http.MethodHead {
			// The catch-alls answer every method alike, and HEAD is registered beside
			// every GET endpoint and reads what it reads: the GET row stands for them.
			key = routeKey(http.MethodGet, rt.Path)
		}
		seen[key] = true
		if !covered[key] {
			t.Errorf("route %s %s has no row in the hostile-input tables", rt.Method, rt.Path)
		}
	}
	for key := range covered {
		if !seen[key] {
			t.Errorf("the hostile-input tables list %s, which is not a route", key)
		}
	}
}

// baseline is sent to every route in an unexpected field, with the route's valid
// fields: the route must accept it, which shows that the refusals of the hostile
// values are theirs.
var baseline = hostileValue{name: "script tag", value: "<script>alert(1)</script>"}

// hostileTotals adds up the outcomes of the per-route subtests of one test.
type hostileTotals struct {
	mu                              sync.Mutex
	cases, refused, accepted, shown int
}

// add counts the cases of one route's environment.
func (h *hostileTotals) add(e *hostileEnv, cases int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cases += cases
	h.refused += e.refused
	h.accepted += e.accepted
	h.shown += e.shown
}

// report logs what the cases did.
func (h *hostileTotals) report(t *testing.T, what string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Logf("%s: %d route × field × value cases (%d hostile values): %d refused with a 4xx, %d accepted, %d of them stored exactly and shown escaped",
		what, h.cases, len(hostileValues), h.refused, h.accepted, h.shown)
}

// TestHostileInputInEveryForm posts every hostile value into every field of every
// portal route, query parameters and path parameters included: never a 500; a 4xx
// with a message that changes nothing; or the value stored exactly and shown
// escaped on the pages that show it. Each route runs in parallel on its own
// environment.
func TestHostileInputInEveryForm(t *testing.T) {
	t.Parallel()
	var totals hostileTotals
	t.Cleanup(func() { totals.report(t, "portal") })
	for _, r := range formRoutes() {
		t.Run(routeKey(r.method, r.path), func(t *testing.T) {
			t.Parallel()
			e := newHostileEnv(t)
			cases := 0
			e.tryForm(r, hostileField{kind: ignored}, baseline)
			cases++
			for _, f := range r.allFields() {
				for _, v := range hostileValues {
					e.tryForm(r, f, v)
					cases++
				}
			}
			totals.add(e, cases)
		})
	}
}

// TestHostileInputInTheAPI sends every hostile value in every JSON field, query
// and path parameter and the Authorization header of /v1: never a 500; a 4xx JSON
// error (naming the field for a 400) that changes nothing; or the value stored
// exactly and shown escaped in the portal. Each route runs in parallel on its
// own environment.
func TestHostileInputInTheAPI(t *testing.T) {
	t.Parallel()
	var totals hostileTotals
	t.Cleanup(func() { totals.report(t, "/v1") })
	for _, r := range apiRoutes() {
		t.Run(routeKey(r.method, r.path), func(t *testing.T) {
			t.Parallel()
			e := newHostileEnv(t)
			cases := 0
			e.tryAPI(r, hostileField{kind: ignored}, baseline)
			cases++
			for _, f := range r.allFields() {
				for _, v := range hostileValues {
					e.tryAPI(r, f, v)
					cases++
				}
			}
			totals.add(e, cases)
		})
	}
}

// TestMalformedCursorsStartFromTheFirstPage sends cursors that no page ever
// wrote to every paged list: each answers 200 with its first page (or, for a
// cursor past the end, an empty page), never a server error.
func TestMalformedCursorsStartFromTheFirstPage(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	admin := app.adminClient()
	app.addShipments(res, keyport.ModeTest, 2)
	lists := []struct {
		c      *client
		path   string
		params []string
	}{
		{owner, "/audit?action=key.created&", []string{"before", "after"}},
		{owner, accountPath(res) + "/shipments?mode=test&", []string{"before", "after"}},
		{owner, "/secrets?status=active&", []string{"before", "after"}},
		{owner, keysPath(res) + "?", []string{"live_before", "live_after", "test_before", "test_after"}},
		{admin, "/admin/requests?state=all&", []string{"before", "after"}},
		{admin, fmt.Sprintf("/admin/merchants/%d/secrets?", res.Merchant.ID), []string{"before", "after"}},
	}
	bad := []string{"x", "1.2.3", "-1", "0", "1.-5", ".", "1.", "99999999999999999999", "9223372036854775807.9223372036854775807",
		"-9223372036854775808.1", "%00", "%E2%80%AE7", "1%0A2", strings.Repeat("9", 5000), "<script>alert(1)</script>", "%27+OR+1%3D1+--"}
	for _, l := range lists {
		for _, param := range l.params {
			for _, v := range bad {
				r := l.c.getURL(l.path + param + "=" + v)
				if r.Code != http.StatusOK {
					t.Fatalf("%s%s=%.40s: status %d", l.path, param, v, r.Code)
				}
			}
		}
	}
}

// storedAuthField is the query of one non-secret field of the newest
// registered auth, kept as JSON text: SQLite reads it with ->>, PostgreSQL
// once the text is cast to JSON.
func storedAuthField(name string) string {
	fields := "fields"
	if storetest.OnPostgres() {
		fields = "CAST(fields AS JSON)"
	}
	return `SELECT ` + fields + ` ->> '` + name + `' FROM registered_auths ORDER BY id DESC LIMIT 1`
}
