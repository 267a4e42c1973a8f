package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"keyport"
)

// TeamMembers returns the merchant's members who were not removed, oldest first.
func (db *DB) TeamMembers(ctx context.Context, merchantID int64) ([]keyport.User, error) {
	rows, err := db.query(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
		WHERE u.merchant_id = $1 AND u.removed_at IS NULL ORDER BY u.id`, merchantID)
	return collect(rows, err, func(row scanner) (keyport.User, error) { return scanUser(row) })
}

const invitationColumns = `i.id, i.merchant_id, m.name, i.email, i.role, i.invited_by_label, i.created_at, i.expires_at,
	m.disabled_at IS NOT NULL`

func scanInvitation(row scanner) (keyport.Invitation, error) {
	var in keyport.Invitation
	var created, expires int64
	err := row.Scan(&in.ID, &in.MerchantID, &in.MerchantName, &in.Email, &in.Role, &in.InvitedBy, &created, &expires, &in.MerchantDisabled)
	in.CreatedAt, in.ExpiresAt = unixTime(created), unixTime(expires)
	return in, notFound(err)
}

// PendingInvitations returns the merchant's invitations not accepted, revoked or expired.
func (db *DB) PendingInvitations(ctx context.Context, merchantID int64) ([]keyport.Invitation, error) {
	rows, err := db.query(ctx, `SELECT `+invitationColumns+` FROM invitations i JOIN merchants m ON m.id = i.merchant_id
		WHERE i.merchant_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2 ORDER BY i.id`,
		merchantID, db.now())
	return collect(rows, err, scanInvitation)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateInvitation invites an email to the merchant with a role and returns
// the invitation and its one-time token, which is stored only as a hash, and
// writes the invitation's message into the outbox in the same transaction. A
// member of this merchant, or an email with a pending invitation of it, is a
// ValidationError on "email". An email with an account at another merchant is
// invited like any other, so the answer does not tell that it has an account,
// but its message says the invitation cannot be accepted with that address and
// carries no link. Each invitation counts against
// th's limits per merchant and per the actor's IP; over either, nothing is
// created and the error is a keyport.ThrottledError. A nil th counts nothing
// (demo data and tests).
func (db *DB) CreateInvitation(ctx context.Context, th *keyport.LoginThrottle, actor keyport.Actor, merchantID int64,
	in keyport.NewInvitation) (keyport.Invitation, string, error) {
	var out keyport.Invitation
	token, err := newToken()
	if err != nil {
		return out, "", err
	}
	err = db.tx(ctx, fmt.Sprintf("invite member to merchant %d", merchantID), func(tx *sql.Tx) error {
		now := db.now()
		var member, pending int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users WHERE email = $1 AND merchant_id = $2),
			(SELECT count(*) FROM invitations WHERE merchant_id = $2 AND email = $1 AND accepted_at IS NULL AND revoked_at IS NULL
			AND expires_at > $3)`, in.Email, merchantID, now).Scan(&member, &pending); err != nil {
			return err
		}
		if member > 0 {
			return keyport.FieldError("email", "This email is already a member of your team.")
		}
		if pending > 0 {
			return keyport.FieldError("email", "This email already has a pending invitation. Withdraw it to invite the address again.")
		}
		var existing string
		err := tx.QueryRowContext(ctx, `SELECT name FROM users WHERE email = $1`, in.Email).Scan(&existing)
		hasAccount := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if th != nil {
			wait, err := db.spendAttempt(ctx, tx, th, keyport.InviteScope(merchantID), keyport.InviteIPScope(actor.IP))
			if err != nil {
				return err
			}
			if wait > 0 {
				return &keyport.ThrottledError{What: "invitations", Wait: wait}
			}
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO invitations (merchant_id, email, role, token_hash, invited_by_label, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, merchantID, in.Email, in.Role, tokenHash(token), actor.Label, now,
			now+int64(keyport.InvitationTTL.Seconds())).Scan(&id)
		if err != nil {
			return err
		}
		if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditMemberInvited, "invitation", id, in.Email+" "+string(in.Role)); err != nil {
			return err
		}
		out, err = scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations i
			JOIN merchants m ON m.id = i.merchant_id WHERE i.id = $1`, id))
		if err != nil {
			return err
		}
		data := map[string]string{"merchant": out.MerchantName, "role": string(in.Role), "inviter": actor.Label}
		if hasAccount {
			data["name"] = existing
			return db.enqueue(ctx, tx, keyport.MessageInvitationHasAccount, in.Email, data)
		}
		data["token"], data["expires"] = token, out.ExpiresAt.Format(time.RFC3339)
		return db.enqueue(ctx, tx, keyport.MessageInvitation, in.Email, data)
	})
	return out, token, err
}

// RevokeInvitation withdraws a pending invitation of the merchant.
func (db *DB) RevokeInvitation(ctx context.Context, actor keyport.Actor, merchantID, invitationID int64) error {
	return db.tx(ctx, fmt.Sprintf("revoke invitation %d", invitationID), func(tx *sql.Tx) error {
		var email string
		err := tx.QueryRowContext(ctx, `SELECT email FROM invitations WHERE id = $1 AND merchant_id = $2 AND accepted_at IS NULL
			AND revoked_at IS NULL`, invitationID, merchantID).Scan(&email)
		if err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = $1 WHERE id = $2`, db.now(), invitationID); err != nil {
			return err
		}
		return db.audit(ctx, tx, merchantID, actor, keyport.AuditInvitationRevoked, "invitation", invitationID, email)
	})
}

// InvitationByToken returns the pending invitation of a link's token; a used,
// revoked, expired or unknown token is ErrNotFound.
func (db *DB) InvitationByToken(ctx context.Context, token string) (keyport.Invitation, error) {
	return scanInvitation(db.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations i JOIN merchants m ON m.id = i.merchant_id
		WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2`, tokenHash(token), db.now()))
}

// AcceptInvitation creates the invited member with their name and password
// hash and uses up the invitation, in one transaction. An invitation of a
// disabled merchant is ErrMerchantDisabled; one whose email has an account by
// now is ErrInvitationHasAccount.
func (db *DB) AcceptInvitation(ctx context.Context, token, name, passwordHash, ip string) (keyport.User, error) {
	var u keyport.User
	err := db.tx(ctx, "accept invitation", func(tx *sql.Tx) error {
		inv, err := scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations i
			JOIN merchants m ON m.id = i.merchant_id
			WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2`, tokenHash(token), db.now()))
		if err != nil {
			return err
		}
		if inv.MerchantDisabled {
			return keyport.ErrMerchantDisabled
		}
		now := db.now()
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO users (merchant_id, name, email, role, password_hash, created_at, email_verified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, inv.MerchantID, name, inv.Email, inv.Role, passwordHash, now, now).Scan(&id)
		if isUniqueViolation(err) {
			return keyport.ErrInvitationHasAccount
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET accepted_at = $1 WHERE id = $2`, now, inv.ID); err != nil {
			return err
		}
		if err := db.audit(ctx, tx, inv.MerchantID, keyport.Actor{UserID: id, Label: inv.Email, IP: ip}, keyport.AuditMemberJoined, "user", id,
			inv.Email+" "+string(inv.Role)); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.id = $1`, id))
		return err
	})
	return u, err
}

// member loads, inside tx, a member of the merchant who was not removed, and
// how many Owners the merchant has.
func member(ctx context.Context, tx *sql.Tx, merchantID, userID int64) (keyport.User, int, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
		WHERE u.id = $1 AND u.merchant_id = $2 AND u.removed_at IS NULL`, userID, merchantID))
	if err != nil {
		return u, 0, err
	}
	var owners int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE merchant_id = $1 AND role = 'owner' AND removed_at IS NULL`,
		merchantID).Scan(&owners)
	return u, owners, err
}

// ChangeRole gives a member of the merchant another role. Demoting the last Owner is ErrLastOwner.
func (db *DB) ChangeRole(ctx context.Context, actor keyport.Actor, merchantID, userID int64, role keyport.Role) error {
	if !role.IsMerchantRole() {
		return keyport.FieldError("role", "Choose Owner, Developer or Reviewer.")
	}
	return db.tx(ctx, fmt.Sprintf("change role of user %d", userID), func(tx *sql.Tx) error {
		u, owners, err := member(ctx, tx, merchantID, userID)
		if err != nil || u.Role == role {
			return err
		}
		if keyport.IsLastOwner(u, owners) {
			return keyport.ErrLastOwner
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $1 WHERE id = $2`, role, userID); err != nil {
			return err
		}
		return db.audit(ctx, tx, merchantID, actor, keyport.AuditMemberRoleChanged, "user", userID, fmt.Sprintf("%s %s → %s", u.Email, u.Role, role))
	})
}

// RemoveMember removes a member of the merchant: every session ends at once,
// they can no longer log in, and their email is freed; the row stays for the
// audit trail. Removing the last Owner is ErrLastOwner.
func (db *DB) RemoveMember(ctx context.Context, actor keyport.Actor, merchantID, userID int64) error {
	return db.tx(ctx, fmt.Sprintf("remove member %d", userID), func(tx *sql.Tx) error {
		u, owners, err := member(ctx, tx, merchantID, userID)
		if err != nil {
			return err
		}
		if keyport.IsLastOwner(u, owners) {
			return keyport.ErrLastOwner
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET removed_at = $1, email = $2, password_hash = '!' WHERE id = $3`,
			db.now(), fmt.Sprintf("removed-%d#%s", userID, u.Email), userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return err
		}
		return db.audit(ctx, tx, merchantID, actor, keyport.AuditMemberRemoved, "user", userID, u.Email+" "+string(u.Role))
	})
}
