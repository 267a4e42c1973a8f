package store

import (
	"context"
	"database/sql"

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

// ListShipments returns one page of the account's shipments of a mode, newest first.
func (db *DB) ListShipments(ctx context.Context, accountID int64, mode keyport.Mode, page int) (keyport.ShipmentPage, error) {
	p := keyport.ShipmentPage{Mode: mode, Page: max(1, page)}
	if err := db.queryRow(ctx, `SELECT CASE ? WHEN 'live' THEN live_shipments ELSE test_shipments END FROM api_accounts WHERE id = ?`,
		mode, accountID).Scan(&p.Total); err != nil {
		return p, err
	}
	p.Page = min(p.Page, p.LastPage())
	rows, err := db.query(ctx, `SELECT `+shipmentColumns+shipmentFrom+` WHERE s.account_id = ? AND s.mode = ?
		ORDER BY s.id DESC LIMIT ? OFFSET ?`, accountID, mode, keyport.ShipmentsPerPage, (p.Page-1)*keyport.ShipmentsPerPage)
	p.Shipments, err = collect(rows, err, scanShipment)
	return p, err
}

// ShipmentOf returns one shipment of the merchant's API account.
func (db *DB) ShipmentOf(ctx context.Context, merchantID, accountID, shipmentID int64) (keyport.Shipment, error) {
	return scanShipment(db.queryRow(ctx, `SELECT `+shipmentColumns+shipmentFrom+`
		WHERE s.id = ? AND s.account_id = ? AND s.merchant_id = ?`, shipmentID, accountID, merchantID))
}

// CreateShipment stores a shipment of the merchant's API account as given,
// with its creation time now unless set.
func (db *DB) CreateShipment(ctx context.Context, in keyport.Shipment, keyID int64) (keyport.Shipment, error) {
	var out keyport.Shipment
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := liveAccount(ctx, tx, in.MerchantID, in.AccountID); err != nil {
			return err
		}
		created := in.CreatedAt.Unix()
		if in.CreatedAt.IsZero() {
			created = db.now()
		}
		var key any
		if keyID != 0 {
			key = keyID
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO shipments (account_id, merchant_id, mode, courier, service_code, status, tracking_number,
				label_ref, amount_minor, currency, from_postcode, from_country, to_postcode, to_country, weight_grams, key_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.AccountID, in.MerchantID, in.Mode, in.Courier, in.ServiceCode, in.Status, in.TrackingNumber, in.LabelRef, in.AmountMinor,
			in.Currency, in.FromPostcode, in.FromCountry, in.ToPostcode, in.ToCountry, in.WeightGrams, key, created, created)
		if err != nil {
			return err
		}
		id, _ := r.LastInsertId()
		out, err = scanShipment(tx.QueryRowContext(ctx, `SELECT `+shipmentColumns+shipmentFrom+` WHERE s.id = ?`, id))
		return err
	})
	return out, err
}
