package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"keyport"
)

// webhookSecretContext binds a sealed signing secret to its merchant, so a
// sealed value copied to another merchant's row does not open.
func webhookSecretContext(merchantID int64) string {
	return "webhook-secret:" + strconv.FormatInt(merchantID, 10)
}

// webhookEvent is the JSON body of every event: its type, when it happened,
// and what it is about. Data never holds a secret.
type webhookEvent struct {
	Type      keyport.WebhookEventType `json:"type"`
	Timestamp string                   `json:"timestamp"`
	Data      map[string]any           `json:"data"`
}

// emit writes, inside tx, the transaction of the change it tells of, an event
// of type t about the merchant, caused by actor, and a delivery of it to each
// of the merchant's enabled endpoints that subscribe to t. Nothing is written
// when none does.
func (db *DB) emit(ctx context.Context, tx *sql.Tx, merchantID int64, actor keyport.Actor, t keyport.WebhookEventType, data map[string]any) error {
	if merchantID == 0 || t == "" {
		return nil
	}
	data["actor"] = cmp.Or(actor.Label, "system")
	rows, err := tx.QueryContext(ctx, `SELECT id FROM webhook_endpoints WHERE merchant_id = $1 AND enabled = TRUE
		AND deleted_at IS NULL AND (' ' || events || ' ') LIKE $2 ORDER BY id`, merchantID, "% "+string(t)+" %")
	endpoints, err := collect(rows, err, func(row scanner) (int64, error) {
		var id int64
		err := row.Scan(&id)
		return id, err
	})
	if err != nil || len(endpoints) == 0 {
		return err
	}
	return db.writeEvent(ctx, tx, merchantID, t, data, endpoints)
}

// writeEvent writes an event and its deliveries to endpoints, due now.
func (db *DB) writeEvent(ctx context.Context, tx *sql.Tx, merchantID int64, t keyport.WebhookEventType, data map[string]any, endpoints []int64) error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	uid := "msg_" + hex.EncodeToString(b[:])
	now := db.Now()
	data["merchant_id"] = merchantID
	body, err := json.Marshal(webhookEvent{Type: t, Timestamp: now.UTC().Format(time.RFC3339), Data: data})
	if err != nil {
		return err
	}
	var eventID int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO webhook_events (uid, merchant_id, type, payload, created_at) VALUES ($1, $2, $3, $4, $5)
		RETURNING id`, uid, merchantID, string(t), body, now.Unix()).Scan(&eventID); err != nil {
		return err
	}
	for _, id := range endpoints {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (event_id, endpoint_id, created_at, next_attempt_at)
			VALUES ($1, $2, $3, $4)`, eventID, id, now.Unix(), now.Unix()); err != nil {
			return err
		}
	}
	db.eventsIn.Store(tx, struct{}{})
	return nil
}

// keyEventData is what an event about a key says of it: never its secret.
func keyEventData(k keyport.APIKey) map[string]any {
	key := map[string]any{"id": k.ID, "redacted": k.Redacted(), "name": k.Name, "type": string(k.Type), "mode": string(k.Mode),
		"account_id": k.AccountID, "account_name": k.AccountName, "created_at": eventTime(k.CreatedAt),
		"expires_at": eventTime(k.ExpiresAt), "revoked_at": eventTime(k.RevokedAt)}
	return map[string]any{"key": key}
}

// eventTime is a time in an event: RFC 3339 in UTC, or null when zero.
func eventTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// requestEventData is what an event about a live key request says of it.
func requestEventData(r keyport.LiveKeyRequest) map[string]any {
	return map[string]any{"live_request": map[string]any{"id": r.ID, "token_name": r.TokenName, "account_id": r.AccountID,
		"account_name": r.AccountName, "requested_by": r.RequestedBy, "created_at": eventTime(r.CreatedAt)}}
}

// accountEventData is what an event about an API account says of it.
func accountEventData(a keyport.APIAccount) map[string]any {
	return map[string]any{"api_account": map[string]any{"id": a.ID, "name": a.Name}}
}

// EventsWritten receives a value after a transaction of this DB that wrote
// webhook deliveries commits, so that a sender can deliver at once rather than
// at its next poll. Values do not queue up.
func (db *DB) EventsWritten() <-chan struct{} { return db.eventsWritten }

func (db *DB) wakeWebhookSender() {
	select {
	case db.eventsWritten <- struct{}{}:
	default:
	}
}

const endpointColumns = `id, merchant_id, url, description, events, enabled, disabled_reason, failing_since, old_secret_until,
	created_at, created_by_label`

func scanEndpoint(row scanner) (keyport.WebhookEndpoint, error) {
	var e keyport.WebhookEndpoint
	var events string
	var failing, oldUntil sql.NullInt64
	var created int64
	err := row.Scan(&e.ID, &e.MerchantID, &e.URL, &e.Description, &events, &e.Enabled, &e.DisabledReason, &failing, &oldUntil,
		&created, &e.CreatedBy)
	for _, name := range strings.Fields(events) {
		e.Events = append(e.Events, keyport.WebhookEventType(name))
	}
	e.FailingSince, e.OldSecretUntil, e.CreatedAt = nullTime(failing), nullTime(oldUntil), unixTime(created)
	return e, notFound(err)
}

func joinEvents(events []keyport.WebhookEventType) string {
	names := make([]string, len(events))
	for i, t := range events {
		names[i] = string(t)
	}
	return strings.Join(names, " ")
}

// MaxWebhookEndpoints caps the endpoints of one merchant.
const MaxWebhookEndpoints = 16

// CreateWebhookEndpoint adds an endpoint to the merchant with a new signing
// secret, sealed at rest and returned once, audited. in must be validated.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, actor keyport.Actor, merchantID int64, in keyport.WebhookEndpointInput) (keyport.WebhookEndpoint, string, error) {
	if db.Sealer == nil {
		return keyport.WebhookEndpoint{}, "", errNoSealer
	}
	secret, err := keyport.NewWebhookSecret()
	if err != nil {
		return keyport.WebhookEndpoint{}, "", err
	}
	sealed, err := db.Sealer.Seal([]byte(secret), webhookSecretContext(merchantID))
	if err != nil {
		return keyport.WebhookEndpoint{}, "", err
	}
	var e keyport.WebhookEndpoint
	err = db.tx(ctx, "add webhook endpoint", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_endpoints WHERE merchant_id = $1 AND deleted_at IS NULL`,
			merchantID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxWebhookEndpoints {
			return keyport.FieldError("url", fmt.Sprintf("A merchant can have %d endpoints. Delete one you no longer use first.", MaxWebhookEndpoints))
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (merchant_id, url, description, events, enabled, secret, created_at,
				created_by_label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, merchantID, in.URL, in.Description,
			joinEvents(in.Events), in.Enabled, sealed, db.now(), actor.Label).Scan(&id); err != nil {
			return err
		}
		if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditWebhookCreated, "webhook_endpoint", id, in.URL); err != nil {
			return err
		}
		e, err = scanEndpoint(tx.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return keyport.WebhookEndpoint{}, "", err
	}
	return e, secret, nil
}

// WebhookEndpoints returns the merchant's endpoints that are not deleted, oldest first.
func (db *DB) WebhookEndpoints(ctx context.Context, merchantID int64) ([]keyport.WebhookEndpoint, error) {
	rows, err := db.query(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE merchant_id = $1 AND deleted_at IS NULL
		ORDER BY id`, merchantID)
	return collect(rows, err, scanEndpoint)
}

// WebhookEndpointOf returns one endpoint of the merchant; another merchant's,
// a deleted or an unknown one is ErrNotFound.
func (db *DB) WebhookEndpointOf(ctx context.Context, merchantID, endpointID int64) (keyport.WebhookEndpoint, error) {
	return scanEndpoint(db.queryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2
		AND deleted_at IS NULL`, endpointID, merchantID))
}

// liveEndpoint loads, inside tx, an endpoint of the merchant that is not deleted.
func liveEndpoint(ctx context.Context, tx *sql.Tx, merchantID, endpointID int64) (keyport.WebhookEndpoint, error) {
	return scanEndpoint(tx.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2
		AND deleted_at IS NULL`, endpointID, merchantID))
}

// UpdateWebhookEndpoint changes the URL, description, events and whether the
// endpoint is enabled, audited. Enabling it forgets its failures. in must be
// validated.
func (db *DB) UpdateWebhookEndpoint(ctx context.Context, actor keyport.Actor, merchantID, endpointID int64, in keyport.WebhookEndpointInput) (keyport.WebhookEndpoint, error) {
	var e keyport.WebhookEndpoint
	err := db.tx(ctx, fmt.Sprintf("update webhook endpoint %d", endpointID), func(tx *sql.Tx) error {
		old, err := liveEndpoint(ctx, tx, merchantID, endpointID)
		if err != nil {
			return err
		}
		reason, failing := old.DisabledReason, any(nil)
		if !old.FailingSince.IsZero() {
			failing = old.FailingSince.Unix()
		}
		if in.Enabled {
			reason, failing = "", nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $1, description = $2, events = $3, enabled = $4,
			disabled_reason = $5, failing_since = $6 WHERE id = $7`, in.URL, in.Description, joinEvents(in.Events), in.Enabled,
			reason, failing, endpointID); err != nil {
			return err
		}
		state := "enabled"
		if !in.Enabled {
			state = "disabled"
		}
		if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditWebhookUpdated, "webhook_endpoint", endpointID,
			in.URL+" ("+state+")"); err != nil {
			return err
		}
		e, err = liveEndpoint(ctx, tx, merchantID, endpointID)
		return err
	})
	return e, err
}

// DeleteWebhookEndpoint deletes the merchant's endpoint, audited: its pending
// deliveries are given up. Its rows stay for the audit trail.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, actor keyport.Actor, merchantID, endpointID int64) error {
	return db.tx(ctx, fmt.Sprintf("delete webhook endpoint %d", endpointID), func(tx *sql.Tx) error {
		e, err := liveEndpoint(ctx, tx, merchantID, endpointID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET deleted_at = $1, enabled = FALSE WHERE id = $2`,
			db.now(), endpointID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'failed' WHERE endpoint_id = $1 AND state = 'pending'`,
			endpointID); err != nil {
			return err
		}
		return db.audit(ctx, tx, merchantID, actor, keyport.AuditWebhookDeleted, "webhook_endpoint", endpointID, e.URL)
	})
}

// RollWebhookSecret gives the endpoint a new signing secret, returned once;
// the current one keeps signing beside it for grace (not at all when 0).
// Audited.
func (db *DB) RollWebhookSecret(ctx context.Context, actor keyport.Actor, merchantID, endpointID int64, grace time.Duration) (string, error) {
	if db.Sealer == nil {
		return "", errNoSealer
	}
	secret, err := keyport.NewWebhookSecret()
	if err != nil {
		return "", err
	}
	sealed, err := db.Sealer.Seal([]byte(secret), webhookSecretContext(merchantID))
	if err != nil {
		return "", err
	}
	err = db.tx(ctx, fmt.Sprintf("roll the secret of webhook endpoint %d", endpointID), func(tx *sql.Tx) error {
		e, err := liveEndpoint(ctx, tx, merchantID, endpointID)
		if err != nil {
			return err
		}
		var old []byte
		var until any
		if grace > 0 {
			until = db.Now().Add(grace).Unix()
			if err := tx.QueryRowContext(ctx, `SELECT secret FROM webhook_endpoints WHERE id = $1`, endpointID).Scan(&old); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET secret = $1, old_secret = $2, old_secret_until = $3 WHERE id = $4`,
			sealed, old, until, endpointID); err != nil {
			return err
		}
		detail := e.URL + ", old secret stops signing now"
		if grace > 0 {
			detail = e.URL + ", old secret signs until " + db.Now().Add(grace).UTC().Format(time.RFC3339)
		}
		return db.audit(ctx, tx, merchantID, actor, keyport.AuditWebhookSecretRolled, "webhook_endpoint", endpointID, detail)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// SendTestWebhook writes a "ping" event to one endpoint of the merchant,
// whatever it subscribes to and even when disabled, due at once.
func (db *DB) SendTestWebhook(ctx context.Context, actor keyport.Actor, merchantID, endpointID int64) error {
	return db.tx(ctx, fmt.Sprintf("send a test event to webhook endpoint %d", endpointID), func(tx *sql.Tx) error {
		if _, err := liveEndpoint(ctx, tx, merchantID, endpointID); err != nil {
			return err
		}
		return db.writeEvent(ctx, tx, merchantID, keyport.EventPing, map[string]any{"endpoint_id": endpointID, "actor": cmp.Or(actor.Label, "system")},
			[]int64{endpointID})
	})
}

// ResendWebhook makes one delivery of the merchant's endpoint due at once,
// with the same event id, whatever its state.
func (db *DB) ResendWebhook(ctx context.Context, merchantID, endpointID, deliveryID int64) error {
	r, err := db.exec(ctx, `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, claimed_until = 0
		WHERE id = $2 AND endpoint_id = (SELECT id FROM webhook_endpoints WHERE id = $3 AND merchant_id = $4 AND deleted_at IS NULL)`,
		db.now(), deliveryID, endpointID, merchantID)
	if err != nil {
		return fmt.Errorf("store: resend webhook delivery %d: %w", deliveryID, err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return keyport.ErrNotFound
	}
	db.wakeWebhookSender()
	return nil
}

// WebhookLogSize is how many deliveries an endpoint's log lists.
const WebhookLogSize = 50

// WebhookDeliveries returns the newest deliveries of the merchant's endpoint,
// at most WebhookLogSize, each with its attempts.
func (db *DB) WebhookDeliveries(ctx context.Context, merchantID, endpointID int64) ([]keyport.WebhookDelivery, error) {
	rows, err := db.query(ctx, `SELECT d.id, d.endpoint_id, ev.uid, ev.type, d.state, d.attempts, d.created_at, d.next_attempt_at
		FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE d.endpoint_id = $1 AND e.merchant_id = $2 ORDER BY d.id DESC LIMIT $3`, endpointID, merchantID, WebhookLogSize)
	list, err := collect(rows, err, func(row scanner) (keyport.WebhookDelivery, error) {
		var d keyport.WebhookDelivery
		var created, next int64
		err := row.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.State, &d.Attempts, &created, &next)
		d.CreatedAt, d.NextAttemptAt = unixTime(created), unixTime(next)
		return d, err
	})
	if err != nil || len(list) == 0 {
		return list, err
	}
	index := make(map[int64]int, len(list))
	for i, d := range list {
		index[d.ID] = i
	}
	rows, err = db.query(ctx, `SELECT delivery_id, at, status, duration_ms, excerpt FROM webhook_attempts
		WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND id >= $2) ORDER BY id`,
		endpointID, list[len(list)-1].ID)
	type attempt struct {
		delivery int64
		keyport.WebhookAttempt
	}
	attempts, err := collect(rows, err, func(row scanner) (attempt, error) {
		var a attempt
		var at, ms int64
		err := row.Scan(&a.delivery, &at, &a.Status, &ms, &a.Excerpt)
		a.At, a.Duration = unixTime(at), time.Duration(ms)*time.Millisecond
		return a, err
	})
	for _, a := range attempts {
		if i, ok := index[a.delivery]; ok {
			list[i].Log = append(list[i].Log, a.WebhookAttempt)
		}
	}
	return list, err
}

// ClaimWebhooks takes up to limit pending deliveries whose next attempt is
// due, to enabled endpoints, oldest first, and keeps every other sender off
// them for lease, as ClaimMessages does. Each comes with the secrets that
// sign it: the endpoint's current one, and its previous one during a roll's
// grace period.
func (db *DB) ClaimWebhooks(ctx context.Context, limit int, lease time.Duration) ([]keyport.WebhookMessage, error) {
	if db.Sealer == nil {
		return nil, errNoSealer
	}
	now := db.Now()
	db.writes.Add(1)
	rows, err := db.query(ctx, `UPDATE webhook_deliveries SET claimed_until = $1 WHERE id IN (
		SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE d.state = 'pending' AND d.next_attempt_at <= $2 AND d.claimed_until <= $3 AND e.enabled = TRUE AND e.deleted_at IS NULL
		ORDER BY d.id LIMIT $4`+db.dialect.skipLocked()+`)
		RETURNING id, event_id, endpoint_id, created_at, attempts`,
		now.Add(lease).Unix(), now.Unix(), now.Unix(), limit)
	type claimed struct {
		id, event, endpoint, created int64
		attempts                     int
	}
	list, err := collect(rows, err, func(row scanner) (claimed, error) {
		var c claimed
		err := row.Scan(&c.id, &c.event, &c.endpoint, &c.created, &c.attempts)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim webhook deliveries: %w", err)
	}
	msgs := make([]keyport.WebhookMessage, 0, len(list))
	for _, c := range list {
		m := keyport.WebhookMessage{DeliveryID: c.id, EndpointID: c.endpoint, CreatedAt: unixTime(c.created), Attempts: c.attempts}
		var secret, old []byte
		var oldUntil sql.NullInt64
		if err := db.queryRow(ctx, `SELECT e.merchant_id, e.url, e.secret, e.old_secret, e.old_secret_until, ev.uid, ev.type, ev.payload
			FROM webhook_endpoints e, webhook_events ev WHERE e.id = $1 AND ev.id = $2`, c.endpoint, c.event).Scan(
			&m.MerchantID, &m.URL, &secret, &old, &oldUntil, &m.EventID, &m.EventType, &m.Body); err != nil {
			return nil, fmt.Errorf("store: claim webhook delivery %d: %w", c.id, err)
		}
		sealed := [][]byte{secret}
		if len(old) > 0 && oldUntil.Valid && oldUntil.Int64 > now.Unix() {
			sealed = append(sealed, old)
		}
		for _, s := range sealed {
			plain, err := db.Sealer.Open(s, webhookSecretContext(m.MerchantID))
			if err != nil {
				return nil, fmt.Errorf("store: open the secret of webhook endpoint %d: %w", c.endpoint, err)
			}
			m.Secrets = append(m.Secrets, string(plain))
		}
		msgs = append(msgs, m)
	}
	slices.SortFunc(msgs, func(a, b keyport.WebhookMessage) int { return cmp.Compare(a.DeliveryID, b.DeliveryID) })
	return msgs, nil
}

// WebhookDelivered records one attempt of a claimed delivery. A 2xx answer
// completes it and clears the endpoint's failures; any other outcome
// schedules the next attempt by keyport.NextAttempt, or gives the delivery
// up. When a delivery is given up and its endpoint has failed every attempt
// since the delivery's first, the endpoint is disabled, audited, and its
// merchant's Owners are emailed.
func (db *DB) WebhookDelivered(ctx context.Context, m keyport.WebhookMessage, a keyport.WebhookAttempt) error {
	now := db.Now()
	return db.tx(ctx, fmt.Sprintf("record attempt of webhook delivery %d", m.DeliveryID), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, at, status, duration_ms, excerpt) VALUES ($1, $2, $3, $4, $5)`,
			m.DeliveryID, now.Unix(), a.Status, a.Duration.Milliseconds(), cleanExcerpt(a.Excerpt)); err != nil {
			return err
		}
		if a.Succeeded() {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'succeeded', attempts = attempts + 1, claimed_until = 0
				WHERE id = $1`, m.DeliveryID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1`, m.EndpointID)
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) WHERE id = $2`,
			now.Unix(), m.EndpointID); err != nil {
			return err
		}
		next, retry := keyport.NextAttempt(m.CreatedAt, m.Attempts+1, now)
		if retry {
			_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET next_attempt_at = $1, attempts = attempts + 1, claimed_until = 0
				WHERE id = $2 AND state = 'pending'`, next.Unix(), m.DeliveryID)
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1, claimed_until = 0
			WHERE id = $1 AND state = 'pending'`, m.DeliveryID); err != nil {
			return err
		}
		var failingSince, firstAttempt int64
		if err := tx.QueryRowContext(ctx, `SELECT e.failing_since, (SELECT min(at) FROM webhook_attempts WHERE delivery_id = $1)
			FROM webhook_endpoints e WHERE e.id = $2`, m.DeliveryID, m.EndpointID).Scan(&failingSince, &firstAttempt); err != nil {
			return err
		}
		if !keyport.WebhookEndpointGivesUp(unixTime(failingSince), unixTime(firstAttempt)) {
			return nil
		}
		return db.disableFailingEndpoint(ctx, tx, m.MerchantID, m.EndpointID)
	})
}

// disableFailingEndpoint disables an endpoint that failed for
// keyport.WebhookDisableAfter, audited, and emails its merchant's Owners.
func (db *DB) disableFailingEndpoint(ctx context.Context, tx *sql.Tx, merchantID, endpointID int64) error {
	e, err := liveEndpoint(ctx, tx, merchantID, endpointID)
	if err != nil || !e.Enabled {
		return err
	}
	reason := "Every delivery failed for 3 days."
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $1 WHERE id = $2`,
		reason, endpointID); err != nil {
		return err
	}
	if err := db.audit(ctx, tx, merchantID, keyport.SystemActor, keyport.AuditWebhookDisabled, "webhook_endpoint", endpointID, e.URL); err != nil {
		return err
	}
	return db.mailUsers(ctx, tx, keyport.MessageWebhookDisabled, toOwners, []any{merchantID},
		map[string]string{"url": e.URL, "endpoint_id": strconv.FormatInt(endpointID, 10)})
}

// cleanExcerpt keeps what both engines store of an answer's body: valid
// UTF-8 without NUL, at most keyport.WebhookExcerptLength bytes.
func cleanExcerpt(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "�"), "\x00", "")
	return truncate(s, keyport.WebhookExcerptLength)
}
