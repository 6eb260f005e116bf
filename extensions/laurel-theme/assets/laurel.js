/* global window */
// Laurel storefront script, docs/storefront.md. Liquid renders what is known at load; this updates
// "Earn N points" on variant change and runs the launcher, which fetches only once opened.
(() => {
  'use strict';
  const w = window;
  const d = w.document;
  if (w.Laurel) return; // loaded twice: one copy runs

  // Liquid money values are hundredths whatever the currency (loyalty/program-summary.ts).
  const toMinor = (price, digits) => {
    if (!Number.isSafeInteger(price) || price < 0) return undefined;
    if (digits >= 2) return price * 10 ** (digits - 2);
    const scale = 10 ** (2 - digits);
    return price % scale ? undefined : price / scale;
  };

  // earnPoints of loyalty/earn.ts over the program summary's sorted bands.
  const earn = (program, minor) => {
    let points = 0;
    for (const band of program.bands) {
      if (minor <= band.over) break;
      const top = band.upTo != null && band.upTo < minor ? band.upTo : minor;
      points += Math.floor((top - band.over) / program.unitMinor) * band.pointsPerUnit;
    }
    return points;
  };

  // Groups digits like snippets/laurel-number.liquid, so server and script agree.
  const group = (n, separator) =>
    (n < 0 ? '-' : '') + String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, separator);

  // el holds the locale's two forms in data-one / data-other; CLDR rules pick.
  const plural = (el, locale, n) =>
    el.dataset[new Intl.PluralRules(locale).select(n) === 'one' ? 'one' : 'other'];

  const cache = new WeakMap();

  function showVariant(block, id) {
    let data = cache.get(block);
    if (!data) {
      try {
        data = JSON.parse(block.querySelector('[data-laurel-product-data]').textContent);
      } catch {
        return;
      }
      cache.set(block, data);
    }
    if (!Object.hasOwn(data.variants, id)) return; // not this product's variant
    const minor = toMinor(data.variants[id], data.program.digits);
    // × the campaign running on this product (bps, docs/campaigns.md), one floor.
    const points =
      minor === undefined ? undefined : Math.floor((earn(data.program, minor) * data.bps) / 1e4);
    const earnLine = block.querySelector('[data-laurel-earn]');
    block.hidden = points === undefined || (points === 0 && block.dataset.zero === 'hide');
    if (points === undefined) {
      delete block.dataset.points;
      return;
    }
    block.dataset.points = points;
    earnLine.hidden = points === 0;
    block.querySelector('[data-laurel-earn-zero]').hidden = points !== 0;
    if (points) {
      const text = plural(earnLine, block.dataset.locale, points);
      earnLine.textContent = text.replace('{n}', group(points, block.dataset.group));
    }
  }

  const showVariantEverywhere = (id) => {
    for (const block of d.querySelectorAll('[data-laurel-product-points]')) showVariant(block, id);
  };

  function launcher(root) {
    const $ = (hook) => root.querySelector(`[data-laurel-${hook}]`);
    const button = $('launcher');
    const panel = $('panel');
    const backdrop = $('backdrop');
    const status = $('status');
    const retry = $('retry');
    const member = $('panel-member');
    const signedOut = $('panel-signed-out');
    const activity = $('activity');
    const balance = $('panel-balance');
    const unit = $('unit');
    const history = $('history');
    const empty = $('history-empty');
    const more = $('history-more');
    const messages = $('messages').content;
    const { locale, group: separator, limit } = root.dataset;
    const proxy = root.dataset.root.replace(/\/?$/, '/') + 'apps/loyalty';
    let cursor = null;
    let generation = 0; // bumped by each load and close: late answers are dropped
    let busy = false;

    const message = (name) => messages.querySelector(`[data-message="${name}"]`).textContent.trim();
    const emit = (name, detail) =>
      root.dispatchEvent(new w.CustomEvent(`laurel:${name}`, { bubbles: true, detail }));
    const setState = (state, text = '') => {
      panel.dataset.laurelState = state;
      panel.setAttribute('aria-busy', String(state === 'loading'));
      status.textContent = text;
      retry.hidden = state !== 'error';
    };
    const dates = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });

    async function get(path) {
      const response = await w.fetch(proxy + path, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      const body = await response.json().catch(() => null);
      if (!response.ok || !body || body.error) {
        throw Object.assign(new Error('proxy'), {
          code: body?.error?.code ?? `HTTP_${response.status}`,
        });
      }
      return body;
    }

    // The storefront's language, not the browser's, words the explanations.
    const historyPath = () =>
      `/history?limit=${limit}&locale=${encodeURIComponent(locale)}` +
      (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');

    function showSignedOut() {
      member.hidden = activity.hidden = true;
      signedOut.hidden = false;
      setState('signed-out');
    }

    function fail(error) {
      setState('error', message('error'));
      status.dataset.code = error.code ?? 'NETWORK';
    }

    function entry(item) {
      const li = d.createElement('li');
      li.tabIndex = -1;
      li.dataset.laurelEntry = item.id;
      const time = d.createElement('time');
      time.dateTime = item.occurredAt;
      time.textContent = dates.format(new Date(item.occurredAt));
      const text = d.createElement('span');
      text.textContent = item.explanation;
      const points = d.createElement('strong');
      points.textContent = `${item.points > 0 ? '+' : ''}${group(item.points, separator)} ${plural(root, locale, Math.abs(item.points))}`;
      li.append(time, text, points);
      return li;
    }

    function showPage(page, focusFirst) {
      const items = page.entries.map(entry);
      history.append(...items);
      cursor = page.nextCursor;
      more.hidden = !cursor;
      empty.hidden = history.children.length > 0;
      if (focusFirst && items[0]) items[0].focus();
    }

    async function load() {
      const mine = ++generation;
      if (root.dataset.signedIn !== 'true') return showSignedOut();
      setState('loading', message('loading'));
      try {
        cursor = null;
        const [summary, page] = await Promise.all([get(''), get(historyPath())]);
        if (mine !== generation) return;
        if (!summary.loggedIn || !page.loggedIn) return showSignedOut();
        balance.dataset.laurelPanelBalance = summary.balance;
        balance.textContent = group(summary.balance, separator);
        unit.textContent = plural(root, locale, summary.balance);
        history.replaceChildren();
        showPage(page, false);
        setState('ready');
        emit('summary', summary);
      } catch (error) {
        if (mine === generation) fail(error);
      }
    }

    async function loadMore() {
      if (busy || !cursor) return;
      busy = true;
      more.setAttribute('aria-disabled', 'true');
      const mine = generation;
      try {
        const page = await get(historyPath());
        if (mine === generation) {
          if (page.loggedIn) showPage(page, true);
          else showSignedOut();
        }
      } catch (error) {
        if (mine === generation) fail(error);
      } finally {
        more.removeAttribute('aria-disabled');
        busy = false;
      }
    }

    function open() {
      if (!panel.hidden) return;
      panel.hidden = backdrop.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      panel.focus();
      emit('open');
      load();
    }

    function close() {
      if (panel.hidden) return;
      generation++;
      panel.hidden = backdrop.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      button.focus();
      emit('close');
    }

    const follows = (a, b) => a.compareDocumentPosition(b) & 4; // 4: b comes after a

    function onKey(event) {
      if (panel.hidden) return;
      if (event.key === 'Escape') {
        event.preventDefault();
        close();
      } else if (event.key === 'Tab') {
        const focusable = [...panel.querySelectorAll('a[href],button,[tabindex="0"]')].filter(
          (el) => !el.disabled && el.getClientRects().length,
        );
        const first = focusable[0];
        const last = focusable[focusable.length - 1];
        const active = d.activeElement;
        const wrap = event.shiftKey
          ? !follows(first, active)
          : active === last || follows(last, active);
        if (wrap) {
          event.preventDefault();
          (event.shiftKey ? last : first).focus();
        }
      }
    }

    button.addEventListener('click', () => (panel.hidden ? open() : close()));
    $('close').addEventListener('click', close);
    backdrop.addEventListener('click', close);
    retry.addEventListener('click', load);
    more.addEventListener('click', loadMore);
    d.addEventListener('keydown', onKey);
    d.addEventListener('focusin', (event) => {
      if (!panel.hidden && !panel.contains(event.target)) panel.focus();
    });
    button.hidden = false;
    return { open, close };
  }

  const api = { earn, toMinor, open() {}, close() {} };
  w.Laurel = api;

  function init() {
    d.addEventListener('change', (event) => {
      const input = event.target;
      const action = input.form?.getAttribute('action') ?? '';
      if (input.name === 'id' && /\/cart\/add/.test(action)) showVariantEverywhere(input.value);
    });
    const variant = /[?&]variant=(\d+)/.exec(w.location.search);
    if (variant) showVariantEverywhere(variant[1]);
    const root = d.querySelector('[data-laurel-root]');
    if (root) Object.assign(api, launcher(root));
  }

  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', init);
  else init();
})();
