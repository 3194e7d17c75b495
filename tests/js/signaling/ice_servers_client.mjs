// SPDX-License-Identifier: Apache-2.0
// HTTPS client for rtcgate's GET /rtcgate/ice-servers (Node's own TLS and MD5, not rtcgate code).
// Usage: node ice_servers_client.mjs <scenario> <port> <origin>
//   basic: no credentials (401 + challenges), digest (200 + JSON), wrong Origin (403), CORS preflight (204),
//          replayed digest (401), unknown path (404).
//   ratelimit: wrong passwords until the limiter answers 429.
// Prints "RESULT key=value" lines; the GoogleTest side asserts them.
import https from 'node:https';
import crypto from 'node:crypto';

const [scenario, portText, origin] = process.argv.slice(2);
const port = Number(portText);
const PATH = '/rtcgate/ice-servers';
const result = (key, value) => console.log(`RESULT ${key}=${value}`);
const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');

function request(method, path, headers) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path, headers, rejectUnauthorized: false,
      agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, raw: res.rawHeaders, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

// The WWW-Authenticate values, in order (Node joins repeated ones in res.headers; rawHeaders keeps them).
function challenges(res) {
  const out = [];
  for (let i = 0; i < res.raw.length; i += 2) if (res.raw[i].toLowerCase() === 'www-authenticate') out.push(res.raw[i + 1]);
  return out;
}

function param(challenge, name) {
  const m = new RegExp(`${name}="?([^",]*)"?`).exec(challenge);
  return m ? m[1] : '';
}

function digest(challenge, user, password, nc = '00000001') {
  const realm = param(challenge, 'realm');
  const nonce = param(challenge, 'nonce');
  const cnonce = crypto.randomBytes(8).toString('hex');
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`GET:${PATH}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${PATH}", algorithm=MD5, ` +
    `response="${response}", qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

async function basic() {
  const bare = await request('GET', PATH, { Origin: origin });
  result('noauth_status', bare.status);
  const ch = challenges(bare);
  result('noauth_challenges', ch.length);
  result('noauth_last_is_md5', /algorithm=MD5/.test(ch[ch.length - 1] || '') ? 1 : 0);
  result('noauth_acao', bare.headers['access-control-allow-origin'] || '');
  result('noauth_expose', bare.headers['access-control-expose-headers'] || '');

  const md5Challenge = ch[ch.length - 1];
  const auth = digest(md5Challenge, '1001', 'demo-1001');
  const ok = await request('GET', PATH, { Origin: origin, Authorization: auth });
  result('ok_status', ok.status);
  result('ok_type', ok.headers['content-type'] || '');
  result('ok_cache', ok.headers['cache-control'] || '');
  const body = JSON.parse(ok.body);
  result('ok_servers', body.iceServers.length);
  result('ok_stun_urls', body.iceServers[0].urls.join(' '));
  result('ok_stun_has_username', 'username' in body.iceServers[0] ? 1 : 0);
  result('ok_turn_urls', body.iceServers[1].urls.join(' '));
  result('ok_turn_username', body.iceServers[1].username);
  result('ok_turn_credential', body.iceServers[1].credential);
  result('ok_ttl', body.ttl);
  result('ok_gathering', body.gatheringTimeoutMs);
  result('ok_now', Math.floor(Date.now() / 1000));
  result('ok_body_has_secret', ok.body.includes('browser-turn-secret') ? 1 : 0);

  const replay = await request('GET', PATH, { Origin: origin, Authorization: auth });
  result('replay_status', replay.status);
  const wrongPassword = await request('GET', PATH, { Origin: origin, Authorization: digest(md5Challenge, '1001', 'nope', '00000002') });
  result('wrong_password_status', wrongPassword.status);

  const evil = await request('GET', PATH, { Origin: 'https://evil.example', Authorization: digest(md5Challenge, '1001', 'demo-1001', '00000003') });
  result('wrong_origin_status', evil.status);
  result('wrong_origin_acao', evil.headers['access-control-allow-origin'] || '');
  const noOrigin = await request('GET', PATH, {});
  result('no_origin_status', noOrigin.status);

  const pre = await request('OPTIONS', PATH, { Origin: origin, 'Access-Control-Request-Method': 'GET',
    'Access-Control-Request-Headers': 'authorization' });
  result('preflight_status', pre.status);
  result('preflight_headers', pre.headers['access-control-allow-headers'] || '');
  result('preflight_acao', pre.headers['access-control-allow-origin'] || '');

  const other = await request('GET', '/index.html', { Origin: origin });
  result('other_path_status', other.status);
}

async function ratelimit() {
  const bare = await request('GET', PATH, { Origin: origin });
  const ch = challenges(bare);
  const statuses = [];
  for (let i = 1; i <= 4; i++) {
    const r = await request('GET', PATH, { Origin: origin, Authorization: digest(ch[ch.length - 1], '1001', 'wrong', `0000000${i}`) });
    statuses.push(r.status);
  }
  result('statuses', statuses.join(','));
}

const scenarios = { basic, ratelimit };
scenarios[scenario]().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
