package keyport

import (
	"errors"
	"time"
)

// MessageKind names what a message of the outbox tells its recipient.
type MessageKind string

// The kinds of message Keyport sends.
const (
	// MessageInvitation invites someone to join a merchant; it carries the invitation's one-time token.
	MessageInvitation MessageKind = "invitation"
	// MessageInvitationHasAccount tells someone invited to a merchant that their
	// email address already has an account, so the invitation cannot be accepted with it.
	MessageInvitationHasAccount MessageKind = "invitation_has_account"
	// MessagePasswordReset carries a single-use link to set a new password.
	MessagePasswordReset MessageKind = "password_reset"
	// MessagePasswordChanged tells a user their password was changed.
	MessagePasswordChanged MessageKind = "password_changed"
	// MessageVerifyEmail carries the link that verifies a new sign-up's email address.
	MessageVerifyEmail MessageKind = "verify_email"
	// MessageAccountExists tells someone who signed up with an email that already has an account.
	MessageAccountExists MessageKind = "account_exists"
	// MessageNewSignIn tells a user someone signed in to their account from a browser it had not seen.
	MessageNewSignIn MessageKind = "new_sign_in"
	// MessageRequestFiled tells the API team a live key request waits for review.
	MessageRequestFiled MessageKind = "request_filed"
	// MessageRequestAnswered tells the requester the API team approved, rejected or questioned their request.
	MessageRequestAnswered MessageKind = "request_answered"
	// MessageKeyExpiring warns that a key expires in 7 days or in 1 day.
	MessageKeyExpiring MessageKind = "key_expiring"
	// MessageKeyExpired tells that a key expired.
	MessageKeyExpired MessageKind = "key_expired"
	// MessageKeyRevoked tells a merchant's Owners that the API team revoked one of its keys.
	MessageKeyRevoked MessageKind = "key_revoked"
	// MessageMerchantDisabled tells a merchant's Owners that the platform disabled it.
	MessageMerchantDisabled MessageKind = "merchant_disabled"
	// MessageMerchantEnabled tells a merchant's Owners that the platform enabled it again.
	MessageMerchantEnabled MessageKind = "merchant_enabled"
	// MessageWebhookDisabled tells a merchant's Owners that a webhook endpoint
	// was disabled after failing every delivery for WebhookDisableAfter.
	MessageWebhookDisabled MessageKind = "webhook_disabled"
	// MessageKeyLeaked tells a merchant's Owners that one of its keys was
	// reported found in public, and whether it was revoked.
	MessageKeyLeaked MessageKind = "key_leaked"
)

// MailTopic is a group of messages a user may choose not to receive. Security
// messages (password, revocation by the API team, a disabled merchant) and
// invitations belong to no topic: they are always sent.
type MailTopic string

// The optional topics.
const (
	// MailRequests are live key requests: filed (to the API team) and answered (to the requester).
	MailRequests MailTopic = "requests"
	// MailExpiry are the reminders before and when a key expires.
	MailExpiry MailTopic = "expiry"
)

// MailTopics lists the optional topics in the order Your settings shows them.
var MailTopics = []MailTopic{MailRequests, MailExpiry}

// Label is the topic as Your settings names it.
func (t MailTopic) Label() string {
	switch t {
	case MailRequests:
		return "Live key requests: filed, approved, rejected or questioned"
	case MailExpiry:
		return "Key expiry: 7 days and 1 day before a key expires, and when it has"
	}
	return string(t)
}

// Topic is the optional topic of a message kind, or "" when it is always sent.
func (k MessageKind) Topic() MailTopic {
	switch k {
	case MessageRequestFiled, MessageRequestAnswered:
		return MailRequests
	case MessageKeyExpiring, MessageKeyExpired:
		return MailExpiry
	}
	return ""
}

// MessageKindLabel is a message kind as shown to admins; an unknown kind is shown as it is stored.
func MessageKindLabel(k MessageKind) string {
	switch k {
	case MessageInvitation:
		return "Invitation"
	case MessageInvitationHasAccount:
		return "Invitation to an existing account"
	case MessagePasswordReset:
		return "Password reset"
	case MessagePasswordChanged:
		return "Password changed"
	case MessageVerifyEmail:
		return "Email verification"
	case MessageAccountExists:
		return "Sign-up with an existing email"
	case MessageNewSignIn:
		return "New sign-in"
	case MessageRequestFiled:
		return "Live key request filed"
	case MessageRequestAnswered:
		return "Live key request answered"
	case MessageKeyExpiring:
		return "Key expiring"
	case MessageKeyExpired:
		return "Key expired"
	case MessageKeyRevoked:
		return "Key revoked by the API team"
	case MessageMerchantDisabled:
		return "Merchant disabled"
	case MessageMerchantEnabled:
		return "Merchant enabled"
	case MessageWebhookDisabled:
		return "Webhook endpoint disabled"
	case MessageKeyLeaked:
		return "Key found in public"
	}
	return string(k)
}

// Message is one message to deliver: to whom, what kind, and the data its
// text is rendered from. Data may hold a secret (the token of a link), so it
// is sealed at rest and never shown to admins nor logged.
type Message struct {
	// ID numbers the message in the outbox.
	ID int64
	// UID is the message's stable, random identity, the same on every attempt.
	UID string
	// Kind says what the message tells.
	Kind MessageKind
	// To is the recipient's email address.
	To string
	// Data holds the values the message's text is rendered from.
	Data map[string]string
	// CreatedAt is when the change that caused the message was committed.
	CreatedAt time.Time
	// Attempts counts the deliveries tried before this one.
	Attempts int
}

// OutboxState is where a message of the outbox stands.
type OutboxState string

// The states of an outbox message.
const (
	// OutboxPending messages wait for their next attempt.
	OutboxPending OutboxState = "pending"
	// OutboxSent messages were accepted by the mail server.
	OutboxSent OutboxState = "sent"
	// OutboxFailed messages were given up after OutboxRetryFor of failures.
	OutboxFailed OutboxState = "failed"
	// OutboxHeld messages are not sent because no mail server is configured.
	OutboxHeld OutboxState = "held"
)

// OutboxStates lists the states in the order admins filter them.
var OutboxStates = []OutboxState{OutboxPending, OutboxHeld, OutboxFailed, OutboxSent}

// OutboxEntry is what admins see of a message: never its data.
type OutboxEntry struct {
	ID            int64
	UID           string
	Kind          MessageKind
	To            string
	State         OutboxState
	Attempts      int
	LastError     string
	CreatedAt     time.Time
	NextAttemptAt time.Time
	SentAt        time.Time
}

// OutboxKeepSent is how long a sent message stays listed in the outbox.
const OutboxKeepSent = 30 * 24 * time.Hour

// OutboxRetryFor is how long a message keeps being retried after it was written.
const OutboxRetryFor = 72 * time.Hour

// outboxFirstRetry and outboxMaxRetry bound the wait between two attempts.
const (
	outboxFirstRetry = 30 * time.Second
	outboxMaxRetry   = 4 * time.Hour
)

// ErrNoMailServer is the delivery error of a message when no mail server is
// configured; the message is held, not failed.
var ErrNoMailServer = errors.New("not sent: no SMTP configured")

// NextAttempt is the retry rule of the outbox: after the attempts-th failed
// delivery (1 for the first) of a message written at created, the next
// attempt waits 30 s, doubling each time up to 4 hours. It returns false when
// that attempt would fall past OutboxRetryFor: the message is then given up.
func NextAttempt(created time.Time, attempts int, now time.Time) (time.Time, bool) {
	wait := outboxFirstRetry
	for i := 1; i < attempts && wait < outboxMaxRetry; i++ {
		wait *= 2
	}
	next := now.Add(min(wait, outboxMaxRetry))
	if next.Sub(created) > OutboxRetryFor {
		return time.Time{}, false
	}
	return next, true
}

// ExpiryReminders are how long before a key's expiry its reminders are sent, longest first.
var ExpiryReminders = []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}

// EmailVerificationTTL is how long an email verification link works.
const EmailVerificationTTL = 7 * 24 * time.Hour

// PasswordResetTTL is how long a password reset link works.
const PasswordResetTTL = 30 * time.Minute
