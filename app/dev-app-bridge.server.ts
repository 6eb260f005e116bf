/**
 * The development stand-in for Shopify App Bridge, served by /dev/app-bridge.js (dev routes only,
 * see app/dev-access.server.ts). The real script comes from cdn.shopify.com, which a local demo
 * cannot reach; without it the embedded admin gets no session tokens and every data request after
 * the first page is refused. This script does the parts of App Bridge that authentication needs,
 * the way App Bridge does them (docs/demo.md):
 *
 * - `shopify.idToken()`: a fresh session token, from /dev/session-token (cached until shortly
 *   before it expires).
 * - Same-origin `fetch` gets `Authorization: Bearer <token>`; a 401 carrying
 *   `X-Shopify-Retry-Invalid-Session-Request: 1` is retried once with a new token, and
 *   `X-Shopify-API-Request-Failure-Reauthorize-Url` sends the window there.
 * - The library's bounce page (/auth/session-token?shopify-reload=URL, loaded with this script when
 *   APP_BRIDGE_URL points here) reloads URL with a fresh id_token.
 * - Client-side navigation keeps embedded/shop/host in the address bar, so a reload comes back
 *   through the bounce page instead of the login page.
 * - `ui-nav-menu`/`ui-title-bar` shown as a plain bar, styled without adding DOM nodes (React
 *   hydrates the whole document, and nodes it did not render would make hydration fail).
 *
 * Plain ES2020 in a string: it runs in the browser as-is, whatever the server bundler does.
 */
export const DEV_APP_BRIDGE_SCRIPT = String.raw`// Laurel: development stand-in for Shopify App Bridge (npm run demo; see docs/demo.md).
(function () {
  'use strict';
  if (window.shopify) return;
  var script = document.currentScript;
  var apiKey = (script && script.getAttribute('data-api-key')) || '';
  var TOKEN_PATH = '/dev/session-token';
  var RETRY_HEADER = 'X-Shopify-Retry-Invalid-Session-Request';
  var REAUTH_HEADER = 'X-Shopify-API-Request-Failure-Reauthorize-Url';
  var originalFetch = window.fetch.bind(window);
  var params = new URLSearchParams(location.search);
  var remembered = {};
  try {
    remembered = JSON.parse(sessionStorage.getItem('laurel-dev-app-bridge') || '{}');
  } catch (e) {}
  var shop = params.get('shop') || remembered.shop || null;
  var host = params.get('host') || remembered.host || null;
  try {
    sessionStorage.setItem('laurel-dev-app-bridge', JSON.stringify({ shop: shop, host: host }));
  } catch (e) {}

  var current = null;
  var pending = null;
  function idToken() {
    if (current && current.exp - 10 > Date.now() / 1000) return Promise.resolve(current.token);
    if (!pending) {
      pending = originalFetch(TOKEN_PATH, { credentials: 'same-origin', cache: 'no-store' })
        .then(function (response) {
          if (!response.ok) {
            return response.text().then(function (text) {
              throw new Error('Laurel dev App Bridge: ' + TOKEN_PATH + ' answered ' + response.status + ': ' + text);
            });
          }
          return response.json();
        })
        .then(function (body) {
          current = body;
          return body.token;
        })
        .finally(function () {
          pending = null;
        });
    }
    return pending;
  }

  function isAppRequest(url) {
    try {
      var parsed = new URL(url, location.href);
      return parsed.origin === location.origin && parsed.pathname.indexOf('/dev/') !== 0;
    } catch (e) {
      return false;
    }
  }

  window.fetch = function (input, init) {
    var request = new Request(input, init);
    if (!isAppRequest(request.url)) return originalFetch(request);
    var spare = request.clone();
    function send(req, fresh) {
      if (fresh) current = null;
      return idToken().then(function (token) {
        var headers = new Headers(req.headers);
        if (fresh || !headers.has('Authorization')) headers.set('Authorization', 'Bearer ' + token);
        return originalFetch(new Request(req, { headers: headers }));
      });
    }
    return send(request, false)
      .then(function (response) {
        if (response.status === 401 && response.headers.get(RETRY_HEADER) === '1') return send(spare, true);
        return response;
      })
      .then(function (response) {
        var reauthorize = response.headers.get(REAUTH_HEADER);
        if (reauthorize) window.open(reauthorize, '_top');
        return response;
      });
  };

  // In Shopify's admin a reload reloads the admin, which opens the app again with embedded, shop,
  // host and a new id_token. Here the browser reloads the app's own URL, so keep the first three in
  // it (client-side navigation drops them): the library then bounces through
  // /auth/session-token, handled below, for the token.
  function withAppParams(url) {
    if (url === undefined || url === null || !shop || !host) return url;
    try {
      var target = new URL(String(url), location.href);
      if (target.origin !== location.origin || !/^\/app(\/|$)/.test(target.pathname)) return url;
      if (target.searchParams.has('shop')) return url;
      target.searchParams.set('embedded', '1');
      target.searchParams.set('shop', shop);
      target.searchParams.set('host', host);
      return target.pathname + target.search + target.hash;
    } catch (e) {
      return url;
    }
  }
  ['pushState', 'replaceState'].forEach(function (name) {
    var original = history[name].bind(history);
    history[name] = function (state, title, url) {
      return original(state, title, withAppParams(url));
    };
  });

  function toast(message) {
    var node = document.createElement('div');
    node.setAttribute('role', 'status');
    node.textContent = String(message);
    node.style.cssText =
      'position:fixed;bottom:1rem;left:50%;transform:translateX(-50%);background:#303030;color:#fff;padding:.6rem 1rem;border-radius:.5rem;font:14px system-ui,sans-serif;z-index:2147483647';
    document.body.appendChild(node);
    setTimeout(function () {
      node.remove();
    }, 3000);
  }

  window.shopify = {
    config: { apiKey: apiKey, shop: shop, host: host, locale: 'en' },
    environment: { embedded: false, mobile: false, pos: false },
    origin: location.origin,
    idToken: idToken,
    toast: { show: toast, hide: function () {} },
    loading: function () {},
    laurelDevStandIn: true,
  };

  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(
      "body::before{content:'Laurel admin \u2014 local development (no Shopify; App Bridge stand-in)';display:block;padding:.35rem 1rem;background:#fff4c2;color:#4a3b00;font:13px system-ui,sans-serif}" +
        'ui-nav-menu{display:flex;gap:1rem;padding:.5rem 1rem;background:#1a1a1a;font:14px system-ui,sans-serif}' +
        'ui-nav-menu a{color:#fff;text-decoration:none}ui-title-bar{display:none}',
    );
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
  } catch (e) {}

  // The library's bounce page: reload the app URL with a fresh session token, as App Bridge does.
  if (location.pathname === '/auth/session-token' && params.has('shopify-reload')) {
    idToken().then(function (token) {
      var target = new URL(params.get('shopify-reload'), location.href);
      if (target.origin !== location.origin) throw new Error('Laurel dev App Bridge: refusing to reload ' + target);
      target.searchParams.set('id_token', token);
      location.replace(target.toString());
    });
  }
})();
`;
