// Test-only: a real OpenID Provider (panva's oidc-provider, certified by the OpenID
// Foundation) for tests/oidc. Started by tests/oidc/provider.py:
//
//   node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// The person's login is the one step a test cannot type into a browser here: the
// interaction below signs in the account the authorize request's login_hint names (the
// accounts a test sets through POST /__test/accounts) and grants the scopes asked for.
// Everything else (discovery, authorize, PKCE, the code, the token endpoint's checks, the
// ID token signed with a fresh RS256 key, userinfo) is oidc-provider's own.
//
// POST /__test/clock {"offset": seconds} moves this provider's clock (a provider whose clock
// is behind issues ID tokens that are already expired by ours). POST /__test/jwks
// {"foreign": true} publishes another public key under the signing key's kid, so the ID
// tokens it signs no longer verify against the JWKS.

let offset = 0;
const realNow = Date.now.bind(Date);
Date.now = () => realNow() + offset * 1000;

const { default: Provider } = await import('oidc-provider');
const { generateKeyPairSync } = await import('node:crypto');

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const accounts = new Map();

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
const { publicKey: foreignKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const foreignJwks = {
  keys: [{ ...foreignKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' }],
};
let foreign = false;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: ['test-only-cookie-key'] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'employee_no', 'department'],
    email: ['email', 'email_verified'],
  },
  pkce: { required: () => true },
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600 },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const claims = accounts.get(id);
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.proxy = false;

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/__test/accounts') {
    const given = await body(ctx.req);
    accounts.clear();
    for (const [id, claims] of Object.entries(given)) accounts.set(id, claims);
    ctx.status = 204;
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/__test/clock') {
    offset = Number((await body(ctx.req)).offset) || 0;
    ctx.status = 204;
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/__test/jwks') {
    foreign = Boolean((await body(ctx.req)).foreign);
    ctx.status = 204;
    return;
  }
  if (ctx.method === 'GET' && ctx.path === '/jwks' && foreign) {
    ctx.body = foreignJwks;
    return;
  }
  if (ctx.method === 'GET' && ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = details;
    let result;
    if (prompt.name === 'login') {
      const accountId = String(params.login_hint || '');
      if (!accounts.has(accountId)) {
        result = { error: 'access_denied', error_description: 'unknown test account' };
      } else {
        result = { login: { accountId } };
      }
    } else {
      const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      grant.addOIDCScope(String(params.scope));
      result = { consent: { grantId: await grant.save() } };
    }
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    ctx.respond = false;
    return;
  }
  await next();
});

provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
