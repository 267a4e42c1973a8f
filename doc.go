// Package keyport holds the domain of the Keyport portal: merchants, their users
// and API accounts, the credential format, the rules that govern them, and the
// errors the other packages map to HTTP responses.
package keyport
