package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"keyport"
)

const shipmentColumns = `s.id, s.account_id, s.merchant_id, s.mode, s.courier, COALESCE(c.name, s.courier), s.service_code,
	COALESCE(p.name, s.service_code), s.status, s.tracking_number, s.label_ref, s.amount_minor, s.currency, s.from_postcode,
	s.from_country, s.to_postcode, s.to_country, s.weight_grams, COALESCE(k.prefix || k.first4 || '********' || k.last4, ''),
	s.created_at, s.updated_at`

const shipmentFrom = ` FROM shipments s LEFT JOIN couriers c ON c.code = s.courier
	LEFT JOIN courier_presets p ON p.courier = s.courier AND p.service_code = s.service_code
	LEFT JOIN api_keys k ON k.id = s.key_id`

func scanShipment(row scanner) (keyport.Shipment, error) {
	var s keyport.Shipment
	var created, updated int64
	err := row.Scan(&s.ID, &s.AccountID, &s.MerchantID, &s.Mode, &s.Courier, &s.CourierName, &s.ServiceCode, &s.ServiceName,
		&s.Status, &s.TrackingNumber, &s.LabelRef, &s.AmountMinor, &s.Currency, &s.FromPostcode, &s.FromCountry, &s.ToPostcode,
		&s.ToCountry, &s.WeightGrams, &s.CreatedByKey, &created, &updated)
	s.CreatedAt = unixTime(created)
	s.UpdatedAt = unixTime(updated)
	return s, notFound(err)
}

// ShipmentFilter selects shipments of an API account in one mode; its other
// zero fields select every shipment of the mode. The Shipments page and its
// CSV export read through the same filter, so they always list the same rows.
type ShipmentFilter struct {
	Mode keyport.Mode
	// Tracking selects tracking numbers that start with it, a whole number
	// included, ignoring case: tracking numbers are upper case.
	Tracking string
	// Status selects one status, such as keyport.ShipmentDelivered.
	Status string
	// From and To are inclusive UTC days of creation; zero means open-ended.
	From, To time.Time
	// Page is the page asked for; the list is sorted by id.
	Page PageRequest
}

// ShipmentPage is one page of an account's shipments of a mode, newest first.
type ShipmentPage struct {
	Filter ShipmentFilter
	// Total is the account's number of shipments of the mode, whatever the
	// rest of the filter, kept as a counter.
	Total int
	Page[keyport.Shipment]
}

// shipmentCursor is where a shipment sits in the list: by id.
func shipmentCursor(s keyport.Shipment) Cursor { return Cursor{ID: s.ID} }

// shipmentWhere is the WHERE clause (without the word) and its arguments for
// the account's shipments the filter selects, cursor left out.
func shipmentWhere(accountID int64, f ShipmentFilter) (string, sqlArgs) {
	var args sqlArgs
	where := []string{"s.account_id = " + args.add(accountID), "s.mode = " + args.add(f.Mode)}
	if f.Tracking != "" {
		where = append(where, "s.tracking_number LIKE "+args.add(escapeLike(strings.ToUpper(f.Tracking))+"%")+` ESCAPE '\'`)
	}
	if f.Status != "" {
		where = append(where, "s.status = "+args.add(f.Status))
	}
	if !f.From.IsZero() {
		where = append(where, "s.created_at >= "+args.add(f.From.Unix()))
	}
	if !f.To.IsZero() {
		where = append(where, "s.created_at < "+args.add(f.To.AddDate(0, 0, 1).Unix()))
	}
	return strings.Join(where, " AND "), args
}

// shipmentBatch returns up to limit shipments of the account the filter
// selects beyond the cursor c, nearest first: older ones when below is true,
// newer ones otherwise.
func (db *DB) shipmentBatch(ctx context.Context, accountID int64, f ShipmentFilter, c Cursor, below bool, limit int) ([]keyport.Shipment, error) {
	where, args := shipmentWhere(accountID, f)
	cond, order := keyset(&args, "", "s.id", c, below)
	rows, err := db.query(ctx, `SELECT `+shipmentColumns+shipmentFrom+` WHERE `+where+cond+order+` LIMIT `+args.add(limit), args...)
	return collect(rows, err, scanShipment)
}

// ListShipments returns the page the filter asks for, perPage long, of the
// account's shipments the filter selects, newest first.
func (db *DB) ListShipments(ctx context.Context, accountID int64, f ShipmentFilter, perPage int) (ShipmentPage, error) {
	p := ShipmentPage{Filter: f}
	if err := db.queryRow(ctx, `SELECT CASE $1 WHEN 'live' THEN live_shipments ELSE test_shipments END FROM api_accounts WHERE id = $2`,
		f.Mode, accountID).Scan(&p.Total); err != nil {
		return p, err
	}
	var err error
	p.Page, err = LoadPage(f.Page, perPage, true, shipmentCursor,
		func(c Cursor, below bool, limit int) ([]keyport.Shipment, error) {
			return db.shipmentBatch(ctx, accountID, f, c, below, limit)
		})
	return p, err
}

// shipmentExportBatch is how many shipments ExportShipments reads at a time.
const shipmentExportBatch = 500

// ExportShipments calls fn with every shipment of the account the filter
// selects, newest first, whatever the filter's cursor. Like ExportAudit, it
// reads in batches and holds no query open while fn runs.
func (db *DB) ExportShipments(ctx context.Context, accountID int64, f ShipmentFilter, fn func(keyport.Shipment) error) error {
	var before Cursor
	for {
		batch, err := db.shipmentBatch(ctx, accountID, f, before, true, shipmentExportBatch)
		if err != nil {
			return err
		}
		for _, s := range batch {
			if err := fn(s); err != nil {
				return err
			}
		}
		if len(batch) < shipmentExportBatch {
			return nil
		}
		before = shipmentCursor(batch[len(batch)-1])
	}
}

// ShipmentOf returns one shipment of the merchant's API account.
func (db *DB) ShipmentOf(ctx context.Context, merchantID, accountID, shipmentID int64) (keyport.Shipment, error) {
	return scanShipment(db.queryRow(ctx, `SELECT `+shipmentColumns+shipmentFrom+`
		WHERE s.id = $1 AND s.account_id = $2 AND s.merchant_id = $3`, shipmentID, accountID, merchantID))
}

// CreateShipment stores a shipment of the merchant's API account as given,
// with its creation time now unless set.
func (db *DB) CreateShipment(ctx context.Context, in keyport.Shipment, keyID int64) (keyport.Shipment, error) {
	var out keyport.Shipment
	err := db.tx(ctx, "create shipment", func(tx *sql.Tx) error {
		if _, err := liveAccount(ctx, tx, in.MerchantID, in.AccountID); err != nil {
			return err
		}
		var err error
		out, err = insertShipment(ctx, tx, in, keyID, db.now())
		return err
	})
	return out, err
}

func insertShipment(ctx context.Context, tx *sql.Tx, in keyport.Shipment, keyID, now int64) (keyport.Shipment, error) {
	created := in.CreatedAt.Unix()
	if in.CreatedAt.IsZero() {
		created = now
	}
	var key any
	if keyID != 0 {
		key = keyID
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO shipments (account_id, merchant_id, mode, courier, service_code, status, tracking_number,
				label_ref, amount_minor, currency, from_postcode, from_country, to_postcode, to_country, weight_grams, key_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
		in.AccountID, in.MerchantID, in.Mode, in.Courier, in.ServiceCode, in.Status, in.TrackingNumber, in.LabelRef, in.AmountMinor,
		in.Currency, in.FromPostcode, in.FromCountry, in.ToPostcode, in.ToCountry, in.WeightGrams, key, created, created).Scan(&id)
	if err != nil {
		return keyport.Shipment{}, err
	}
	return scanShipment(tx.QueryRowContext(ctx, `SELECT `+shipmentColumns+shipmentFrom+` WHERE s.id = $1`, id))
}

// ShipWithKey creates a shipment through the API with key k: on k's API
// account and in k's mode, refused with a MissingAuthError unless the account
// has a registered auth for the courier whose Testing flag matches the mode.
// The shipment's creation is audited with the key as the actor. It returns
// the answer render makes of the new shipment, under idem as once does: a
// retried request gets the first answer again and creates nothing.
func (db *DB) ShipWithKey(ctx context.Context, k keyport.VerifiedKey, ip string, in keyport.Shipment, idem *keyport.Idempotency,
	render func(keyport.Shipment) (keyport.Answer, error)) (keyport.Answer, bool, error) {
	return db.once(ctx, fmt.Sprintf("create shipment with key %d", k.ID), idem, func(tx *sql.Tx) (keyport.Answer, error) {
		account, err := liveAccount(ctx, tx, k.MerchantID, k.AccountID)
		if err != nil {
			return keyport.Answer{}, err
		}
		var courierName string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM couriers WHERE code = $1`, in.Courier).Scan(&courierName); err != nil {
			return keyport.Answer{}, notFound(err)
		}
		var registered bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM registered_auths WHERE account_id = $1 AND courier = $2
				AND testing = $3 AND deleted_at IS NULL)`, k.AccountID, in.Courier, k.Mode == keyport.ModeTest).Scan(&registered); err != nil {
			return keyport.Answer{}, err
		}
		if !registered {
			return keyport.Answer{}, &keyport.MissingAuthError{CourierName: courierName, AccountName: account.Name, Mode: k.Mode}
		}
		in.AccountID, in.MerchantID, in.Mode = k.AccountID, k.MerchantID, k.Mode
		out, err := insertShipment(ctx, tx, in, k.ID, db.now())
		if err != nil {
			return keyport.Answer{}, err
		}
		if err := db.audit(ctx, tx, k.MerchantID, k.Actor(ip), keyport.AuditShipmentCreated, "shipment", out.ID,
			out.TrackingNumber+" "+out.CourierName+" "+out.ServiceName+" ("+string(out.Mode)+")"); err != nil {
			return keyport.Answer{}, err
		}
		return render(out)
	})
}

// KeyShipments returns up to limit shipments of an API account in one mode,
// newest first, with ids below before (0 for the newest), and whether more follow.
func (db *DB) KeyShipments(ctx context.Context, accountID int64, mode keyport.Mode, before int64, limit int) ([]keyport.Shipment, bool, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := db.query(ctx, `SELECT `+shipmentColumns+shipmentFrom+` WHERE s.account_id = $1 AND s.mode = $2 AND s.id < $3
		ORDER BY s.id DESC LIMIT $4`, accountID, mode, before, limit+1)
	list, err := collect(rows, err, scanShipment)
	if err != nil {
		return nil, false, err
	}
	more := len(list) > limit
	if more {
		list = list[:limit]
	}
	return list, more, nil
}

// KeyShipment returns one shipment of an API account in one mode.
func (db *DB) KeyShipment(ctx context.Context, accountID int64, mode keyport.Mode, shipmentID int64) (keyport.Shipment, error) {
	return scanShipment(db.queryRow(ctx, `SELECT `+shipmentColumns+shipmentFrom+`
		WHERE s.id = $1 AND s.account_id = $2 AND s.mode = $3`, shipmentID, accountID, mode))
}

// TrackShipment returns the shipment of an API account in one mode with the tracking number.
func (db *DB) TrackShipment(ctx context.Context, accountID int64, mode keyport.Mode, number string) (keyport.Shipment, error) {
	if !keyport.StorableText(number) {
		return keyport.Shipment{}, keyport.ErrNotFound
	}
	return scanShipment(db.queryRow(ctx, `SELECT `+shipmentColumns+shipmentFrom+`
		WHERE s.tracking_number = $1 AND s.account_id = $2 AND s.mode = $3`, number, accountID, mode))
}

// CancelShipment cancels a shipment of key k's account and mode that has not
// left yet (status created), audited with the key as the actor. Any other
// status is ErrConflict. It returns the answer render makes of the cancelled
// shipment, under idem as once does.
func (db *DB) CancelShipment(ctx context.Context, k keyport.VerifiedKey, ip string, shipmentID int64, idem *keyport.Idempotency,
	render func(keyport.Shipment) (keyport.Answer, error)) (keyport.Answer, bool, error) {
	return db.once(ctx, fmt.Sprintf("cancel shipment %d", shipmentID), idem, func(tx *sql.Tx) (keyport.Answer, error) {
		s, err := scanShipment(tx.QueryRowContext(ctx, `SELECT `+shipmentColumns+shipmentFrom+`
			WHERE s.id = $1 AND s.account_id = $2 AND s.mode = $3`, shipmentID, k.AccountID, k.Mode))
		if err != nil {
			return keyport.Answer{}, err
		}
		if s.Status != keyport.ShipmentCreated {
			return keyport.Answer{}, keyport.ErrConflict
		}
		now := db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE shipments SET status = 'cancelled', updated_at = $1 WHERE id = $2`, now, s.ID); err != nil {
			return keyport.Answer{}, err
		}
		s.Status, s.UpdatedAt = keyport.ShipmentCancelled, unixTime(now)
		if err := db.audit(ctx, tx, k.MerchantID, k.Actor(ip), keyport.AuditShipmentCancelled, "shipment", s.ID, s.TrackingNumber); err != nil {
			return keyport.Answer{}, err
		}
		return render(s)
	})
}
