package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

// The webhook sender claims webhookBatch deliveries at a time and keeps them
// for webhookLease, longer than a batch takes even when every attempt runs
// into keyport.WebhookTimeout.
const (
	webhookBatch = 5
	webhookLease = 2 * time.Minute
)

// webhookDrain is how much of an answer's body an attempt reads beyond its
// excerpt, so the connection can be reused; a longer answer closes it.
const webhookDrain = 64 << 10

// newWebhookClient returns the HTTP client of deliveries: no proxy, no
// redirects followed, keyport.WebhookTimeout per attempt, and a dialer that
// checks each address it connects to, after name resolution, so a name that
// resolves to an internal address (or starts to, by DNS rebinding) is refused.
func newWebhookClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{
		Timeout: keyport.WebhookTimeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !keyport.WebhookAddressAllowed(ap.Addr(), allowPrivate) {
				return keyport.ErrWebhookTargetRefused
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   keyport.WebhookTimeout,
		ResponseHeaderTimeout: keyport.WebhookTimeout,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   keyport.WebhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// DeliverWebhooks sends the due webhook deliveries at once, then every
// interval and right after this process commits a new event, until ctx ends.
// Run it in the background and wait for it before closing the database.
func (s *Server) DeliverWebhooks(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.deliverDueWebhooks(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.db.EventsWritten():
		}
	}
}

// deliverDueWebhooks claims and sends due deliveries until none is left.
func (s *Server) deliverDueWebhooks(ctx context.Context) {
	for ctx.Err() == nil {
		msgs, err := s.db.ClaimWebhooks(ctx, webhookBatch, webhookLease)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("claim webhook deliveries", "err", err)
			}
			return
		}
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			s.sendWebhook(ctx, m)
		}
	}
}

// sendWebhook makes one attempt of a claimed delivery and records it. The
// log names the delivery and the endpoint, never the body nor the secret.
func (s *Server) sendWebhook(ctx context.Context, m keyport.WebhookMessage) {
	a := s.postWebhook(ctx, m)
	record, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.db.WebhookDelivered(record, m, a); err != nil {
		s.log.Error("record a webhook attempt", "delivery", m.DeliveryID, "err", err)
	}
	if a.Succeeded() {
		s.log.Info("webhook delivered", "delivery", m.DeliveryID, "endpoint", m.EndpointID, "event", m.EventType, "took", a.Duration)
	} else {
		s.log.Warn("webhook not delivered", "delivery", m.DeliveryID, "endpoint", m.EndpointID, "event", m.EventType,
			"attempt", m.Attempts+1, "status", a.Status, "answer", a.Excerpt)
	}
}

// postWebhook POSTs the event to its endpoint, signed as the Standard
// Webhooks specification says, and returns what happened.
func (s *Server) postWebhook(ctx context.Context, m keyport.WebhookMessage) keyport.WebhookAttempt {
	start := time.Now()
	a := keyport.WebhookAttempt{}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		a.Excerpt = "The URL cannot be requested: " + err.Error()
		return a
	}
	sentAt := s.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Keyport-Webhooks/1.0")
	req.Header.Set("webhook-id", m.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(sentAt.Unix(), 10))
	req.Header.Set("webhook-signature", keyport.SignWebhook(m.Secrets, m.EventID, sentAt, m.Body))
	resp, err := s.webhookClient.Do(req)
	a.Duration = time.Since(start)
	if err != nil {
		a.Excerpt = deliveryError(err)
		return a
	}
	defer resp.Body.Close()
	a.Status = resp.StatusCode
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, keyport.WebhookExcerptLength))
	_, _ = io.CopyN(io.Discard, resp.Body, webhookDrain)
	a.Excerpt = string(excerpt)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		a.Excerpt = "Redirect to " + resp.Header.Get("Location") + " not followed."
	}
	a.Duration = time.Since(start)
	return a
}

// deliveryError says in words why no answer came, without the URL (which
// the log of the endpoint shows beside it).
func deliveryError(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, keyport.ErrWebhookTargetRefused):
		return keyport.ErrWebhookTargetRefused.Error()
	case errors.As(err, &netErr) && netErr.Timeout():
		return "No answer within " + keyport.WebhookTimeout.String() + "."
	}
	var urlErr interface{ Unwrap() error }
	if errors.As(err, &urlErr) && urlErr.Unwrap() != nil {
		return urlErr.Unwrap().Error()
	}
	return err.Error()
}

// webhooksPage serves GET /webhooks: the merchant's endpoints.
func (s *Server) webhooksPage(c echo.Context) error {
	u := currentUser(c)
	list, err := s.db.WebhookEndpoints(c.Request().Context(), u.MerchantID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.WebhooksPage(s.page(c, "Webhooks", "/webhooks"),
		views.WebhooksView{Endpoints: list, CanManage: u.Role.CanManageKeys()}))
}

// webhookInput reads the endpoint form, and the values to render it again with.
func webhookInput(c echo.Context) (keyport.WebhookEndpointInput, views.Form, error) {
	params, err := c.FormParams()
	if err != nil {
		return keyport.WebhookEndpointInput{}, views.Form{}, err
	}
	in := keyport.WebhookEndpointInput{URL: params.Get("url"), Description: params.Get("description"), Enabled: params.Get("enabled") == "on"}
	for _, name := range params["events"] {
		in.Events = append(in.Events, keyport.WebhookEventType(name))
	}
	return in, views.Form{Values: map[string]string{"url": in.URL, "description": in.Description, "enabled": params.Get("enabled")}}, nil
}

func (s *Server) webhookForm(c echo.Context, status int, e *keyport.WebhookEndpoint, f views.Form, events []keyport.WebhookEventType) error {
	title := "Add a webhook endpoint"
	if e != nil {
		title = "Edit webhook endpoint"
	}
	return render(c, status, views.WebhookFormPage(s.page(c, title, "/webhooks"),
		views.WebhookFormView{Endpoint: e, Form: f, Events: events, CSRF: csrfToken(c)}))
}

// newWebhookForm serves GET /webhooks/new.
func (s *Server) newWebhookForm(c echo.Context) error {
	return s.webhookForm(c, http.StatusOK, nil, views.Form{Values: map[string]string{"enabled": "on"}}, keyport.WebhookEventTypes)
}

// createWebhook adds an endpoint and shows its signing secret once.
// Route: POST /webhooks.
func (s *Server) createWebhook(c echo.Context) error {
	in, f, err := webhookInput(c)
	if err != nil {
		return err
	}
	if err := in.Validate(s.webhookAllowHTTP); err != nil {
		f.Errors = fieldErrors(err)
		return s.webhookForm(c, http.StatusUnprocessableEntity, nil, f, in.Events)
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	e, secret, err := s.db.CreateWebhookEndpoint(ctx, actor(c), u.MerchantID, in)
	if fields := fieldErrors(err); fields != nil {
		f.Errors = fields
		return s.webhookForm(c, http.StatusUnprocessableEntity, nil, f, in.Events)
	}
	if err != nil {
		return err
	}
	return s.renderWebhook(c, http.StatusOK, views.WebhookView{Endpoint: e, Secret: secret, Note: "Webhook endpoint added."})
}

// renderWebhook renders v.Endpoint's page with its delivery log.
func (s *Server) renderWebhook(c echo.Context, status int, v views.WebhookView) error {
	var err error
	if v.Deliveries, err = s.db.WebhookDeliveries(c.Request().Context(), v.Endpoint.MerchantID, v.Endpoint.ID); err != nil {
		return err
	}
	p := s.page(c, "Webhook endpoint", "/webhooks")
	if v.Note != "" {
		p.Flashes = append(p.Flashes, views.Flash{Kind: "success", Message: v.Note})
	}
	v.CanManage, v.CSRF, v.Now = currentUser(c).Role.CanManageKeys(), csrfToken(c), s.Now()
	return render(c, status, views.WebhookPage(p, v))
}

// loadWebhook reads the :wid endpoint of the signed-in user's merchant; any other is a 404.
func (s *Server) loadWebhook(c echo.Context) (keyport.WebhookEndpoint, error) {
	id, err := pathID(c, "wid")
	if err != nil {
		return keyport.WebhookEndpoint{}, err
	}
	return s.db.WebhookEndpointOf(c.Request().Context(), currentUser(c).MerchantID, id)
}

// webhookPage serves GET /webhooks/:wid: one endpoint and its delivery log.
func (s *Server) webhookPage(c echo.Context) error {
	e, err := s.loadWebhook(c)
	if err != nil {
		return err
	}
	return s.renderWebhook(c, http.StatusOK, views.WebhookView{Endpoint: e})
}

// editWebhookForm serves GET /webhooks/:wid/edit.
func (s *Server) editWebhookForm(c echo.Context) error {
	e, err := s.loadWebhook(c)
	if err != nil {
		return err
	}
	enabled := ""
	if e.Enabled {
		enabled = "on"
	}
	f := views.Form{Values: map[string]string{"url": e.URL, "description": e.Description, "enabled": enabled}}
	return s.webhookForm(c, http.StatusOK, &e, f, e.Events)
}

// updateWebhook saves an endpoint's changes. Route: POST /webhooks/:wid.
func (s *Server) updateWebhook(c echo.Context) error {
	e, err := s.loadWebhook(c)
	if err != nil {
		return err
	}
	in, f, err := webhookInput(c)
	if err != nil {
		return err
	}
	if err := in.Validate(s.webhookAllowHTTP); err != nil {
		f.Errors = fieldErrors(err)
		return s.webhookForm(c, http.StatusUnprocessableEntity, &e, f, in.Events)
	}
	if _, err := s.db.UpdateWebhookEndpoint(c.Request().Context(), actor(c), e.MerchantID, e.ID, in); err != nil {
		return err
	}
	s.flash(c, "success", "Webhook endpoint saved.")
	return redirect(c, views.WebhookURL(e.ID))
}

// deleteWebhookForm serves GET /webhooks/:wid/delete: the confirmation.
func (s *Server) deleteWebhookForm(c echo.Context) error {
	e, err := s.loadWebhook(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.DeleteWebhookPage(s.page(c, "Delete webhook endpoint", "/webhooks"), e, csrfToken(c)))
}

// deleteWebhook deletes an endpoint. Route: POST /webhooks/:wid/delete.
func (s *Server) deleteWebhook(c echo.Context) error {
	e, err := s.loadWebhook(c)
	if err != nil {
		return err
	}
	if err := s.db.DeleteWebhookEndpoint(c.Request().Context(), actor(c), e.MerchantID, e.ID); err != nil {
		return err
	}
	s.flash(c, "success", "Deleted the webhook endpoint "+e.URL+".")
	return redirect(c, "/webhooks")
}

// rollWebhookSecretForm serves GET /webhooks/:wid/roll: the confirmation,
// which carries the chosen end of the old secret to the roll.
func (s *Server) rollWebhookSecretForm(c echo.Context) error {
	e, err := s.loadWebhook(c)
	if err != nil {
		return err
	}
	grace := c.QueryParam("grace")
	if _, msg := keyport.ParseGrace(grace); msg != "" {
		return s.renderWebhook(c, http.StatusUnprocessableEntity, views.WebhookView{Endpoint: e, GraceError: msg})
	}
	var when string
	for _, g := range keyport.GraceChoices {
		if g.Value == grace {
			when = g.Label
		}
	}
	return s.confirm(c, "/webhooks", views.WebhookURL(e.ID), views.Confirmation{
		Question: "Roll the signing secret of " + e.URL + "?",
		Detail: "Events are signed with a new secret from now on; your endpoint must learn it before the old one stops. " +
			"Old secret stops signing: " + when + ".",
		Action: views.WebhookURL(e.ID) + "/roll",
		Fields: []views.Hidden{{Name: "grace", Value: grace}},
		Button: "Roll the secret of " + e.URL,
	})
}

// rollWebhookSecret gives an endpoint a new signing secret and shows it once.
// Route: POST /webhooks/:wid/roll.
func (s *Server) rollWebhookSecret(c echo.Context) error {
	e, err := s.loadWebhook(c)
	if err != nil {
		return err
	}
	grace, msg := keyport.ParseGrace(c.FormValue("grace"))
	if msg != "" {
		return s.renderWebhook(c, http.StatusUnprocessableEntity, views.WebhookView{Endpoint: e, GraceError: msg})
	}
	secret, err := s.db.RollWebhookSecret(c.Request().Context(), actor(c), e.MerchantID, e.ID, grace)
	if err != nil {
		return err
	}
	if e, err = s.loadWebhook(c); err != nil {
		return err
	}
	return s.renderWebhook(c, http.StatusOK, views.WebhookView{Endpoint: e, Secret: secret, Note: "Signing secret rolled."})
}

// sendTestWebhook sends a "ping" event to an endpoint. Route: POST /webhooks/:wid/test.
func (s *Server) sendTestWebhook(c echo.Context) error {
	e, err := s.loadWebhook(c)
	if err != nil {
		return err
	}
	if err := s.db.SendTestWebhook(c.Request().Context(), actor(c), e.MerchantID, e.ID); err != nil {
		return err
	}
	note := "Test event sent: its result appears in the delivery log in a moment."
	if !e.Enabled {
		note = "Test event written, but the endpoint is disabled: enable it to send events."
	}
	s.flash(c, "success", note)
	return redirect(c, views.WebhookURL(e.ID))
}

// resendWebhook makes one delivery due again, with the same event id.
// Route: POST /webhooks/:wid/deliveries/:did/resend.
func (s *Server) resendWebhook(c echo.Context) error {
	e, err := s.loadWebhook(c)
	if err != nil {
		return err
	}
	id, err := pathID(c, "did")
	if err != nil {
		return err
	}
	if err := s.db.ResendWebhook(c.Request().Context(), e.MerchantID, e.ID, id); err != nil {
		return err
	}
	note := "The event will be sent again in a moment."
	if !e.Enabled {
		note = "The event will be sent again once the endpoint is enabled."
	}
	s.flash(c, "success", note)
	return redirect(c, views.WebhookURL(e.ID))
}
