/* global window */
// Laurel rewards, docs/storefront.md: the catalog and the shopper's codes, fetched when the
// launcher opens or the Rewards block shows. Liquid renders the frame and every string;
// laurel-redeem.js runs Redeem (window.LaurelRedeem), found at click time.
(() => {
  'use strict';
  const w = window;
  const d = w.document;
  if (w.LaurelRewards) return; // launcher and block both load it: one copy runs

  // ISO 4217 minor digits other than 2, as loyalty/money.ts (Intl differs for a few).
  const DIGITS = ['BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF', '', ''];
  DIGITS.push('BHD IQD JOD KWD LYD OMR TND', 'CLF UYW');
  const digits = (currency) => {
    const n = DIGITS.findIndex((codes) => codes.includes(currency));
    return n < 0 ? 2 : n;
  };
  let seq = 0;

  const el = (tag, className, text, properties) => {
    const node = Object.assign(d.createElement(tag), properties);
    if (className) node.className = `laurel-${className}`;
    if (text != null) node.textContent = text;
    return node;
  };

  function section(root) {
    const $ = (hook) => root.querySelector(`[data-laurel-rewards-${hook}]`);
    const [list, empty, status, retry] = ['list', 'empty', 'status', 'retry'].map($);
    const messages = $('messages').content;
    const { locale, group: separator } = root.dataset;
    const base = root.dataset.root.replace(/\/?$/, '/');
    const plurals = new Intl.PluralRules(locale);
    const dates = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
    let generation = 0;

    const form = (n) => (plurals.select(n) === 'one' ? 'one' : 'other');
    const group = (n) => String(n).replace(/\B(?=(\d{3})+$)/g, separator);
    const x = {
      root,
      el,
      base,
      $,
      pending: new Map(), // reward id → {points, requestId} whose outcome is unknown
      // A string of the locale; n picks the plural form; {name} filled from values.
      m(name, values = {}, n) {
        const node = messages.querySelector(`[data-m="${name}"]`);
        const text = n == null ? node.textContent : node.dataset[form(n)];
        return text.trim().replace(/\{(\w+)\}/g, (_, key) => values[key]);
      },
      points: (n) => `${group(n)} ${root.dataset[form(n)]}`,
      date: (iso) => (iso ? dates.format(new Date(iso)) : ''),
      group,
      form,
      // laurel-redeem.js shows it wherever a Laurel block does
      emit: (balance) =>
        d.dispatchEvent(new w.CustomEvent('laurel:balance', { detail: { balance } })),
      say(text) {
        status.textContent = text;
      },
      money(minor, currency = x.catalog.currency) {
        const n = digits(currency);
        const text = String(minor).padStart(n + 1, '0');
        return new Intl.NumberFormat(locale, {
          style: 'currency',
          currency,
          minimumFractionDigits: n,
          maximumFractionDigits: n,
          trailingZeroDisplay: 'stripIfInteger',
        }).format(n ? `${text.slice(0, -n)}.${text.slice(-n)}` : text); // a string: exact
      },
      async call(path, init = {}) {
        const response = await w.fetch(`${base}apps/loyalty${path}?locale=${locale}`, {
          ...init,
          headers: { Accept: 'application/json', ...init.headers },
          credentials: 'same-origin',
        });
        return { code: response.status, body: await response.json().catch(() => null) };
      },
      // "£5 off", "10% off", "Free shipping", "£5 in store credit"; a free product: its title.
      worth(reward, n) {
        const { type, value = {}, slider } = reward;
        const minor = slider
          ? Math.floor((n * 10 ** digits(x.catalog.currency)) / slider.pointsPerUnit)
          : value.amountMinor;
        if (type === 'percentage') return x.m('percentage', { percentage: value.percentage });
        if (type === 'free_shipping') return x.m('free_shipping');
        if (type === 'free_product') return reward.title;
        const amount = x.money(minor, value.currency);
        return x.m(type === 'store_credit' ? 'store_credit' : 'amount', { amount });
      },
      load,
    };

    // Why the reward cannot be redeemed for n points now, or null (a slider's balance: live).
    function reasonOf(reward, n) {
      const { balance, loggedIn } = x.catalog;
      if (!loggedIn) return 'NOT_LOGGED_IN';
      const balanceOnly = reward.canRedeem || reward.reason === 'INSUFFICIENT_BALANCE';
      if (reward.slider && balanceOnly && balance != null)
        return n > balance ? 'INSUFFICIENT_BALANCE' : null;
      return reward.canRedeem ? null : (reward.reason ?? '');
    }

    function reasonText(reason, n) {
      const missing = n - (x.catalog.balance ?? 0);
      if (reason === 'INSUFFICIENT_BALANCE') return x.m('more', { n: group(missing) }, missing);
      const name = { LIMIT_REACHED: 'limit', PERIOD_LIMIT_REACHED: 'period', TIER: 'tier' };
      return x.m(name[reason] ?? 'unavailable');
    }

    function item(reward) {
      const id = `laurel-reward-${++seq}`;
      const { slider, type } = reward;
      const li = el('li', 'reward');
      li.dataset.laurelReward = reward.id;
      const notes = [slider ? `${group(slider.minPoints)}–` : ''];
      notes[0] += x.points(slider ? slider.maxPoints : reward.pointsCost);
      if (!slider && type !== 'free_product') notes.push(x.worth(reward));
      const { minimumOrderMinor: minimum, expiryDays: days } = reward;
      if (minimum) notes.push(x.m('minimum', { amount: x.money(minimum) }));
      if (days) notes.push(x.m('expiry', { n: group(days) }, days));
      li.append(
        el('strong', '', reward.title, { id: `${id}-t` }),
        el('span', 'note', notes.join(' · ')),
      );

      let input;
      const output = el('output', 'output');
      if (slider) {
        const { minPoints: min, maxPoints: max, stepPoints: step } = slider;
        // tabindex="0": the launcher's focus trap counts it
        input = el('input', 'range', null, { type: 'range', id: `${id}-i`, min, max, step });
        Object.assign(input, { value: min, tabIndex: 0 });
        output.htmlFor = input.id;
        li.append(el('label', 'label', x.m('slider_label'), { htmlFor: input.id }), input, output);
      }
      const reason = el('span', 'reason', null, { id: `${id}-r` });
      const chosen = () => (input ? Number(input.value) : reward.pointsCost);
      let action;
      if (x.catalog.loggedIn) {
        action = el('button', 'button', x.m('redeem'), { type: 'button' });
        action.dataset.laurelRewardsRedeem = '';
        action.setAttribute('aria-describedby', `${id}-t ${id}-r`);
        action.addEventListener('click', () => {
          if (action.getAttribute('aria-disabled') !== 'true')
            w.LaurelRedeem?.(x, { reward, li, input, action, reason, points: chosen() });
        });
      } else {
        action = el('a', 'link', x.m('sign_in'), { href: root.dataset.login });
      }
      li.append(reason, action);

      function refresh() {
        const n = chosen();
        const why = reasonOf(reward, n);
        if (input) {
          output.textContent = `${x.points(n)} → ${x.worth(reward, n)}`;
          input.setAttribute('aria-valuetext', output.textContent);
        }
        reason.textContent = why && why !== 'NOT_LOGGED_IN' ? reasonText(why, n) : '';
        if (x.catalog.loggedIn) action.setAttribute('aria-disabled', String(why !== null));
      }
      input?.addEventListener('input', refresh);
      refresh();
      return li;
    }

    async function get(path) {
      const { code, body } = await x.call(path);
      if (code === 200 && body && !body.error) return body;
      throw Object.assign(new Error(path), { code: body?.error?.code ?? `HTTP_${code}` });
    }

    async function load(quiet) {
      const mine = ++generation;
      list.setAttribute('aria-busy', 'true');
      retry.hidden = true;
      if (!quiet) x.say(x.m('loading'));
      try {
        const codes = root.dataset.signedIn === 'true' && !root.hasAttribute('data-hide-redeemed');
        const [catalog, redemptions] = await Promise.all([
          get('/rewards'),
          codes ? get('/redemptions') : null,
        ]);
        if (mine !== generation) return;
        x.catalog = catalog;
        list.replaceChildren(...catalog.rewards.map(item));
        empty.hidden = catalog.rewards.length > 0;
        x.redemptions = (catalog.loggedIn && redemptions?.redemptions) || [];
        w.LaurelRedeem?.codes(x);
        if (catalog.balance != null) x.emit(catalog.balance);
        if (!quiet) x.say('');
      } catch (error) {
        if (mine !== generation) return;
        x.say(x.m('error'));
        status.dataset.code = error.code ?? 'NETWORK';
        retry.hidden = false;
      }
      list.removeAttribute('aria-busy');
    }

    retry.addEventListener('click', () => load());
    return Object.assign(x, { stop: () => generation++ });
  }

  function init() {
    for (const root of d.querySelectorAll('[data-laurel-rewards]:not([data-ready])')) {
      root.dataset.ready = '';
      const rewards = (root.laurel = section(root));
      const launcher = root.closest('[data-laurel-root]');
      if (launcher) {
        // each opening reloads, as the launcher does for the balance
        launcher.addEventListener('laurel:open', () => rewards.load());
        launcher.addEventListener('laurel:close', rewards.stop);
        if (launcher.querySelector('[data-laurel-panel]:not([hidden])')) rewards.load();
      } else {
        const seen = new w.IntersectionObserver((entries) => {
          if (!entries.some((entry) => entry.isIntersecting)) return;
          seen.disconnect();
          rewards.load();
        });
        seen.observe(root);
      }
    }
  }

  w.LaurelRewards = { digits };
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', init);
  else init();
})();
