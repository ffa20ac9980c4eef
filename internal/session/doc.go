// Package session lets a browser log in to token-guarded pages of the
// metrics listener, such as the built-in dashboard, without putting the
// token anywhere a browser keeps it.
//
// # Flow
//
// A request without credentials gets 401 and a login form. The form POSTs
// the bearer token to the login handler, which checks it with the same
// [auth.Authenticator] and [auth.Authorizer] that guard /metrics. On
// success the [Store] creates a session under a random 256-bit ID, and the
// browser gets that ID in a cookie (HttpOnly, SameSite=Strict, scoped to the
// guarded path, Secure on TLS connections). The cookie never holds the
// token, and the token is never read from or written to a URL. Logging out
// deletes the session and clears the cookie.
//
// [Manager.Guard] accepts either credential on every request: a valid
// session cookie, or an "Authorization: Bearer" header (checked by
// [auth.Middleware]). Session users are authorized again on every request,
// so a revoked permission takes effect without logging out.
//
// # Security notes
//
//   - Sessions live only in memory, expire after a fixed lifetime and are
//     bounded in number; when the store is full the oldest session is
//     dropped. A restart logs everyone out.
//   - The store keys sessions by the SHA-256 of their ID, so a lookup's
//     timing reveals nothing useful about valid IDs and a memory dump holds
//     no usable IDs.
//   - Login and logout refuse cross-origin POSTs ([http.CrossOriginProtection]:
//     Sec-Fetch-Site, else Origin against Host); together with SameSite=Strict
//     this stops cross-site request forgery.
//   - Failed logins count against the client address's failure budget
//     ([auth.Failures]), shared with bearer tokens on the same listener;
//     past it, logins get 429 with Retry-After, except with a token the
//     authenticator vouches for without calling out.
//   - Tokens are never logged; errors are logged with the token redacted,
//     at most one record per failure reason per second.
package session
