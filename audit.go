package keyport

import "time"

// AuditDateLayout is how the audit log's date filters are written: a UTC calendar day.
const AuditDateLayout = "2006-01-02"

// AuditEvent is one entry of the append-only audit log.
type AuditEvent struct {
	ID int64
	At time.Time
	// MerchantID is zero for platform events (settings, admins), which only admins see.
	MerchantID   int64
	MerchantName string
	// Actor names who acted: an email, "system", or a key's redacted form.
	Actor      string
	IP         string
	Action     string
	ObjectType string
	ObjectID   int64
	// AccountName names the API account the object belongs to, when it belongs to one.
	AccountName string
	Detail      string
}

// CanReadAudit reports whether r may open the audit log: Owners, Reviewers and Admins.
func (r Role) CanReadAudit() bool { return r == RoleOwner || r == RoleReviewer || r == RoleAdmin }

// AuditScope is whose events a reader may see: one merchant's, or, for admins, every event.
type AuditScope struct {
	MerchantID int64
	All        bool
}

// AuditScopeOf is the scope of a signed-in user: admins see every event, everyone else their merchant's.
func AuditScopeOf(u *User) AuditScope {
	if u.IsAdmin() {
		return AuditScope{All: true}
	}
	return AuditScope{MerchantID: u.MerchantID}
}

// AuditAccount is an API account offered by the audit log's account filter,
// deleted ones included since their history stays.
type AuditAccount struct {
	ID      int64
	Name    string
	Deleted bool
}

// AuditAction is a kind of audit event: the name stored with each event and
// the label people see. Every action is declared below with its label, so an
// action without one cannot be written.
type AuditAction struct{ name, label string }

// String is the action's stored name, such as "key.revoked".
func (a AuditAction) String() string { return a.name }

// Label is the action as shown to people, such as "Key revoked".
func (a AuditAction) Label() string { return a.label }

// auditActions lists every action, in declaration order.
var auditActions []AuditAction

func newAuditAction(name, label string) AuditAction {
	a := AuditAction{name: name, label: label}
	auditActions = append(auditActions, a)
	return a
}

// The audit actions.
var (
	AuditAccountCreated       = newAuditAction("account.created", "API account created")
	AuditAccountDeleted       = newAuditAction("account.deleted", "API account deleted")
	AuditAccountDisabled      = newAuditAction("account.disabled", "API account disabled")
	AuditAccountEnabled       = newAuditAction("account.enabled", "API account enabled")
	AuditAccountRenamed       = newAuditAction("account.renamed", "API account renamed")
	AuditAdminCreated         = newAuditAction("admin.created", "Admin created")
	AuditAuthDeleted          = newAuditAction("auth.deleted", "Registered auth deleted")
	AuditAuthRegistered       = newAuditAction("auth.registered", "Registered auth added")
	AuditAuthSecretRevealed   = newAuditAction("auth.secret_revealed", "Courier secret revealed")
	AuditAuthUpdated          = newAuditAction("auth.updated", "Registered auth changed")
	AuditKeyCreated           = newAuditAction("key.created", "Key created")
	AuditKeyExpired           = newAuditAction("key.expired", "Key expired")
	AuditKeyRevealed          = newAuditAction("key.revealed", "Key revealed")
	AuditKeyRevoked           = newAuditAction("key.revoked", "Key revoked")
	AuditKeyRolled            = newAuditAction("key.rolled", "Key rolled")
	AuditInvitationRevoked    = newAuditAction("member.invitation_revoked", "Invitation withdrawn")
	AuditMemberInvited        = newAuditAction("member.invited", "Member invited")
	AuditMemberJoined         = newAuditAction("member.joined", "Member joined")
	AuditMemberRemoved        = newAuditAction("member.removed", "Member removed")
	AuditMemberRoleChanged    = newAuditAction("member.role_changed", "Member role changed")
	AuditMerchantDisabled     = newAuditAction("merchant.disabled", "Merchant disabled")
	AuditMerchantEnabled      = newAuditAction("merchant.enabled", "Merchant enabled")
	AuditMerchantSignedUp     = newAuditAction("merchant.signed_up", "Merchant signed up")
	AuditRequestAnswered      = newAuditAction("request.answered", "Live key request answered")
	AuditRequestApproved      = newAuditAction("request.approved", "Live key request approved")
	AuditRequestCancelled     = newAuditAction("request.cancelled", "Live key request cancelled")
	AuditRequestFiled         = newAuditAction("request.filed", "Live key requested")
	AuditRequestInfoRequested = newAuditAction("request.info_requested", "Live key request questioned")
	AuditRequestIssued        = newAuditAction("request.issued", "Live key issued")
	AuditRequestRejected      = newAuditAction("request.rejected", "Live key request rejected")
	AuditTokenCapChanged      = newAuditAction("settings.token_cap_changed", "Token cap changed")
	AuditShipmentCancelled    = newAuditAction("shipment.cancelled", "Shipment cancelled")
	AuditShipmentCreated      = newAuditAction("shipment.created", "Shipment created")
	AuditUserAdded            = newAuditAction("user.added", "User added")
	AuditUserLoggedIn         = newAuditAction("user.logged_in", "Logged in")
	AuditPasswordChanged      = newAuditAction("user.password_changed", "Password changed")
	AuditPasswordReset        = newAuditAction("user.password_reset", "Password reset by email link")
	AuditEmailVerified        = newAuditAction("user.email_verified", "Email address verified")
	AuditSessionEnded         = newAuditAction("user.session_ended", "Signed out of one session")
	AuditSignedOutEverywhere  = newAuditAction("user.signed_out_everywhere", "Signed out of all sessions")
	AuditTwoFactorEnabled     = newAuditAction("user.2fa_enabled", "Two-factor authentication turned on")
	AuditTwoFactorDisabled    = newAuditAction("user.2fa_disabled", "Two-factor authentication turned off")
	AuditRecoveryCodesNew     = newAuditAction("user.recovery_codes_generated", "New recovery codes generated")
	AuditRecoveryCodeUsed     = newAuditAction("user.recovery_code_used", "Signed in with a recovery code")
	AuditTwoFactorReset       = newAuditAction("user.2fa_reset", "Two-factor authentication reset by the platform")
	AuditPasskeyAdded         = newAuditAction("user.passkey_added", "Passkey added")
	AuditPasskeyRemoved       = newAuditAction("user.passkey_removed", "Passkey removed")
	AuditIdentityConfirmed    = newAuditAction("user.identity_confirmed", "Confirmed their identity for a sensitive action")
	AuditTwoFactorPolicySet   = newAuditAction("settings.two_factor_policy_changed", "Two-factor requirement changed")
	AuditWebhookCreated       = newAuditAction("webhook.created", "Webhook endpoint added")
	AuditWebhookUpdated       = newAuditAction("webhook.updated", "Webhook endpoint changed")
	AuditWebhookDeleted       = newAuditAction("webhook.deleted", "Webhook endpoint deleted")
	AuditWebhookSecretRolled  = newAuditAction("webhook.secret_rolled", "Webhook signing secret rolled")
	AuditWebhookDisabled      = newAuditAction("webhook.disabled", "Webhook endpoint disabled after failing")
	AuditKeyLeaked            = newAuditAction("key.leaked", "Key reported found in public")
	AuditLeakActionSet        = newAuditAction("settings.leak_action_changed", "Leak report action changed")
)

// AuditActionLabel is a stored action as shown to people; an unknown action is shown as it is stored.
func AuditActionLabel(action string) string {
	for _, a := range auditActions {
		if a.name == action {
			return a.label
		}
	}
	return action
}
