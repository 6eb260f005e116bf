/**
 * A small document for the extension tests: @shopify/ui-extensions-tester renders into
 * `document.body` and expects the test runner to provide a DOM (jsdom or happy-dom), and neither is
 * installed here. In production the extension does not get a browser DOM either: it runs in a Web
 * Worker where Shopify provides a minimal DOM of its own for Preact to render `s-*` elements into,
 * so a small one is the closer stand-in.
 *
 * It implements what Preact 10 and the tests use — nodes, attributes, text, events on the target,
 * and querySelector for tag, [attr], [attr="value"], #id, descendant and child combinators and
 * lists — and throws on anything else, so a test can never pass against a silently wrong answer.
 * Events do not bubble. Its own tests: dom.test.ts.
 */

const XHTML = 'http://www.w3.org/1999/xhtml';

class DomError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export class MiniNode extends EventTarget {
  parentNode: MiniNode | null = null;
  readonly childNodes: MiniNode[] = [];

  constructor(
    readonly nodeType: number,
    readonly nodeName: string,
    readonly ownerDocument: MiniDocument | null,
  ) {
    super();
  }

  get firstChild(): MiniNode | null {
    return this.childNodes[0] ?? null;
  }

  get lastChild(): MiniNode | null {
    return this.childNodes[this.childNodes.length - 1] ?? null;
  }

  get nextSibling(): MiniNode | null {
    const siblings = this.parentNode?.childNodes;
    return siblings ? (siblings[siblings.indexOf(this) + 1] ?? null) : null;
  }

  get previousSibling(): MiniNode | null {
    const siblings = this.parentNode?.childNodes;
    return siblings ? (siblings[siblings.indexOf(this) - 1] ?? null) : null;
  }

  get parentElement(): MiniElement | null {
    return this.parentNode instanceof MiniElement ? this.parentNode : null;
  }

  get isConnected(): boolean {
    let root: MiniNode | null = this.parentNode;
    while (root?.parentNode) root = root.parentNode;
    return root instanceof MiniDocument || this instanceof MiniDocument;
  }

  get textContent(): string | null {
    return this.childNodes.map((child) => child.textContent ?? '').join('');
  }

  set textContent(value: string | null) {
    for (const child of [...this.childNodes]) this.removeChild(child);
    if (value) this.appendChild(new MiniText(String(value), this.ownerDocument));
  }

  contains(other: MiniNode | null): boolean {
    for (let node = other; node; node = node.parentNode) if (node === this) return true;
    return false;
  }

  appendChild<T extends MiniNode>(child: T): T {
    return this.insertBefore(child, null);
  }

  insertBefore<T extends MiniNode>(child: T, reference: MiniNode | null): T {
    if (!(child instanceof MiniNode)) throw new TypeError('insertBefore: not a node');
    if (child.contains(this)) {
      throw new DomError('HierarchyRequestError', 'insertBefore: a node cannot contain itself');
    }
    if (reference === child) reference = child.nextSibling;
    if (reference !== null && reference.parentNode !== this) {
      throw new DomError('NotFoundError', 'insertBefore: the reference is not a child');
    }
    child.parentNode?.removeChild(child);
    const index = reference === null ? this.childNodes.length : this.childNodes.indexOf(reference);
    this.childNodes.splice(index, 0, child);
    child.parentNode = this;
    return child;
  }

  removeChild<T extends MiniNode>(child: T): T {
    const index = this.childNodes.indexOf(child);
    if (index < 0) throw new DomError('NotFoundError', 'removeChild: not a child');
    this.childNodes.splice(index, 1);
    child.parentNode = null;
    return child;
  }

  replaceChild<T extends MiniNode>(replacement: MiniNode, old: T): T {
    this.insertBefore(replacement, old);
    return this.removeChild(old);
  }

  remove(): void {
    this.parentNode?.removeChild(this);
  }
}

export class MiniText extends MiniNode {
  constructor(
    public data: string,
    ownerDocument: MiniDocument | null,
  ) {
    super(3, '#text', ownerDocument);
  }

  get nodeValue(): string {
    return this.data;
  }

  set nodeValue(value: string) {
    this.data = String(value);
  }

  override get textContent(): string {
    return this.data;
  }

  override set textContent(value: string | null) {
    this.data = value ?? '';
  }
}

export class MiniComment extends MiniNode {
  constructor(
    public data: string,
    ownerDocument: MiniDocument | null,
  ) {
    super(8, '#comment', ownerDocument);
  }

  override get textContent(): string {
    return this.data;
  }
}

interface Attribute {
  name: string;
  value: string;
}

/** Enough of CSSStyleDeclaration for Preact's `style` prop. */
class MiniStyle {
  [property: string]: unknown;
  cssText = '';
  setProperty(name: string, value: string): void {
    this[name] = value;
  }
}

export class MiniElement extends MiniNode {
  readonly attributes: Attribute[] = [];
  readonly style = new MiniStyle();
  // Event handler properties, as on HTMLElement: Preact looks for `on<name>` in the element to
  // decide that onClick means the 'click' event.
  onclick: unknown = null;
  oninput: unknown = null;
  onchange: unknown = null;
  onfocus: unknown = null;
  onblur: unknown = null;
  onkeydown: unknown = null;
  onsubmit: unknown = null;

  constructor(
    readonly localName: string,
    readonly namespaceURI: string,
    ownerDocument: MiniDocument | null,
  ) {
    super(1, localName.toUpperCase(), ownerDocument);
  }

  get tagName(): string {
    return this.nodeName;
  }

  get id(): string {
    return this.getAttribute('id') ?? '';
  }

  set id(value: string) {
    this.setAttribute('id', value);
  }

  get children(): MiniElement[] {
    return this.childNodes.filter((node): node is MiniElement => node instanceof MiniElement);
  }

  // HTML elements in an HTML document lower-case attribute names, as browsers do.
  #attributeName(name: string): string {
    return this.namespaceURI === XHTML ? String(name).toLowerCase() : String(name);
  }

  getAttribute(name: string): string | null {
    const key = this.#attributeName(name);
    return this.attributes.find((attribute) => attribute.name === key)?.value ?? null;
  }

  hasAttribute(name: string): boolean {
    return this.getAttribute(name) !== null;
  }

  getAttributeNames(): string[] {
    return this.attributes.map((attribute) => attribute.name);
  }

  setAttribute(name: string, value: unknown): void {
    const key = this.#attributeName(name);
    const existing = this.attributes.find((attribute) => attribute.name === key);
    if (existing) existing.value = String(value);
    else this.attributes.push({ name: key, value: String(value) });
  }

  removeAttribute(name: string): void {
    const key = this.#attributeName(name);
    const index = this.attributes.findIndex((attribute) => attribute.name === key);
    if (index >= 0) this.attributes.splice(index, 1);
  }

  get innerHTML(): string {
    return this.childNodes.map(serialize).join('');
  }

  /** Only clearing is supported (the tester clears document.body this way). */
  set innerHTML(html: string) {
    if (html !== '') throw new Error('mini DOM: innerHTML can only be set to ""');
    this.textContent = '';
  }

  get outerHTML(): string {
    return serialize(this);
  }

  matches(selector: string): boolean {
    return parseSelectorList(selector).some((complex) => matchesComplex(this, complex));
  }

  closest(selector: string): MiniElement | null {
    if (this.matches(selector)) return this;
    return this.parentElement?.closest(selector) ?? null;
  }

  querySelectorAll(selector: string): MiniElement[] {
    const list = parseSelectorList(selector);
    return descendants(this).filter((element) =>
      list.some((complex) => matchesComplex(element, complex)),
    );
  }

  querySelector(selector: string): MiniElement | null {
    return this.querySelectorAll(selector)[0] ?? null;
  }
}

export class MiniDocument extends MiniNode {
  readonly documentElement: MiniElement;
  readonly head: MiniElement;
  readonly body: MiniElement;

  constructor() {
    super(9, '#document', null);
    this.documentElement = this.createElement('html');
    this.head = this.documentElement.appendChild(this.createElement('head'));
    this.body = this.documentElement.appendChild(this.createElement('body'));
    this.appendChild(this.documentElement);
  }

  createElement(name: string): MiniElement {
    return new MiniElement(String(name).toLowerCase(), XHTML, this);
  }

  createElementNS(namespace: string | null, name: string): MiniElement {
    const ns = namespace ?? XHTML;
    return new MiniElement(ns === XHTML ? String(name).toLowerCase() : String(name), ns, this);
  }

  createTextNode(data: string): MiniText {
    return new MiniText(String(data), this);
  }

  createComment(data: string): MiniComment {
    return new MiniComment(String(data), this);
  }

  querySelector(selector: string): MiniElement | null {
    return this.documentElement.matches(selector)
      ? this.documentElement
      : this.documentElement.querySelector(selector);
  }

  querySelectorAll(selector: string): MiniElement[] {
    const inside = this.documentElement.querySelectorAll(selector);
    return this.documentElement.matches(selector) ? [this.documentElement, ...inside] : inside;
  }
}

function descendants(root: MiniNode): MiniElement[] {
  const found: MiniElement[] = [];
  const walk = (node: MiniNode) => {
    for (const child of node.childNodes) {
      if (child instanceof MiniElement) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function serialize(node: MiniNode): string {
  if (node instanceof MiniText) return escapeText(node.data);
  if (node instanceof MiniComment) return `<!--${node.data}-->`;
  if (!(node instanceof MiniElement)) return '';
  const attributes = node.attributes
    .map(({ name, value }) => ` ${name}="${escapeText(value).replace(/"/g, '&quot;')}"`)
    .join('');
  return `<${node.localName}${attributes}>${node.childNodes.map(serialize).join('')}</${node.localName}>`;
}

// --- selectors -------------------------------------------------------------------------------

interface AttributeTest {
  name: string;
  value?: string;
}

interface Compound {
  tag?: string;
  attributes: AttributeTest[];
}

/**
 * The compounds of one selector from right to left, each with the combinator that joins it to the
 * next one (its left neighbour); the leftmost has none.
 */
type Complex = { compound: Compound; combinator: ' ' | '>' | null }[];

const selectorCache = new Map<string, Complex[]>();

export function parseSelectorList(selector: string): Complex[] {
  const cached = selectorCache.get(selector);
  if (cached) return cached;
  const list = selector.split(',').map((part) => parseComplex(part.trim(), selector));
  selectorCache.set(selector, list);
  return list;
}

const CHILD = /^\s*>\s*/;
const DESCENDANT = /^\s+/;
const TAG = /^[a-zA-Z][\w-]*/;
const ID = /^#([\w-]+)/;
const ATTRIBUTE = /^\[\s*([\w-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([\w-]+))\s*)?\]/;

function parseComplex(text: string, whole: string): Complex {
  const unsupported = () => new SyntaxError(`mini DOM: unsupported selector "${whole}"`);
  const parts: (Compound | ' ' | '>')[] = [];
  let current: Compound | null = null;
  let rest = text;
  while (rest.length > 0) {
    const combinator = CHILD.exec(rest) ?? DESCENDANT.exec(rest);
    if (combinator) {
      if (!current) throw unsupported();
      parts.push(current, combinator[0].includes('>') ? '>' : ' ');
      current = null;
      rest = rest.slice(combinator[0].length);
      continue;
    }
    current ??= { attributes: [] };
    let match: RegExpExecArray | null;
    if ((match = TAG.exec(rest))) {
      if (current.tag !== undefined || current.attributes.length > 0) throw unsupported();
      current.tag = match[0].toLowerCase();
    } else if ((match = ID.exec(rest))) {
      current.attributes.push({ name: 'id', value: match[1] ?? '' });
    } else if ((match = ATTRIBUTE.exec(rest))) {
      const [, name = '', doubleQuoted, singleQuoted, bare] = match;
      const value = doubleQuoted ?? singleQuoted ?? bare;
      current.attributes.push(
        value === undefined ? { name: name.toLowerCase() } : { name: name.toLowerCase(), value },
      );
    } else {
      throw unsupported();
    }
    rest = rest.slice(match[0].length);
  }
  if (!current) throw unsupported();
  parts.push(current);
  const steps: Complex = [];
  for (let index = parts.length - 1; index >= 0; index -= 2) {
    const combinator = index > 0 ? (parts[index - 1] as ' ' | '>') : null;
    steps.push({ compound: parts[index] as Compound, combinator });
  }
  return steps;
}

function matchesCompound(element: MiniElement, compound: Compound): boolean {
  if (compound.tag !== undefined && element.localName !== compound.tag) return false;
  return compound.attributes.every(({ name, value }) => {
    const actual = element.getAttribute(name);
    return value === undefined ? actual !== null : actual === value;
  });
}

function matchesComplex(element: MiniElement, complex: Complex, from = 0): boolean {
  const step = complex[from];
  if (!step || !matchesCompound(element, step.compound)) return false;
  if (from === complex.length - 1) return true;
  if (step.combinator === '>') {
    const parent = element.parentElement;
    return parent !== null && matchesComplex(parent, complex, from + 1);
  }
  for (let ancestor = element.parentElement; ancestor; ancestor = ancestor.parentElement) {
    if (matchesComplex(ancestor, complex, from + 1)) return true;
  }
  return false;
}

// --- installation ----------------------------------------------------------------------------

const GLOBALS = ['document', 'Node', 'Element', 'HTMLElement', 'Text'] as const;

/** Puts a fresh document on globalThis; returns a function that restores what was there. */
export function installDom(): () => void {
  const saved = new Map<string, PropertyDescriptor | undefined>(
    GLOBALS.map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)]),
  );
  const values: Record<(typeof GLOBALS)[number], unknown> = {
    document: new MiniDocument(),
    Node: MiniNode,
    Element: MiniElement,
    HTMLElement: MiniElement,
    Text: MiniText,
  };
  for (const name of GLOBALS) {
    Object.defineProperty(globalThis, name, {
      value: values[name],
      configurable: true,
      writable: true,
    });
  }
  return () => {
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else delete (globalThis as Record<string, unknown>)[name];
    }
  };
}
