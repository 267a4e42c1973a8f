package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"keyport"
)

// FileRequest files a live key request. It is refused when the account's active
// live secret keys plus approved-but-unissued requests already reach the cap.
func (db *DB) FileRequest(ctx context.Context, actor keyport.Actor, merchantID, accountID int64, in keyport.LiveKeyRequestInput, shipments int) (keyport.LiveKeyRequest, error) {
	var req keyport.LiveKeyRequest
	err := db.tx(ctx, fmt.Sprintf("file live key request in API account %d", accountID), func(tx *sql.Tx) error {
		if _, err := accountForChange(ctx, tx, merchantID, accountID); err != nil {
			return err
		}
		if actor.UserID != 0 {
			var verified bool
			if err := tx.QueryRowContext(ctx, `SELECT email_verified_at IS NOT NULL FROM users WHERE id = $1`, actor.UserID).Scan(&verified); err != nil {
				return notFound(err)
			}
			if !verified {
				return keyport.ErrEmailUnverified
			}
		}
		now := db.now()
		st, err := capStatus(ctx, tx, accountID, keyport.ModeLive, 0, now)
		if err != nil {
			return err
		}
		if err := st.Check(); err != nil {
			return err
		}
		var by any
		if actor.UserID != 0 {
			by = actor.UserID
		}
		access := in.Access
		defaults := keyport.NewKey{Type: access.Type, Access: access.Access}.WithDefaults()
		access.Type, access.Access = defaults.Type, defaults.Access
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO live_key_requests (account_id, merchant_id, requested_by, requested_by_label, token_name,
				intended_use, website, monthly_shipments, key_type, access, permissions, suppress_costs, state, created_at, updated_at,
				allowed_origins)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13, $14, $15) RETURNING id`,
			accountID, merchantID, by, actor.Label, strings.TrimSpace(in.TokenName), strings.TrimSpace(in.IntendedUse),
			strings.TrimSpace(in.Website), shipments, access.Type, access.Access, strings.Join(access.Permissions, " "),
			access.SuppressCosts, now, now, strings.Join(access.AllowedOrigins, " ")).Scan(&id)
		if err != nil {
			return err
		}
		if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditRequestFiled, "live_key_request", id, in.TokenName); err != nil {
			return err
		}
		if req, err = requestByID(ctx, tx, id); err != nil {
			return err
		}
		if err := db.emit(ctx, tx, merchantID, actor, keyport.EventLiveRequestFiled, requestEventData(req)); err != nil {
			return err
		}
		return db.mailUsers(ctx, tx, keyport.MessageRequestFiled, toAdmins, nil, requestMailData(req))
	})
	return req, err
}

const requestColumns = `r.id, r.account_id, a.name, r.merchant_id, m.name, r.requested_by_label, r.token_name, r.intended_use, r.website,
	r.monthly_shipments, r.key_type, r.access, r.permissions, r.suppress_costs, r.state, r.question, r.reply, r.reject_reason,
	r.decided_by_label, COALESCE(r.issued_key_id, 0), r.created_at, r.updated_at, r.allowed_origins`

const requestFrom = ` FROM live_key_requests r JOIN api_accounts a ON a.id = r.account_id JOIN merchants m ON m.id = r.merchant_id`

func scanRequest(row scanner, extra ...any) (keyport.LiveKeyRequest, error) {
	var r keyport.LiveKeyRequest
	var perms, origins string
	var created, updated int64
	dest := []any{&r.ID, &r.AccountID, &r.AccountName, &r.MerchantID, &r.MerchantName, &r.RequestedBy, &r.TokenName, &r.IntendedUse,
		&r.Website, &r.MonthlyShipments, &r.KeyType, &r.Access, &perms, &r.SuppressCosts, &r.State, &r.Question, &r.Reply,
		&r.RejectReason, &r.DecidedBy, &r.IssuedKeyID, &created, &updated, &origins}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return r, notFound(err)
	}
	if perms != "" {
		r.Permissions = strings.Fields(perms)
	}
	if origins != "" {
		r.AllowedOrigins = strings.Fields(origins)
	}
	r.CreatedAt = unixTime(created)
	r.UpdatedAt = unixTime(updated)
	return r, nil
}

// scanOneRequest scans a request row without extra columns, for collect.
func scanOneRequest(row scanner) (keyport.LiveKeyRequest, error) { return scanRequest(row) }

func requestByID(ctx context.Context, q queryer, id int64) (keyport.LiveKeyRequest, error) {
	return scanRequest(q.QueryRowContext(ctx, `SELECT `+requestColumns+requestFrom+` WHERE r.id = $1`, id))
}

// RequestOf returns one live key request of the merchant's account.
func (db *DB) RequestOf(ctx context.Context, merchantID, accountID, requestID int64) (keyport.LiveKeyRequest, error) {
	r, err := requestByID(ctx, cached{db}, requestID)
	if err != nil {
		return r, err
	}
	if r.MerchantID != merchantID || r.AccountID != accountID {
		return keyport.LiveKeyRequest{}, keyport.ErrNotFound
	}
	return r, nil
}

// RequestByID returns any live key request, for the API team.
func (db *DB) RequestByID(ctx context.Context, requestID int64) (keyport.RequestWithActivity, error) {
	return scanRequestWithActivity(db.queryRow(ctx, `SELECT `+requestColumns+`, `+activityColumns+requestFrom+` WHERE r.id = $1`, requestID))
}

const activityColumns = `a.created_at, a.test_keys, a.test_calls, a.test_shipments`

func scanRequestWithActivity(row scanner) (keyport.RequestWithActivity, error) {
	var out keyport.RequestWithActivity
	var accountCreated int64
	r, err := scanRequest(row, &accountCreated, &out.Activity.TestKeys, &out.Activity.TestCalls, &out.Activity.TestShipments)
	if err != nil {
		return out, err
	}
	out.LiveKeyRequest = r
	out.Activity.AccountCreated = unixTime(accountCreated)
	return out, nil
}

// CountPendingRequests returns how many requests wait for the API team's first
// look, counting no further than upTo, since every admin page shows it.
func (db *DB) CountPendingRequests(ctx context.Context, upTo int) (int, error) {
	var n int
	err := db.queryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM live_key_requests WHERE state = 'pending' LIMIT $1) AS q`,
		upTo).Scan(&n)
	return n, err
}

// moveRequest changes a request's state inside tx when the state machine allows it.
// Every move replaces the request's notice: the new state gives one or none,
// and a state that gives one is also emailed to the requester.
func (db *DB) moveRequest(ctx context.Context, tx *sql.Tx, actor keyport.Actor, r keyport.LiveKeyRequest, to keyport.RequestState, action keyport.AuditAction, detail string, set ...columnValue) error {
	if !keyport.CanMove(r.State, to) {
		return keyport.ErrIllegalTransition
	}
	var args sqlArgs
	query := `UPDATE live_key_requests SET state = ` + args.add(to) + `, updated_at = ` + args.add(db.now()) +
		`, notify_merchant = ` + args.add(to.NotifiesMerchant())
	for _, s := range set {
		query += ", " + s.column + " = " + args.add(s.value)
	}
	query += ` WHERE id = ` + args.add(r.ID) + ` AND state = ` + args.add(r.State)
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return keyport.ErrIllegalTransition
	}
	if err := db.audit(ctx, tx, r.MerchantID, actor, action, "live_key_request", r.ID, detail); err != nil {
		return err
	}
	if event := keyport.RequestEvent(to); event != "" {
		data := requestEventData(r)
		if to != keyport.RequestApproved {
			data["text"] = detail
		}
		if err := db.emit(ctx, tx, r.MerchantID, actor, event, data); err != nil {
			return err
		}
	}
	if !to.NotifiesMerchant() {
		return nil
	}
	data := requestMailData(r)
	data["state"] = string(to)
	if to != keyport.RequestApproved {
		data["text"] = detail
	}
	return db.mailUsers(ctx, tx, keyport.MessageRequestAnswered, toRequester, []any{r.ID}, data)
}

// requestMailData is what a message about a live key request says of it.
func requestMailData(r keyport.LiveKeyRequest) map[string]string {
	return map[string]string{"request_id": strconv.FormatInt(r.ID, 10), "token_name": r.TokenName, "account": r.AccountName,
		"account_id": strconv.FormatInt(r.AccountID, 10), "merchant": r.MerchantName, "requested_by": r.RequestedBy}
}

func (db *DB) changeRequest(ctx context.Context, op string, requestID int64, merchantID int64, fn func(tx *sql.Tx, r keyport.LiveKeyRequest) error) error {
	return db.tx(ctx, op, func(tx *sql.Tx) error {
		r, err := requestOf(ctx, tx, requestID, merchantID)
		if err != nil {
			return err
		}
		return fn(tx, r)
	})
}

// requestOf loads a request inside tx; a request of another merchant than
// merchantID (when not 0, the API team's view) is ErrNotFound.
func requestOf(ctx context.Context, tx *sql.Tx, requestID, merchantID int64) (keyport.LiveKeyRequest, error) {
	r, err := requestByID(ctx, tx, requestID)
	if err != nil {
		return r, err
	}
	if merchantID != 0 && r.MerchantID != merchantID {
		return keyport.LiveKeyRequest{}, keyport.ErrNotFound
	}
	return r, nil
}

// ApproveRequest is the API team approving a pending request. The approval
// takes one of the account's live cap slots until the key is issued, so it is
// refused with a CapError (Approving set) when none is left.
func (db *DB) ApproveRequest(ctx context.Context, actor keyport.Actor, requestID int64) error {
	return db.changeRequest(ctx, fmt.Sprintf("approve live key request %d", requestID), requestID, 0, func(tx *sql.Tx, r keyport.LiveKeyRequest) error {
		if r.State == keyport.RequestPending {
			st, err := capStatus(ctx, tx, r.AccountID, keyport.ModeLive, r.ID, db.now())
			if err != nil {
				return err
			}
			var ce *keyport.CapError
			if err := st.Check(); errors.As(err, &ce) {
				ce.Approving = true
				return ce
			}
		}
		return db.moveRequest(ctx, tx, actor, r, keyport.RequestApproved, keyport.AuditRequestApproved, r.TokenName,
			columnValue{"decided_by_label", actor.Label})
	})
}

// RejectRequest is the API team rejecting a request with a reason.
func (db *DB) RejectRequest(ctx context.Context, actor keyport.Actor, requestID int64, reason string) error {
	return db.changeRequest(ctx, fmt.Sprintf("reject live key request %d", requestID), requestID, 0, func(tx *sql.Tx, r keyport.LiveKeyRequest) error {
		return db.moveRequest(ctx, tx, actor, r, keyport.RequestRejected, keyport.AuditRequestRejected, reason,
			columnValue{"reject_reason", reason}, columnValue{"decided_by_label", actor.Label})
	})
}

// AskForInfo is the API team asking the merchant a question about a pending request.
func (db *DB) AskForInfo(ctx context.Context, actor keyport.Actor, requestID int64, question string) error {
	return db.changeRequest(ctx, fmt.Sprintf("ask about live key request %d", requestID), requestID, 0, func(tx *sql.Tx, r keyport.LiveKeyRequest) error {
		return db.moveRequest(ctx, tx, actor, r, keyport.RequestNeedsInfo, keyport.AuditRequestInfoRequested, question,
			columnValue{"question", question}, columnValue{"reply", ""})
	})
}

// AnswerRequest is the merchant replying to the API team's question; the request goes back to pending.
func (db *DB) AnswerRequest(ctx context.Context, actor keyport.Actor, merchantID, accountID, requestID int64, reply string) error {
	return db.changeRequest(ctx, fmt.Sprintf("answer live key request %d", requestID), requestID, merchantID, func(tx *sql.Tx, r keyport.LiveKeyRequest) error {
		if r.AccountID != accountID {
			return keyport.ErrNotFound
		}
		return db.moveRequest(ctx, tx, actor, r, keyport.RequestPending, keyport.AuditRequestAnswered, reply, columnValue{"reply", reply})
	})
}

// CancelRequest is the merchant withdrawing a request that is still open.
func (db *DB) CancelRequest(ctx context.Context, actor keyport.Actor, merchantID, accountID, requestID int64) error {
	return db.changeRequest(ctx, fmt.Sprintf("cancel live key request %d", requestID), requestID, merchantID, func(tx *sql.Tx, r keyport.LiveKeyRequest) error {
		if r.AccountID != accountID {
			return keyport.ErrNotFound
		}
		return db.moveRequest(ctx, tx, actor, r, keyport.RequestCancelled, keyport.AuditRequestCancelled, r.TokenName)
	})
}

// IssueLiveKey mints the live key of an approved request and marks it issued,
// in one transaction; it works once.
func (db *DB) IssueLiveKey(ctx context.Context, actor keyport.Actor, merchantID, accountID, requestID int64) (CreatedKey, error) {
	var out CreatedKey
	err := db.keyTx(ctx, fmt.Sprintf("issue live key of request %d", requestID), func(tx *sql.Tx, changes *[]keyport.KeyChange) error {
		r, err := requestOf(ctx, tx, requestID, merchantID)
		if err != nil {
			return err
		}
		if r.AccountID != accountID {
			return keyport.ErrNotFound
		}
		if !keyport.CanMove(r.State, keyport.RequestIssued) {
			return keyport.ErrIllegalTransition
		}
		out, err = db.createKey(ctx, tx, changes, actor, keyport.NewKey{AccountID: r.AccountID, MerchantID: r.MerchantID, Type: r.KeyType,
			Mode: keyport.ModeLive, Name: r.TokenName, Access: r.Access, Permissions: r.Permissions, SuppressCosts: r.SuppressCosts,
			RequestID: r.ID, AllowedOrigins: r.AllowedOrigins})
		if err != nil {
			return err
		}
		return db.moveRequest(ctx, tx, actor, r, keyport.RequestIssued, keyport.AuditRequestIssued, out.Key.Redacted(), columnValue{"issued_key_id", out.Key.ID})
	})
	return out, err
}

// RequestNotices returns the merchant's request notices that still apply and
// nobody dismissed, oldest first. Reading them changes nothing.
func (db *DB) RequestNotices(ctx context.Context, merchantID int64) ([]keyport.LiveKeyRequest, error) {
	rows, err := db.query(ctx, `SELECT `+requestColumns+requestFrom+` WHERE r.merchant_id = $1 AND r.notify_merchant = TRUE ORDER BY r.id`, merchantID)
	return collect(rows, err, scanOneRequest)
}

// DismissRequestNotice hides the notice of one of the merchant's requests for
// everyone of the merchant. Dismissing twice is no error; a request of another
// merchant is ErrNotFound.
func (db *DB) DismissRequestNotice(ctx context.Context, merchantID, requestID int64) error {
	res, err := db.exec(ctx, `UPDATE live_key_requests SET notify_merchant = FALSE WHERE id = $1 AND merchant_id = $2`, requestID, merchantID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return keyport.ErrNotFound
	}
	return nil
}
