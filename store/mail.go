package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"keyport"
)

// Who receives a message about a merchant, a request or a key: conditions on
// users u, each with the arguments it takes.
const (
	toOwners    = `u.merchant_id = $1 AND u.role = 'owner'`
	toAdmins    = `u.role = 'admin'`
	toRequester = `u.id = (SELECT requested_by FROM live_key_requests WHERE id = $1)`
	// toKeyPeople is a key's creator and its merchant's Owners.
	toKeyPeople = `(u.id = (SELECT created_by FROM api_keys WHERE id = $1) OR (u.merchant_id = $2 AND u.role = 'owner'))`
)

// mailUsers writes, inside tx, a message of kind to every user who was not
// removed and whom the condition where (on users u, with args) selects,
// leaving out those who turned the kind's topic off. Each message's data is
// data with the recipient's name added.
func (db *DB) mailUsers(ctx context.Context, tx *sql.Tx, kind keyport.MessageKind, where string, args []any, data map[string]string) error {
	rows, err := tx.QueryContext(ctx, `SELECT u.email, u.name, u.mail_optout FROM users u WHERE u.removed_at IS NULL AND `+where+
		` ORDER BY u.id`, args...)
	type recipient struct{ email, name, optout string }
	list, err := collect(rows, err, func(row scanner) (recipient, error) {
		var r recipient
		err := row.Scan(&r.email, &r.name, &r.optout)
		return r, err
	})
	if err != nil {
		return err
	}
	for _, r := range list {
		if topic := kind.Topic(); topic != "" && slices.Contains(strings.Fields(r.optout), string(topic)) {
			continue
		}
		d := maps.Clone(data)
		d["name"] = r.name
		if err := db.enqueue(ctx, tx, kind, r.email, d); err != nil {
			return err
		}
	}
	return nil
}

// MailOptOuts returns the optional topics the user turned off.
func (db *DB) MailOptOuts(ctx context.Context, userID int64) ([]keyport.MailTopic, error) {
	var optout string
	if err := db.queryRow(ctx, `SELECT mail_optout FROM users WHERE id = $1 AND removed_at IS NULL`, userID).Scan(&optout); err != nil {
		return nil, notFound(err)
	}
	var topics []keyport.MailTopic
	for _, t := range strings.Fields(optout) {
		topics = append(topics, keyport.MailTopic(t))
	}
	return topics, nil
}

// SetMailOptOuts stores the optional topics the user turns off; every topic
// must be one of keyport.MailTopics.
func (db *DB) SetMailOptOuts(ctx context.Context, userID int64, off []keyport.MailTopic) error {
	names := make([]string, 0, len(off))
	for _, t := range keyport.MailTopics {
		if slices.Contains(off, t) {
			names = append(names, string(t))
		}
	}
	if len(names) != len(off) {
		return keyport.FieldError("topics", "Choose among the listed topics.")
	}
	r, err := db.exec(ctx, `UPDATE users SET mail_optout = $1 WHERE id = $2 AND removed_at IS NULL`, strings.Join(names, " "), userID)
	if err != nil {
		return fmt.Errorf("store: set email preferences of user %d: %w", userID, err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return keyport.ErrNotFound
	}
	return nil
}

// keyMailData is what a message about a key says of it: never its secret.
func keyMailData(k keyport.APIKey) map[string]string {
	d := map[string]string{"key": k.Redacted(), "key_name": k.Name, "account": k.AccountName,
		"account_id": strconv.FormatInt(k.AccountID, 10), "mode": string(k.Mode)}
	if !k.ExpiresAt.IsZero() {
		d["expires"] = k.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return d
}

// reminderLabel names an expiry reminder threshold in key_reminders: "7d", "1d".
func reminderLabel(before time.Duration) string {
	return strconv.Itoa(int(before/(24*time.Hour))) + "d"
}

// SendExpiryReminders writes, once per key and threshold, the reminder of
// every key that expires within one of keyport.ExpiryReminders, to its
// creator and its merchant's Owners. A key inside several thresholds gets
// the reminder of the shortest only, and the longer ones count as sent. It
// returns how many keys it reminded of.
func (db *DB) SendExpiryReminders(ctx context.Context) (int, error) {
	longest := keyport.ExpiryReminders[0]
	var args sqlArgs
	var unsent []string
	for _, before := range keyport.ExpiryReminders {
		unsent = append(unsent, `(k.expires_at <= `+args.add(db.Now().Add(before).Unix())+` AND NOT EXISTS (
			SELECT 1 FROM key_reminders r WHERE r.key_id = k.id AND r.threshold = `+args.add(reminderLabel(before))+`))`)
	}
	var due int
	if err := db.queryRow(ctx, `SELECT count(*) FROM api_keys k WHERE k.revoked_at IS NULL AND k.expires_at > `+args.add(db.now())+
		` AND (`+strings.Join(unsent, " OR ")+`)`, args...).Scan(&due); err != nil || due == 0 {
		return 0, err
	}
	var reminded int
	err := db.tx(ctx, "send key expiry reminders", func(tx *sql.Tx) error {
		now := db.Now()
		rows, err := tx.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
			WHERE k.revoked_at IS NULL AND k.expires_at > $1 AND k.expires_at <= $2 ORDER BY k.id`, now.Unix(), now.Add(longest).Unix())
		keys, err := collect(rows, err, scanKey)
		if err != nil {
			return err
		}
		for _, k := range keys {
			sent, err := db.remindersSent(ctx, tx, k.ID)
			if err != nil {
				return err
			}
			var due []string
			for _, before := range keyport.ExpiryReminders {
				if k.ExpiresAt.Sub(now) <= before && !sent[reminderLabel(before)] {
					due = append(due, reminderLabel(before))
				}
			}
			if len(due) == 0 {
				continue
			}
			for _, label := range due {
				if _, err := tx.ExecContext(ctx, `INSERT INTO key_reminders (key_id, threshold, created_at) VALUES ($1, $2, $3)`,
					k.ID, label, now.Unix()); err != nil {
					return err
				}
			}
			if err := db.mailUsers(ctx, tx, keyport.MessageKeyExpiring, toKeyPeople, []any{k.ID, k.MerchantID}, keyMailData(k)); err != nil {
				return err
			}
			data := keyEventData(k)
			data["reminder"] = due[len(due)-1]
			if err := db.emit(ctx, tx, k.MerchantID, keyport.SystemActor, keyport.EventKeyExpiring, data); err != nil {
				return err
			}
			reminded++
		}
		return nil
	})
	return reminded, err
}

// remindersSent returns the thresholds of the reminders already sent for a key.
func (db *DB) remindersSent(ctx context.Context, tx *sql.Tx, keyID int64) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT threshold FROM key_reminders WHERE key_id = $1`, keyID)
	labels, err := collect(rows, err, func(row scanner) (string, error) {
		var l string
		err := row.Scan(&l)
		return l, err
	})
	sent := make(map[string]bool, len(labels))
	for _, l := range labels {
		sent[l] = true
	}
	return sent, err
}
