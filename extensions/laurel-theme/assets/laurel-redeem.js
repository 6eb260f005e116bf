/* global window */
// Laurel's Redeem step and the shopper's codes, docs/storefront.md: confirm, POST
// /apps/loyalty/redeem, the code (copy, apply) or why not. laurel-rewards.js calls
// window.LaurelRedeem when Redeem is pressed and .codes after each load; either file may run first.
(() => {
  'use strict';
  const w = window;
  const d = w.document;
  if (w.LaurelRedeem) return;

  // One requestId per confirmed redemption, reused by its retries: the proxy then answers the
  // first outcome and never debits twice.
  const uuid = () =>
    w.crypto.randomUUID?.() ??
    [...w.crypto.getRandomValues(new Uint8Array(16))]
      .map((byte) => byte.toString(16).padStart(2, '0'))
      .join('');

  // 409 INSUFFICIENT_BALANCE or CONFLICT (a limit), 403 tier, 502 Shopify refused (points back)…
  const REFUSALS = { 403: 'tier', 502: 'upstream', 401: 'signed_out', 404: 'gone' };

  // The code, a copy button (Clipboard API, else the code selected) and "Apply to cart".
  function code(x, value) {
    const { el, m, base } = x;
    const text = el('code', 'code', value, { tabIndex: -1 });
    const copy = el('button', 'link', m('copy'), { type: 'button' });
    const apply = el('a', 'link', m('apply'), {
      href: `${base}discount/${encodeURIComponent(value)}?redirect=${base}cart`,
    });
    text.dataset.laurelRewardsCode = value;
    copy.dataset.laurelRewardsCopy = apply.dataset.laurelRewardsApply = '';
    copy.addEventListener('click', async () => {
      try {
        await w.navigator.clipboard.writeText(value);
        x.say(m('copied'));
      } catch {
        w.getSelection().selectAllChildren(text);
        x.say(m(d.execCommand('copy') ? 'copied' : 'selected'));
      }
    });
    return [text, copy, apply];
  }

  // "Your rewards": each redemption's state and date, an issued code with copy and apply.
  function codes(x) {
    const items = x.redemptions.map(({ id, title, status, code: value, expiresAt, usedAt }) => {
      const li = x.el('li', 'reward');
      Object.assign(li.dataset, { laurelRedemption: id, status });
      li.append(x.el('strong', '', title));
      const date = x.date(status === 'used' ? usedAt : expiresAt);
      if (x.$('messages').content.querySelector(`[data-m="status_${status}"]`))
        li.append(x.el('span', 'note', x.m(`status_${status}`, { date })));
      if (value)
        li.append(...(status === 'issued' ? code(x, value) : [x.el('code', 'code', value)]));
      return li;
    });
    x.$('mine-list').replaceChildren(...items);
    x.$('mine').hidden = !items.length;
  }

  // Redeem → "Spend 500 points for £5 off?" → Confirm | Cancel.
  function confirm(x, { reward, li, input, action, reason, points }) {
    const { el, m } = x;
    let attempt = x.pending.get(reward.id);
    if (attempt?.points !== points)
      x.pending.set(reward.id, (attempt = { points, requestId: uuid() }));
    const question = el(
      'p',
      'text',
      m('confirm', { points: x.points(points), value: x.worth(reward, points) }),
    );
    question.id = `${reason.id}-q`;
    const yes = el('button', 'button', m('confirm_button'), { type: 'button' });
    const no = el('button', 'link', m('cancel'), { type: 'button' });
    yes.dataset.laurelRewardsConfirm = no.dataset.laurelRewardsCancel = '';
    const box = el('div', 'confirm', null, { role: 'group' });
    box.setAttribute('aria-labelledby', question.id);
    box.append(question, yes, no);
    // a refusal shows by the reward (the Redeem button's description) and in the live region
    const tell = (text) => x.say((reason.textContent = text));
    const close = (refocus) => {
      box.remove();
      action.hidden = false;
      if (input) input.disabled = false;
      if (refocus) action.focus();
    };
    action.hidden = true;
    if (input) input.disabled = true; // the points confirmed are the points sent
    li.append(box);
    yes.focus();

    no.addEventListener('click', () => close(true));
    box.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.stopPropagation(); // closes this step, not the launcher
      close(true);
    });
    yes.addEventListener('click', async () => {
      if (yes.getAttribute('aria-disabled')) return;
      yes.setAttribute('aria-disabled', 'true');
      x.say(m('redeeming'));
      const outcome = await redeem(x, reward, attempt).catch(() => null);
      yes.removeAttribute('aria-disabled');
      if (!outcome) {
        yes.textContent = m('retry'); // the outcome is unknown: the retry sends the same requestId
        return tell(m('network'));
      }
      x.pending.delete(reward.id);
      close(outcome !== true);
      if (outcome !== true) tell(outcome);
    });
  }

  // true when issued (or on its way), a message when refused, null when the outcome is unknown.
  async function redeem(x, reward, attempt) {
    const { code, body } = await x.call('/redeem', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        rewardId: reward.id,
        ...(reward.slider ? { points: attempt.points } : {}),
        requestId: attempt.requestId,
      }),
    });
    if (!body || (code >= 500 && code !== 502)) return null;
    const redemption = body.redemption;
    if (code > 202 || !redemption) {
      const balance = code === 409 && body.error?.code === 'INSUFFICIENT_BALANCE';
      return x.m(balance ? 'insufficient' : code === 409 ? 'limit' : (REFUSALS[code] ?? 'failed'));
    }
    x.emit(body.balance);
    show(x, redemption, code === 202 || redemption.status === 'pending');
    // Every section shown reloads, not just this one: redeemed in the panel, the Rewards block on
    // the page must list the code and the reward's new reason too. A closed panel, or a block
    // never scrolled to, loads when it is next seen anyway.
    for (const root of d.querySelectorAll('[data-laurel-rewards]')) {
      const y = root.laurel;
      if (y === x || (y?.catalog && !root.closest('[hidden]'))) y.load(true);
    }
    return true;
  }

  // The outcome above the list, focused: the code with copy and apply, or what happened.
  function show(x, redemption, later) {
    const { m } = x;
    const result = x.$('result');
    const value = !later && redemption.code;
    const text = m(later ? 'pending' : value ? 'success' : 'credited');
    result.replaceChildren(x.el('p', 'text', text));
    if (value) result.append(...code(x, value));
    if (value && redemption.expiresAt)
      result.append(x.el('p', 'note', m('valid_until', { date: x.date(redemption.expiresAt) })));
    result.hidden = false;
    (value ? result.querySelector('code') : result).focus();
    x.say(text);
  }

  // The balance wherever a Laurel block shows it: launcher panel, balance and rewards blocks.
  d.addEventListener('laurel:balance', ({ detail: { balance } }) => {
    const x = d.querySelector('[data-laurel-rewards]')?.laurel;
    for (const hook of ['panel-balance', 'balance', 'rewards-balance']) {
      for (const figure of d.querySelectorAll(`[data-laurel-${hook}]`)) {
        figure.setAttribute(`data-laurel-${hook}`, balance);
        figure.textContent = x.group(balance);
        const unit = figure.nextElementSibling;
        if (unit?.matches('[data-laurel-unit],[data-laurel-points-unit]'))
          unit.textContent = x.root.dataset[x.form(balance)];
      }
    }
  });

  w.LaurelRedeem = Object.assign(confirm, { codes });
  for (const root of d.querySelectorAll('[data-laurel-rewards]')) {
    if (root.laurel?.redemptions) codes(root.laurel); // loaded before this file ran
  }
})();
