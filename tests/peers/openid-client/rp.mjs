// A relying party built on openid-client (panva's certified OpenID Connect client), driven by
// tests/oauth/interop/test_openid_client.py. It speaks JSON lines:
//
//   node rp.mjs <issuer> <client_id> <redirect_uri> <post_logout_redirect_uri>   (CLIENT_SECRET in the env)
//   stdout  {"step": "authorize", "url": ..., "state": ..., "nonce": ...}
//   stdin   the full URL the provider redirected the browser to (the test plays the browser)
//   stdout  {"step": "done", "id_token_claims": ..., "userinfo": ..., "end_session_url": ..., ...}
//
// In between it refreshes (rotation), revokes the refresh token (RFC 7009) and reports what was
// refused afterwards, and builds the RP-initiated logout URL for the test's browser to open.
// Every check is openid-client's own: discovery, PKCE S256, state, the RFC 9207 `iss` of the
// authorization response, the ID token (ES256 signature against the JWKS, iss, aud, exp, nonce),
// the userinfo `sub`. A failure prints {"step": "error", ...} and exits with status 1.
import * as readline from 'node:readline';
import * as client from 'openid-client';

const [issuer, clientId, redirectUri, postLogoutRedirectUri] = process.argv.slice(2);
const clientSecret = process.env.CLIENT_SECRET;
const scope = process.env.SCOPE || 'openid profile email phone';

function emit(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

async function readLine() {
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line.trim();
  }
  throw new Error('stdin closed before the callback URL arrived');
}

function failure(error) {
  return { name: error?.name, code: error?.code, error: error?.error, status: error?.status,
           message: String(error?.message ?? error),
           cause: error?.cause instanceof Error ? failure(error.cause) : undefined };
}

async function main() {
  const { hostname } = new URL(issuer);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
    throw new Error(`the test relying party talks to loopback issuers only, not ${hostname}`);
  }
  // openid-client v6 refuses plain http unless told otherwise; the provider under test is
  // served on a loopback address only, so allowing it here is safe and nothing else changes.
  const config = await client.discovery(new URL(issuer), clientId, undefined,
    client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] });

  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope, state, nonce,
    code_challenge: codeChallenge, code_challenge_method: 'S256',
  });
  emit({ step: 'authorize', url: url.href, state, nonce });

  const callback = new URL(await readLine());
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

  // Refresh: the provider rotates the refresh token and issues a new ID token for the same sub.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const refreshedClaims = refreshed.claims();
  const refreshedUserinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);

  // Revocation (RFC 7009) of the refresh token ends its grant, with the access tokens minted from it.
  await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
  const afterRevocation = {};
  for (const [what, attempt] of [
    ['userinfo', () => client.fetchUserInfo(config, refreshed.access_token, claims.sub)],
    ['refresh', () => client.refreshTokenGrant(config, refreshed.refresh_token)],
  ]) {
    try {
      await attempt();
      afterRevocation[what] = { refused: false };
    } catch (error) {
      afterRevocation[what] = { refused: true, ...failure(error) };
    }
  }

  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: postLogoutRedirectUri, state,
  });
  emit({
    step: 'done', id_token_claims: claims, userinfo, token_type: tokens.token_type,
    scope: tokens.scope, refreshed_claims: refreshedClaims ?? null, refreshed_userinfo: refreshedUserinfo,
    rotated: refreshed.refresh_token !== tokens.refresh_token, after_revocation: afterRevocation,
    end_session_url: endSession.href,
  });
}

main().catch((error) => {
  emit({ step: 'error', ...failure(error) });
  process.exit(1);
});
