// @ts-check
/**
 * Early access at checkout: a cart line may be bought only when, for every early-access window on
 * its product, a stage admitting the buyer's tier has opened or everyone may buy (the rule of
 * loyalty/early-access.ts, made here from the product mirror). One validation error per line that
 * may not, on that line's quantity. docs/checkout-function.md.
 *
 * Plain JavaScript over the generated input type: Shopify compiles it to Wasm with Javy (QuickJS),
 * so no Node, no Intl, nothing imported at run time.
 *
 * @typedef {import('../generated/api').CartValidationsGenerateRunInput} CartValidationsGenerateRunInput
 * @typedef {import('../generated/api').CartValidationsGenerateRunResult} CartValidationsGenerateRunResult
 * @typedef {import('../generated/api').ValidationError} ValidationError
 * @typedef {import('../../../loyalty/early-access').ProductMirror} ProductMirror
 * @typedef {ProductMirror['windows'][number]} MirrorWindow
 * @typedef {'en' | 'fr'} Language
 *
 * @typedef {object} Clock What the Function knows of the shop's local time.
 * @property {string} date The shop's local date, `YYYY-MM-DD`.
 * @property {(at: string) => boolean} passed Whether a shop-local `YYYY-MM-DDTHH:MM:SS` has passed.
 *
 * @typedef {object} Refusal Why a line may not be bought yet.
 * @property {string} opensAt Shop-local time from which this buyer may buy it.
 * @property {string[]} admitted Tier keys that may buy it now (empty: nobody yet).
 */

/** The mirror version this Function reads (loyalty/early-access.ts MIRROR_VERSION). */
export const MIRROR_VERSION = 1;

const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

/**
 * @param {CartValidationsGenerateRunInput} input
 * @returns {CartValidationsGenerateRunResult}
 */
export function cartValidationsGenerateRun(input) {
  const clock = shopClock(input.shop.localTime, input.validation.timeSlots?.jsonValue);
  const tier = input.cart.buyerIdentity?.customer?.tier?.value.trim() || null;
  const language = input.localization.language.isoCode === 'FR' ? 'fr' : 'en';
  /** @type {ValidationError[]} */
  const errors = [];
  input.cart.lines.forEach((line, i) => {
    const merchandise = line.merchandise;
    if (merchandise.__typename !== 'ProductVariant') return;
    const mirror = readMirror(merchandise.product.earlyAccess?.jsonValue);
    if (!mirror) return;
    const refusal = refuse(mirror, tier, clock);
    if (!refusal) return;
    errors.push({
      message: refusalMessage(
        merchandise.product.title,
        refusal,
        clock.date,
        language,
        tierNames(mirror),
      ),
      target: `$.cart.lines[${i}].quantity`,
    });
  });
  return { operations: [{ validationAdd: { errors } }] };
}

/**
 * The product's `$app.early_access` JSON, or null when there is none or it is not a mirror this
 * Function can read — an unknown version or a malformed one. Null lets the line through: a bug in
 * our mirror must not stop a merchant's checkout (every buyer, every product it touches, until a
 * fix ships), while the storefront block and the app proxy still apply early access. Failing open
 * here costs at worst an early sale through a hand-made cart; failing closed costs the sale.
 *
 * @param {unknown} json
 * @returns {ProductMirror | null}
 */
export function readMirror(json) {
  if (!isObject(json) || json.v !== MIRROR_VERSION || !Array.isArray(json.windows)) return null;
  for (const window of json.windows) {
    if (!isObject(window) || !Array.isArray(window.stages)) return null;
    if (!isObject(window.everyone) || !isLocalTime(window.everyone.at)) return null;
    for (const stage of window.stages) {
      if (!isObject(stage) || !isLocalTime(stage.at) || !Array.isArray(stage.tiers)) return null;
      if (!stage.tiers.every((t) => typeof t === 'string')) return null;
    }
  }
  // Checked above: every field this Function reads (ids, names and epochs it does not).
  return /** @type {ProductMirror} */ (/** @type {unknown} */ (json));
}

/**
 * The shop's clock as the input carries it. `aN` answers "is the shop's local time after the Nth
 * slot's time?"; the validation's `$app.early_access_times` JSON says which time each slot holds.
 * A time in no slot (more boundaries ahead than slots, or the metafield missing) is judged by the
 * date alone: passed from the day after it — so on its own day the line stays blocked (fail closed
 * for a few hours rather than open early).
 *
 * @param {CartValidationsGenerateRunInput['shop']['localTime']} localTime
 * @param {unknown} slotTimes
 * @returns {Clock}
 */
export function shopClock(localTime, slotTimes) {
  const answers = [
    localTime.a0,
    localTime.a1,
    localTime.a2,
    localTime.a3,
    localTime.a4,
    localTime.a5,
    localTime.a6,
    localTime.a7,
    localTime.a8,
    localTime.a9,
    localTime.a10,
    localTime.a11,
    localTime.a12,
    localTime.a13,
    localTime.a14,
    localTime.a15,
  ];
  /** @type {Map<string, boolean>} */
  const slots = new Map();
  if (isObject(slotTimes)) {
    answers.forEach((answer, i) => {
      const at = slotTimes[`t${i}`];
      if (isLocalTime(at)) slots.set(at, answer);
    });
  }
  const date = localTime.date;
  return {
    date,
    passed: (at) => slots.get(at) ?? date > at.slice(0, 10),
  };
}

/**
 * Null when a buyer of tier `tier` (null: no tier, or not logged in) may buy the product now;
 * otherwise when they may and who may already. Several windows: every one must admit the buyer,
 * the latest of their openings is when they may buy, and only tiers every window admits may
 * buy meanwhile.
 *
 * @param {ProductMirror} mirror
 * @param {string | null} tier
 * @param {Clock} clock
 * @returns {Refusal | null}
 */
export function refuse(mirror, tier, clock) {
  /** @type {string | null} */
  let opensAt = null;
  /** @type {string[] | null} null: every tier (no window holds anyone back) */
  let admitted = null;
  for (const window of mirror.windows) {
    if (clock.passed(window.everyone.at)) continue;
    const byWindow = admittedBy(window, clock);
    admitted = admitted === null ? byWindow : admitted.filter((key) => byWindow.includes(key));
    const own = tier === null ? [] : window.stages.filter((s) => s.tiers.includes(tier));
    if (own.some((s) => clock.passed(s.at))) continue;
    const opens = own.reduce((at, s) => (s.at < at ? s.at : at), window.everyone.at);
    if (opensAt === null || opens > opensAt) opensAt = opens;
  }
  return opensAt === null ? null : { opensAt, admitted: admitted ?? [] };
}

/**
 * Tier keys a window admits now, before everyone may buy. The mirror lists a stage's tiers lowest
 * first; the stage admitting most tiers is read first so the names read "Silver, Gold and
 * Platinum".
 *
 * @param {MirrorWindow} window
 * @param {Clock} clock
 */
function admittedBy(window, clock) {
  const open = window.stages.filter((s) => clock.passed(s.at));
  open.sort((a, b) => b.tiers.length - a.tiers.length);
  /** @type {string[]} */
  const keys = [];
  for (const stage of open) for (const key of stage.tiers) if (!keys.includes(key)) keys.push(key);
  return keys;
}

const MONTHS = {
  en: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
  fr: [
    'janv.',
    'févr.',
    'mars',
    'avr.',
    'mai',
    'juin',
    'juil.',
    'août',
    'sept.',
    'oct.',
    'nov.',
    'déc.',
  ],
};

/**
 * `Nov 24, 09:00` / `24 nov. à 09:00`, with the year when it is not the shop's current one. By
 * hand: QuickJS, which runs the Function, has no Intl.
 *
 * @param {string} at Shop-local `YYYY-MM-DDTHH:MM:SS`.
 * @param {string} today The shop's local date.
 * @param {Language} language
 */
export function formatOpening(at, today, language) {
  const year = at.slice(0, 4);
  const month = MONTHS[language][Number(at.slice(5, 7)) - 1];
  const day = String(Number(at.slice(8, 10)));
  const time = at.slice(11, 16);
  const sameYear = year === today.slice(0, 4);
  if (language === 'fr') return `${day} ${month}${sameYear ? '' : ` ${year}`} à ${time}`;
  return `${month} ${day}${sameYear ? '' : `, ${year}`}, ${time}`;
}

/**
 * Tier names by key, from the mirror's stages (`names[i]` names `tiers[i]`). A name that is not
 * text is left out: the key stands in for it.
 *
 * @param {ProductMirror} mirror
 * @returns {Map<string, string>}
 */
export function tierNames(mirror) {
  /** @type {Map<string, string>} */
  const names = new Map();
  for (const window of mirror.windows) {
    for (const stage of window.stages) {
      const given = /** @type {unknown} */ (stage.names);
      if (!Array.isArray(given)) continue;
      stage.tiers.forEach((key, i) => {
        const name = given[i];
        if (typeof name === 'string' && name.trim() !== '') names.set(key, name);
      });
    }
  }
  return names;
}

/**
 * A tier as the buyer reads it when the mirror names no tier: the key capitalised ("Gold",
 * "Vip plus").
 *
 * @param {string} key
 */
export function tierLabel(key) {
  const words = key.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * @param {string[]} items
 * @param {Language} language
 */
function joinList(items, language) {
  if (items.length < 2) return items.join('');
  const and = language === 'fr' ? ' et ' : ' and ';
  return `${items.slice(0, -1).join(', ')}${and}${items[items.length - 1]}`;
}

/**
 * "Aurora Jacket is in early access for Gold and Platinum members until Nov 24, 09:00." — or, when
 * no stage has opened yet, "Aurora Jacket is not on sale yet: it opens on Nov 20, 09:00." The time
 * is when this buyer may buy.
 *
 * @param {string} title
 * @param {Refusal} refusal
 * @param {string} today
 * @param {Language} language
 * @param {ReadonlyMap<string, string>} [names] Tier names by key (tierNames); a key without one reads capitalised.
 */
export function refusalMessage(title, refusal, today, language, names = new Map()) {
  const when = formatOpening(refusal.opensAt, today, language);
  const tiers = joinList(
    refusal.admitted.map((key) => names.get(key) ?? tierLabel(key)),
    language,
  );
  if (language === 'fr') {
    return tiers
      ? `${title} est en accès anticipé pour les membres ${tiers} jusqu'au ${when}.`
      : `${title} n'est pas encore en vente : ouverture le ${when}.`;
  }
  return tiers
    ? `${title} is in early access for ${tiers} members until ${when}.`
    : `${title} is not on sale yet: it opens on ${when}.`;
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * @param {unknown} value
 * @returns {value is string}
 */
function isLocalTime(value) {
  return typeof value === 'string' && LOCAL_TIME.test(value);
}
