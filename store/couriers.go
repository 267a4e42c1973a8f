package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"keyport"
)

// Couriers returns the courier catalog in display order, each with its fields and presets.
func (db *DB) Couriers(ctx context.Context) ([]keyport.Courier, error) {
	rows, err := db.query(ctx, `SELECT code, name FROM couriers ORDER BY position, code`)
	list, err := collect(rows, err, func(row scanner) (keyport.Courier, error) {
		var c keyport.Courier
		err := row.Scan(&c.Code, &c.Name)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	index := make(map[string]*keyport.Courier, len(list))
	for i := range list {
		index[list[i].Code] = &list[i]
	}
	rows, err = db.query(ctx, `SELECT courier, name, label, secret, required, hint FROM courier_fields ORDER BY courier, position, name`)
	if err != nil {
		return nil, err
	}
	if err := eachRow(rows, func(row scanner) error {
		var code string
		var f keyport.CourierField
		if err := row.Scan(&code, &f.Name, &f.Label, &f.Secret, &f.Required, &f.Hint); err != nil {
			return err
		}
		if c := index[code]; c != nil {
			c.Fields = append(c.Fields, f)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	rows, err = db.query(ctx, `SELECT courier, service_code, name, weight_grams, length_cm, width_cm, height_cm, base_price_minor, currency,
			max_weight_grams, max_length_cm
		FROM courier_presets ORDER BY courier, position, service_code`)
	if err != nil {
		return nil, err
	}
	err = eachRow(rows, func(row scanner) error {
		var code string
		var p keyport.Preset
		if err := row.Scan(&code, &p.ServiceCode, &p.Name, &p.WeightGrams, &p.LengthCM, &p.WidthCM, &p.HeightCM, &p.BasePriceMinor, &p.Currency,
			&p.MaxWeightGrams, &p.MaxLengthCM); err != nil {
			return err
		}
		if c := index[code]; c != nil {
			c.Presets = append(c.Presets, p)
		}
		return nil
	})
	return list, err
}

// Courier returns one courier of the catalog; an unknown code is ErrNotFound.
func (db *DB) Courier(ctx context.Context, code string) (keyport.Courier, error) {
	list, err := db.Couriers(ctx)
	if err != nil {
		return keyport.Courier{}, err
	}
	for _, c := range list {
		if c.Code == code {
			return c, nil
		}
	}
	return keyport.Courier{}, keyport.ErrNotFound
}

// eachRow calls fn for every row, closing the rows.
func eachRow(rows *sql.Rows, fn func(scanner) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// errNoSealer refuses to store or reveal courier secrets, and to read outbox messages, without an encryption key.
var errNoSealer = errors.New("store: no encryption key configured for secrets at rest")

func authContext(id int64) string { return fmt.Sprintf("registered_auth/%d", id) }

// RegisterAuth stores courier credentials on the merchant's API account: the
// non-secret fields as they are, the secret ones sealed with the store's
// Sealer. The submission must already be validated against c. A second auth for
// the same courier, company and mode is a ValidationError on "company".
func (db *DB) RegisterAuth(ctx context.Context, actor keyport.Actor, merchantID, accountID int64, c keyport.Courier, in keyport.NewAuth) (keyport.RegisteredAuth, error) {
	var out keyport.RegisteredAuth
	if db.Sealer == nil {
		return out, errNoSealer
	}
	plain := map[string]string{}
	secret := map[string]string{}
	var secretNames []string
	for _, f := range c.Fields {
		v := in.Values[f.Name]
		if v == "" {
			continue
		}
		if f.Secret {
			secret[f.Name] = v
			secretNames = append(secretNames, f.Name)
		} else {
			plain[f.Name] = v
		}
	}
	plainJSON, err := json.Marshal(plain)
	if err != nil {
		return out, err
	}
	secretJSON, err := json.Marshal(secret)
	if err != nil {
		return out, err
	}
	err = db.tx(ctx, fmt.Sprintf("register auth in API account %d", accountID), func(tx *sql.Tx) error {
		if _, err := liveAccount(ctx, tx, merchantID, accountID); err != nil {
			return err
		}
		now := db.now()
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO registered_auths (account_id, merchant_id, courier, company, testing, fields,
				secret_names, created_by_label, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			accountID, merchantID, c.Code, in.Company, in.IsTesting(), string(plainJSON), strings.Join(secretNames, " "), actor.Label, now).Scan(&id)
		if isUniqueViolation(err) {
			return keyport.FieldError("company", "This API account already has a "+c.Name+" auth for this company in this mode.")
		}
		if err != nil {
			return err
		}
		sealed, err := db.Sealer.Seal(secretJSON, authContext(id))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registered_auths SET secrets = $1 WHERE id = $2`, sealed, id); err != nil {
			return err
		}
		if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditAuthRegistered, "registered_auth", id, authLabel(c.Name, in.Company, in.IsTesting())); err != nil {
			return err
		}
		out = keyport.RegisteredAuth{ID: id, AccountID: accountID, MerchantID: merchantID, Courier: c, Company: in.Company,
			Testing: in.IsTesting(), Values: plain, SecretsSet: setOf(secretNames), CreatedBy: actor.Label, CreatedAt: unixTime(now)}
		return nil
	})
	return out, err
}

func authLabel(courier, company string, testing bool) string {
	mode := "live"
	if testing {
		mode = "testing"
	}
	return courier + " · " + company + " (" + mode + ")"
}

func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

type authRow struct {
	auth        keyport.RegisteredAuth
	courier     string
	fields      string
	secretNames string
}

const authColumns = `id, account_id, merchant_id, courier, company, testing, fields, secret_names, created_by_label, created_at`

func scanAuthRow(row scanner) (authRow, error) {
	var r authRow
	var created int64
	err := row.Scan(&r.auth.ID, &r.auth.AccountID, &r.auth.MerchantID, &r.courier, &r.auth.Company, &r.auth.Testing, &r.fields,
		&r.secretNames, &r.auth.CreatedBy, &created)
	r.auth.CreatedAt = unixTime(created)
	return r, notFound(err)
}

// ListAuths returns the registered auths of the merchant's API account, by
// courier then company, with the catalog entry of each courier. Secret values
// are not loaded.
func (db *DB) ListAuths(ctx context.Context, merchantID, accountID int64) ([]keyport.RegisteredAuth, error) {
	rows, err := db.query(ctx, `SELECT `+authColumns+` FROM registered_auths
		WHERE account_id = $1 AND merchant_id = $2 AND deleted_at IS NULL ORDER BY id`, accountID, merchantID)
	list, err := collect(rows, err, scanAuthRow)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	couriers, err := db.Couriers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]keyport.RegisteredAuth, 0, len(list))
	for _, r := range list {
		a := r.auth
		for _, c := range couriers {
			if c.Code == r.courier {
				a.Courier = c
			}
		}
		if err := json.Unmarshal([]byte(r.fields), &a.Values); err != nil {
			return nil, fmt.Errorf("registered auth %d fields: %w", a.ID, err)
		}
		a.SecretsSet = setOf(strings.Fields(r.secretNames))
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Courier.Name != out[j].Courier.Name {
			return out[i].Courier.Name < out[j].Courier.Name
		}
		return strings.ToLower(out[i].Company) < strings.ToLower(out[j].Company)
	})
	return out, nil
}

// Auth returns one registered auth of the merchant's API account with its
// courier's catalog entry; secret values are not loaded.
func (db *DB) Auth(ctx context.Context, merchantID, accountID, authID int64) (keyport.RegisteredAuth, error) {
	r, err := scanAuthRow(db.queryRow(ctx, `SELECT `+authColumns+` FROM registered_auths
		WHERE id = $1 AND account_id = $2 AND merchant_id = $3 AND deleted_at IS NULL`, authID, accountID, merchantID))
	if err != nil {
		return keyport.RegisteredAuth{}, err
	}
	a := r.auth
	if a.Courier, err = db.Courier(ctx, r.courier); err != nil {
		return keyport.RegisteredAuth{}, err
	}
	if err := json.Unmarshal([]byte(r.fields), &a.Values); err != nil {
		return keyport.RegisteredAuth{}, fmt.Errorf("registered auth %d fields: %w", a.ID, err)
	}
	a.SecretsSet = setOf(strings.Fields(r.secretNames))
	return a, nil
}

// UpdateAuth changes the Company, Testing flag and field values of a
// registered auth of the merchant's API account, whose courier c stays; the
// submission must already be validated against c. A secret field left blank
// keeps its sealed value, a filled one replaces it, sealed like at
// registration, and counts as changed without being compared, so that no
// answer tells whether a guess matched. It returns the auth as saved and the
// labels of the fields that changed; a change is audited with them (never
// with a value), and no change writes nothing. Another auth with the same
// courier, company and mode is a ValidationError on "company", as at
// registration.
func (db *DB) UpdateAuth(ctx context.Context, actor keyport.Actor, merchantID, accountID, authID int64, c keyport.Courier, in keyport.NewAuth) (keyport.RegisteredAuth, []string, error) {
	var out keyport.RegisteredAuth
	var changed []string
	err := db.tx(ctx, fmt.Sprintf("update auth %d", authID), func(tx *sql.Tx) error {
		if _, err := liveAccount(ctx, tx, merchantID, accountID); err != nil {
			return err
		}
		r, err := scanAuthRow(tx.QueryRowContext(ctx, `SELECT `+authColumns+` FROM registered_auths
			WHERE id = $1 AND account_id = $2 AND merchant_id = $3 AND deleted_at IS NULL`, authID, accountID, merchantID))
		if err != nil {
			return err
		}
		if r.courier != c.Code {
			return fmt.Errorf("store: auth %d is a %s auth, not %s", authID, r.courier, c.Code)
		}
		old := map[string]string{}
		if err := json.Unmarshal([]byte(r.fields), &old); err != nil {
			return fmt.Errorf("registered auth %d fields: %w", authID, err)
		}
		if in.Company != r.auth.Company {
			changed = append(changed, "Company")
		}
		if in.IsTesting() != r.auth.Testing {
			changed = append(changed, "Testing")
		}
		plain := map[string]string{}
		replaced := map[string]string{}
		for _, f := range c.Fields {
			v := in.Values[f.Name]
			switch {
			case f.Secret && v != "":
				replaced[f.Name] = v
				changed = append(changed, f.Label)
			case !f.Secret:
				if v != "" {
					plain[f.Name] = v
				}
				if v != old[f.Name] {
					changed = append(changed, f.Label)
				}
			}
		}
		out = r.auth
		out.Courier, out.Company, out.Testing, out.Values = c, in.Company, in.IsTesting(), plain
		out.SecretsSet = setOf(strings.Fields(r.secretNames))
		if len(changed) == 0 {
			return nil
		}
		plainJSON, err := json.Marshal(plain)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE registered_auths SET company = $1, testing = $2, fields = $3 WHERE id = $4`,
			in.Company, in.IsTesting(), string(plainJSON), authID)
		if isUniqueViolation(err) {
			return keyport.FieldError("company", "This API account already has a "+c.Name+" auth for this company in this mode.")
		}
		if err != nil {
			return err
		}
		if len(replaced) > 0 {
			names, err := db.replaceAuthSecrets(ctx, tx, authID, c, replaced)
			if err != nil {
				return err
			}
			out.SecretsSet = setOf(names)
		}
		detail := authLabel(c.Name, in.Company, in.IsTesting())
		if was := authLabel(c.Name, r.auth.Company, r.auth.Testing); was != detail {
			detail = was + " → " + detail
		}
		return db.audit(ctx, tx, merchantID, actor, keyport.AuditAuthUpdated, "registered_auth", authID,
			detail+": "+strings.Join(changed, ", "))
	})
	return out, changed, err
}

// replaceAuthSecrets opens the sealed secrets of an auth, replaces the ones
// in replaced, seals them again and returns the names of the secret fields
// the auth now holds, in the courier's field order.
func (db *DB) replaceAuthSecrets(ctx context.Context, tx *sql.Tx, authID int64, c keyport.Courier, replaced map[string]string) ([]string, error) {
	if db.Sealer == nil {
		return nil, errNoSealer
	}
	var sealed []byte
	if err := tx.QueryRowContext(ctx, `SELECT secrets FROM registered_auths WHERE id = $1`, authID).Scan(&sealed); err != nil {
		return nil, err
	}
	secrets := map[string]string{}
	if sealed != nil {
		plain, err := db.Sealer.Open(sealed, authContext(authID))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(plain, &secrets); err != nil {
			return nil, err
		}
	}
	for name, v := range replaced {
		secrets[name] = v
	}
	secretJSON, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	resealed, err := db.Sealer.Seal(secretJSON, authContext(authID))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range c.Fields {
		if secrets[f.Name] != "" {
			names = append(names, f.Name)
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE registered_auths SET secrets = $1, secret_names = $2 WHERE id = $3`,
		resealed, strings.Join(names, " "), authID)
	return names, err
}

// RevealAuthSecret decrypts one secret field of a registered auth of the
// merchant's API account and records that it was revealed (never the value).
// It returns the field, as the catalog describes it, and its value.
func (db *DB) RevealAuthSecret(ctx context.Context, actor keyport.Actor, merchantID, accountID, authID int64, field string) (keyport.CourierField, string, error) {
	f := keyport.CourierField{Name: field, Secret: true}
	if !keyport.StorableText(field) {
		return f, "", keyport.ErrNotFound
	}
	if db.Sealer == nil {
		return f, "", errNoSealer
	}
	var value string
	err := db.tx(ctx, fmt.Sprintf("reveal secret of auth %d", authID), func(tx *sql.Tx) error {
		var courier, company, names string
		var testing bool
		var sealed []byte
		err := tx.QueryRowContext(ctx, `SELECT c.name, r.company, r.testing, r.secret_names, r.secrets, f.label, f.required, f.hint
			FROM registered_auths r JOIN couriers c ON c.code = r.courier
			JOIN courier_fields f ON f.courier = r.courier AND f.name = $1 AND f.secret = TRUE
			WHERE r.id = $2 AND r.account_id = $3 AND r.merchant_id = $4 AND r.deleted_at IS NULL`, field, authID, accountID, merchantID).
			Scan(&courier, &company, &testing, &names, &sealed, &f.Label, &f.Required, &f.Hint)
		if err != nil {
			return notFound(err)
		}
		if !setOf(strings.Fields(names))[field] {
			return keyport.ErrNotFound
		}
		plain, err := db.Sealer.Open(sealed, authContext(authID))
		if err != nil {
			return err
		}
		var secrets map[string]string
		if err := json.Unmarshal(plain, &secrets); err != nil {
			return err
		}
		value = secrets[field]
		return db.audit(ctx, tx, merchantID, actor, keyport.AuditAuthSecretRevealed, "registered_auth", authID,
			authLabel(courier, company, testing)+": "+f.Label)
	})
	return f, value, err
}

// DeleteAuth removes a registered auth of the merchant's API account and
// returns how it was named ("DPD · Acme Ltd (testing)"): its sealed secrets
// are erased and the row stays, hidden, for the audit trail.
func (db *DB) DeleteAuth(ctx context.Context, actor keyport.Actor, merchantID, accountID, authID int64) (string, error) {
	var label string
	err := db.tx(ctx, fmt.Sprintf("delete auth %d", authID), func(tx *sql.Tx) error {
		var courier, company string
		var testing bool
		err := tx.QueryRowContext(ctx, `SELECT c.name, r.company, r.testing FROM registered_auths r JOIN couriers c ON c.code = r.courier
			WHERE r.id = $1 AND r.account_id = $2 AND r.merchant_id = $3 AND r.deleted_at IS NULL`, authID, accountID, merchantID).
			Scan(&courier, &company, &testing)
		if err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registered_auths SET deleted_at = $1, secrets = NULL WHERE id = $2`, db.now(), authID); err != nil {
			return err
		}
		label = authLabel(courier, company, testing)
		return db.audit(ctx, tx, merchantID, actor, keyport.AuditAuthDeleted, "registered_auth", authID, label)
	})
	return label, err
}
