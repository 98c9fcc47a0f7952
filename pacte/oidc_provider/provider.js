// A real OpenID Connect provider (panva/oidc-provider, the library ProConnect's federation runs on), configured
// like ProConnect: its claims (sub, email, given_name, usual_name, uid, siret, siren, organizational_unit), userinfo
// signed as a JWT, RP-initiated logout. Its people come from PEOPLE (JSON: sub -> claims); its dev interactions let a
// test or a newcomer sign in as any of them by typing their sub.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const people = JSON.parse(process.env.PEOPLE || '{}');
const claims = ['email', 'given_name', 'usual_name', 'uid', 'siret', 'siren', 'organizational_unit'];

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: process.env.REDIRECT_URI.split(','),
    post_logout_redirect_uris: process.env.POST_LOGOUT_REDIRECT_URI.split(','),
    response_types: ['code'],
    grant_types: ['authorization_code'],
    id_token_signed_response_alg: 'RS256',
    userinfo_signed_response_alg: 'RS256',
  }],
  claims: Object.fromEntries([['openid', ['sub']], ...claims.map((c) => [c, [c]])]),
  scopes: ['openid', ...claims],
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true }, jwtUserinfo: { enabled: true } },
  pkce: { required: () => false },
  async findAccount(ctx, id) {
    if (!people[id]) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...people[id] }; } };
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`oidc provider ready on ${issuer}`));
