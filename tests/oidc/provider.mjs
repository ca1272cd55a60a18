// A local OpenID provider for the test suite that behaves like the Amazon Cognito hosted UI
// closely enough for the app's sign-in code: same endpoint paths, Cognito-shaped ID and access
// tokens (both RS256 JWTs), a plain HTML login form and no consent screen.
//
// Usage: node provider.mjs CONFIG.json [--exit-with-stdin]
// --exit-with-stdin: stop when stdin closes, i.e. when the parent (pytest) dies, even by SIGKILL.
// Prints "READY <issuer>" on stdout once listening; logs one line per request on stderr.
// See tests/fixtures/oidc.py for the config format (it writes the file).
import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: node provider.mjs CONFIG.json\n');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const { port, issuer } = config;
const host = config.host ?? '127.0.0.1';

// The access token audience oidc-provider needs internally (a JWT access token must belong to a
// resource server). It is hidden from the signed token below, as Cognito access tokens have no aud.
const RESOURCE = config.resource ?? `${issuer}/api`;
const RESOURCE_SCOPES = 'openid email profile phone aws.cognito.signin.user.admin';

const users = config.users.map((u) => ({ email_verified: true, ...u }));
const usersBySub = new Map(users.map((u) => [u.sub, u]));

// Cognito accepts the username or (with the email alias on) the email address.
function findUserByLogin(login) {
  const wanted = String(login ?? '').trim().toLowerCase();
  return users.find((u) => u.username.toLowerCase() === wanted || u.email?.toLowerCase() === wanted);
}

function passwordMatches(user, password) {
  const a = Buffer.from(String(user.password));
  const b = Buffer.from(String(password ?? ''));
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function accountFor(user) {
  return {
    accountId: user.sub,
    async claims(use) {
      const claims = {
        sub: user.sub,
        'cognito:username': user.username,
        email: user.email,
        email_verified: user.email_verified,
        name: user.name,
        nickname: user.nickname,
        given_name: user.given_name,
        family_name: user.family_name,
        phone_number: user.phone_number,
        'cognito:groups': user.groups?.length ? user.groups : undefined,
      };
      if (use === 'id_token') claims.token_use = 'id';
      return claims;
    },
  };
}

const clients = config.clients.map((c) => ({
  client_id: c.client_id,
  ...(c.client_secret ? { client_secret: c.client_secret } : {}),
  token_endpoint_auth_method:
    c.token_endpoint_auth_method ?? (c.client_secret ? 'client_secret_basic' : 'none'),
  redirect_uris: c.redirect_uris,
  post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  // Cognito ID tokens always carry auth_time.
  require_auth_time: true,
}));

const ttl = {
  AccessToken: 3600,
  AuthorizationCode: 300,
  IdToken: 3600,
  RefreshToken: 30 * 24 * 3600,
  Interaction: 3600,
  Session: 24 * 3600,
  Grant: 30 * 24 * 3600,
  ...config.ttl,
};

const escapeHtml = (s) => String(s ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
${body}
</body>
</html>
`;
}

function loginPage({ uid, clientId, username = '', error }) {
  return page('Sign in', `<h1>Sign in</h1>
<p>to <span id="client-id">${escapeHtml(clientId)}</span></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" value="${escapeHtml(username)}" autocomplete="username" required autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit" name="signInSubmitButton">Sign in</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// First-party clients get no consent screen: grant every requested scope and claim, as Cognito
// does for the scopes an app client is allowed.
async function grantEverythingRequested(ctx, grantId) {
  const { oidc } = ctx;
  const grant = (grantId && (await oidc.provider.Grant.find(grantId)))
    || new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.account.accountId });
  const scopes = [...oidc.requestParamOIDCScopes].join(' ');
  if (scopes) grant.addOIDCScope(scopes);
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [indicator, server] of Object.entries(oidc.resourceServers)) {
    const wanted = [...oidc.requestParamScopes].filter((s) => server.scopes.has(s));
    if (wanted.length) grant.addResourceScope(indicator, wanted.join(' '));
  }
  await grant.save();
  return grant;
}

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [{ use: 'sig', alg: 'RS256', ...config.signing_key }] },
  // Random per run: cookies only need to survive this process.
  cookies: {
    keys: [crypto.randomBytes(32).toString('hex')],
    // Plain http on 127.0.0.1: browsers drop SameSite=None cookies that are not Secure.
    long: { httpOnly: true, sameSite: 'lax', signed: true },
    short: { httpOnly: true, sameSite: 'lax', signed: true },
  },
  // Cognito's hosted UI paths, so URLs the app builds from its domain work here too.
  routes: {
    authorization: '/oauth2/authorize',
    token: '/oauth2/token',
    revocation: '/oauth2/revoke',
    jwks: '/.well-known/jwks.json',
    end_session: '/logout',
  },
  // What the app uses of Cognito: code flow only (no implicit, no PAR).
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
  scopes: ['openid', 'offline_access', 'aws.cognito.signin.user.admin'],
  claims: {
    openid: ['sub', 'cognito:username', 'cognito:groups', 'token_use'],
    email: ['email', 'email_verified'],
    phone: ['phone_number'],
    profile: ['name', 'nickname', 'given_name', 'family_name'],
  },
  // Like Cognito, put the scope claims into the ID token itself.
  conformIdTokenClaims: false,
  async findAccount(ctx, sub) {
    const user = usersBySub.get(sub);
    return user ? accountFor(user) : undefined;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    return grantEverythingRequested(ctx, grantId);
  },
  pkce: {
    methods: ['S256'],
    // Public clients must use PKCE; confidential ones may (the app always does).
    required: (ctx, client) => client.clientAuthMethod === 'none',
  },
  // Cognito issues a refresh token on every code exchange, without offline_access.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Cognito reuses the refresh token until it expires, and signing out of the hosted UI does not
  // revoke tokens already issued.
  rotateRefreshToken: false,
  expiresWithSession: async () => false,
  features: {
    devInteractions: { enabled: false },
    pushedAuthorizationRequests: { enabled: false },
    revocation: { enabled: true },
    // Only the JWT access tokens below exist, and oidc-provider's userinfo refuses tokens that
    // have a resource server audience; Cognito's /oauth2/userInfo is not emulated.
    userinfo: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // Cognito signs out without asking: submit the confirmation form straight away (a
      // requests-driven test posts the form itself).
      async logoutSource(ctx, form) {
        const withButton = form.replace(
          '</form>',
          '<input type="hidden" name="logout" value="yes"/><button type="submit">Sign out</button></form>',
        );
        ctx.type = 'html';
        ctx.body = page('Sign out', `${withButton}
<script>document.forms[0].submit()</script>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Signed out', '<h1>Signed out</h1>');
      },
    },
    // Access tokens as RS256 JWTs, signed with the same key as the ID token, as Cognito does.
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: RESOURCE_SCOPES,
        accessTokenTTL: ttl.AccessToken,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken') return undefined;
    const user = usersBySub.get(token.accountId);
    const origin = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
    return {
      token_use: 'access',
      username: user?.username,
      'cognito:groups': user?.groups?.length ? user.groups : undefined,
      auth_time: origin?.authTime,
    };
  },
  formats: {
    customizers: {
      async jwt(ctx, token, jwt) {
        // oidc-provider insists on an audience for JWT access tokens and keeps it in its store;
        // a non-enumerable aud passes that check but is left out of the serialised payload.
        const { aud } = jwt.payload;
        delete jwt.payload.aud;
        Object.defineProperty(jwt.payload, 'aud', {
          value: aud, enumerable: false, writable: true, configurable: true,
        });
        // Cognito's access tokens have a plain {kid, alg} header.
        jwt.header = { typ: undefined };
      },
    },
  },
  enabledJWA: {
    idTokenSigningAlgValues: ['RS256'],
    requestObjectSigningAlgValues: ['RS256'],
    clientAuthSigningAlgValues: ['RS256'],
  },
  ttl,
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>Error</h1>
<pre id="error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description)}</pre>`);
  },
});

provider.on('server_error', (ctx, err) => {
  process.stderr.write(`oidc server_error: ${err.stack}\n`);
});

// One line per request on stderr, so a failing test's captured output shows the flow.
provider.use(async (ctx, next) => {
  const started = Date.now();
  try {
    await next();
  } finally {
    process.stderr.write(`oidc ${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - started}ms\n`);
  }
});

// Browsers ask for it; a 404 would show up as a console error in browser tests.
provider.use(async (ctx, next) => {
  if (ctx.path === '/favicon.ico') {
    ctx.status = 204;
    return;
  }
  await next();
});

// Cognito's /logout takes client_id + logout_uri; the OIDC spelling is post_logout_redirect_uri.
provider.use(async (ctx, next) => {
  if (ctx.path === '/logout' && ctx.query.logout_uri && !ctx.query.post_logout_redirect_uri) {
    const { logout_uri: logoutUri, ...rest } = ctx.query;
    ctx.query = { ...rest, post_logout_redirect_uri: logoutUri };
  }
  await next();
});

// The sign-in page. The login prompt shows the form; a consent prompt (only reachable if the
// grant above is somehow incomplete) is granted without a page.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(ctx.path);
  if (!match) {
    await next();
    return;
  }
  ctx.set('cache-control', 'no-store');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>Error</h1><pre id="error">${escapeHtml(err.message)}</pre>`);
    return;
  }
  const { uid, prompt, params } = details;
  if (uid !== match[1]) {
    ctx.throw(400, 'interaction mismatch');
  }
  const finish = async (result) => {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(returnTo);
  };

  if (prompt.name === 'consent') {
    const grant = new provider.Grant({ clientId: params.client_id, accountId: details.session.accountId });
    if (params.scope) grant.addOIDCScope(params.scope);
    grant.addResourceScope(RESOURCE, RESOURCE_SCOPES);
    await finish({ consent: { grantId: await grant.save() } });
    return;
  }
  if (prompt.name !== 'login') {
    ctx.throw(400, `unsupported prompt ${prompt.name}`);
  }

  ctx.type = 'html';
  if (ctx.method === 'GET' && !match[2]) {
    ctx.body = loginPage({ uid, clientId: params.client_id, username: params.login_hint });
    return;
  }
  if (ctx.method !== 'POST' || !match[2]) {
    ctx.throw(405);
  }
  const form = await readForm(ctx.req);
  const user = findUserByLogin(form.get('username'));
  if (!user || !passwordMatches(user, form.get('password'))) {
    // Cognito's wording; the form is shown again with the username kept.
    ctx.body = loginPage({
      uid,
      clientId: params.client_id,
      username: form.get('username'),
      error: 'Incorrect username or password.',
    });
    return;
  }
  await finish({ login: { accountId: user.sub, amr: ['pwd'] } });
});

// oidc-provider validates static clients on first use; fail at start-up instead, so a bad
// fixture config shows up as a clear error rather than as a failing login.
for (const { client_id: clientId } of clients) {
  try {
    await provider.Client.find(clientId);
  } catch (err) {
    process.stderr.write(`invalid client ${clientId}: ${err.message} ${err.error_description ?? ''}\n`);
    process.exit(1);
  }
}

const server = provider.listen(port, host, () => {
  process.stdout.write(`READY http://${host}:${server.address().port}\n`);
});

function shutdown(signal) {
  process.stderr.write(`oidc provider: ${signal}, shutting down\n`);
  server.close(() => process.exit(0));
  // Idle keep-alive connections would hold close() open.
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
if (process.argv.includes('--exit-with-stdin')) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.resume();
}
process.on('SIGINT', () => shutdown('SIGINT'));
