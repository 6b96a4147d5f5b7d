/**
 * What to do first, per failure reason: one line each, written from the deployment plan's
 * troubleshooting steps for this stack (Coolify, Traefik, Zitadel with Login V2, Better Auth, Drizzle).
 * The status page shows the line beside a failing check, the monitor hands it to Alertmanager (the
 * `runbook` label of `sentinel_check_reason`), and the README's troubleshooting table repeats it under
 * the anchor `reason-<reason>` (runner/monitor/runbook.test.ts keeps them equal).
 */
import type { Reason } from './result.ts';

export const RUNBOOK: Readonly<Record<Reason, string>> = {
  timeout: 'The target did not answer in time: check the resource is running in Coolify and not starved of CPU or memory, then Traefik\'s logs.',
  dns: 'The host name does not resolve: check the DNS record points at the server.',
  connect_refused: 'Nothing accepts connections: check the resource is running in Coolify (status, logs) and its domain and port.',
  connection_reset: 'The connection was cut: check the resource\'s logs for crashes and restarts, then Traefik\'s logs.',
  tls_handshake: 'TLS could not be negotiated: check Traefik serves this domain (Coolify resource domains) and its logs.',
  tls_verify: 'The certificate does not chain to a trusted CA: check DNS points at the server, ports 80/443 are open and Traefik\'s Let\'s Encrypt logs.',
  tls_hostname: 'The certificate does not cover the host: check the resource\'s domain in Coolify and that Traefik issued a certificate for it.',
  tls_expiry: 'The certificate expires soon or has expired: Coolify renews via Let\'s Encrypt; check Traefik\'s logs (DNS, ports 80/443 open).',
  http_status: 'The target answers with an error status: check the resource\'s logs in Coolify and its environment variables (DATABASE_URL first).',
  bad_response: 'The target answers something else than expected: check the domain routes to the right resource in Coolify.',
  issuer_mismatch: 'Zitadel\'s discovery names another issuer: check ZITADEL_EXTERNALDOMAIN in the Zitadel stack and ZITADEL_ISSUER of the app.',
  endpoint_mismatch: 'Zitadel\'s discovery names other endpoints than the app uses: check ZITADEL_ISSUER and the Zitadel stack\'s domain.',
  pkce_unsupported: 'Zitadel does not offer S256 PKCE: check the Zitadel version and its OIDC settings.',
  scope_unsupported: 'Zitadel does not support a scope the app asks for: check the OIDC settings of the Zitadel instance.',
  jwks_empty: 'Zitadel publishes no signing key: check the Zitadel logs and its key settings (web keys).',
  jwks_unusable: 'Zitadel\'s published keys cannot be used: check the Zitadel logs and its key settings (web keys).',
  login_v1: 'Login V2 is not used: set ZITADEL_DEFAULTINSTANCE_FEATURES_LOGINV2_REQUIRED=true (or the instance feature), check the Login V2 URLs and that zitadel-login runs.',
  login_wrong_host: 'Sign-in goes to another host: check the Login V2 base URI of the instance (or the app) and ZITADEL_ISSUER.',
  login_page_error: 'The Login V2 page fails: check the zitadel-login container is running, its route in Traefik and its logs.',
  authorize_mismatch: 'Authentication not working: check ZITADEL_CLIENT_ID and the scopes of the app against the Zitadel application.',
  redirect_uri_mismatch: 'Authentication not working: the redirect URIs in Zitadel must match BETTER_AUTH_URL + /api/auth/callback/zitadel.',
  sign_in_error: 'The app cannot start a sign-in: check the app\'s logs, DATABASE_URL and that migrations ran (npm run db:migrate).',
  mfa_required: 'Login V2 asks the test user for a second factor: in Zitadel, do not force MFA for this user\'s organisation (login policy), and register no second factor for the test user.',
  login_unexpected_screen: 'Login V2 showed a screen the sign-in cannot pass (password change, e-mail verification…): sign in once as the test user in a browser and finish it.',
  rate_limited: 'Better Auth refused sign-ins (3 per 10 s per IP) beyond the check\'s deadline: look for other clients signing in from the monitor\'s address.',
  idp_error: 'Zitadel answers with an error: check zitadel-db is running and healthy, then the Zitadel logs.',
  db_auth: 'The database refuses the credentials: check the user and password in DATABASE_URL (SENTINEL_DATABASE_URL).',
  db_unreachable: 'Database connection errors: check gadgetbot-db is running in Coolify, then psql $DATABASE_URL -c "SELECT 1" from the app container.',
  db_query: 'A database query failed: check the database logs and the app\'s migrations.',
  db_schema: 'Tables are missing: run npm run db:migrate in the Coolify terminal of gadgetbot-app.',
  migration_pending: 'Migrations are not applied: run npm run db:migrate in the Coolify terminal of gadgetbot-app.',
  migration_edited: 'An applied migration file was changed afterwards: restore the file from the deployed commit; never edit applied migrations.',
  migration_unknown: 'The database has migrations the app does not know: check the app and the database belong to the same deployment.',
  migration_journal: 'The migrations journal cannot be read: check SENTINEL_MIGRATIONS points at the app\'s src/db/migrations.',
  port_exposed: 'A port that must stay closed answers from outside: close it in the Hetzner firewall (ports Docker publishes bypass UFW), untick Make it publicly available on the database or drop the port mapping in Coolify; once the dashboard has its domain, 8000, 6001 and 6002 can be closed too.',
  http_not_redirected: 'Plain http is served without a redirect to https: give the resource\'s domain in Coolify with https:// and keep Force Https on in its settings, then redeploy so Traefik gets the redirect.',
  hsts_missing: 'An https response has no Strict-Transport-Security (or a short max-age): add a Traefik headers middleware (stsSeconds 31536000) to the resource\'s labels in Coolify.',
  cookie_insecure: 'The session cookie lacks Secure or HttpOnly: BETTER_AUTH_URL must start with https:// (Better Auth then sets __Secure- cookies) and the app\'s auth config must not override the cookie attributes.',
  assertion: 'The page did not show what it must: open the trace in the reports (npx playwright show-trace) and compare with the deployed app.',
  session_lost: 'A redeploy signed users out: sessions must live in Postgres and BETTER_AUTH_SECRET must stay the same across deploys.',
  session_not_revoked: 'Sign-out leaves the session valid: check the app\'s sign-out call reaches /api/auth/sign-out (Origin header, 403s in its logs).',
  idp_disrupted: 'The app\'s redeploy also disturbed Zitadel: deploy the app apart from the Zitadel stack.',
  downtime_budget: 'The redeploy took the app down too long: enable a health check in Coolify so it rolls over, and check the build time.',
  redeploy_failed: 'The redeploy failed: see the deployment\'s logs in Coolify, or the output of the redeploy command.',
  instance_unchanged: 'No new app instance could be seen after the redeploy: check the deployment ran in Coolify, or the instance signal you configured.',
  cleanup_failed: 'Test bots were left behind: delete bots named with the sentinel prefix in the admin UI; the next CRUD run sweeps old ones.',
  not_configured: 'The check has no configuration: set the variables it names (sentinel check-config lists them).',
  not_permitted: 'The check is not allowed here: pass --allow-mutations or --allow-disruptive where that is intended.',
  not_selected: 'The check was left out on purpose (--check, --skip, SENTINEL_CHECKS, SENTINEL_SKIP).',
  dependency_failed: 'A check this one waits for failed first: fix that one.',
  unexpected: 'An error sentinel cannot place: run with SENTINEL_DEBUG=true and read the reports.',
};

export function runbookLine(reason: Reason): string {
  return RUNBOOK[reason];
}
