// The test document (helpers/dom.ts) is a stand-in, so it is tested like one: the DOM operations
// Preact relies on, and Preact itself rendering, updating, handling a click and unmounting.
import { h, render } from 'preact';
import { useState } from 'preact/hooks';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { installDom, MiniDocument, MiniElement, MiniText } from './helpers/dom';

let restore: () => void;
let doc: MiniDocument;

beforeEach(() => {
  restore = installDom();
  doc = document as unknown as MiniDocument;
});

afterEach(() => {
  restore();
});

function tree() {
  const root = doc.createElement('s-section');
  const stack = root.appendChild(doc.createElement('s-stack'));
  const first = stack.appendChild(doc.createElement('s-text'));
  first.setAttribute('tone', 'critical');
  first.appendChild(doc.createTextNode('one'));
  const button = stack.appendChild(doc.createElement('s-button'));
  button.setAttribute('id', 'more');
  button.appendChild(doc.createTextNode('two'));
  const nested = button.appendChild(doc.createElement('s-text'));
  nested.appendChild(doc.createTextNode('three'));
  return { root, stack, first, button, nested };
}

describe('nodes', () => {
  test('insertBefore, removeChild and siblings keep one consistent list', () => {
    const parent = doc.createElement('div');
    const a = parent.appendChild(doc.createElement('a'));
    const c = parent.appendChild(doc.createElement('c'));
    const b = parent.insertBefore(doc.createElement('b'), c);
    expect(parent.childNodes.map((node) => node.nodeName)).toEqual(['A', 'B', 'C']);
    expect([a.nextSibling, b.previousSibling, c.nextSibling]).toEqual([b, a, null]);
    expect([parent.firstChild, parent.lastChild]).toEqual([a, c]);

    parent.insertBefore(c, a); // moving a node takes it out of its old place
    expect(parent.childNodes.map((node) => node.nodeName)).toEqual(['C', 'A', 'B']);
    parent.removeChild(a);
    expect(a.parentNode).toBeNull();
    expect(parent.childNodes.map((node) => node.nodeName)).toEqual(['C', 'B']);
    c.remove();
    expect(parent.childNodes).toEqual([b]);
  });

  test('refuses what a browser refuses', () => {
    const parent = doc.createElement('div');
    const child = parent.appendChild(doc.createElement('span'));
    expect(() => child.appendChild(parent)).toThrow(/contain itself/);
    expect(() => parent.removeChild(doc.createElement('i'))).toThrow(/not a child/);
    expect(() => parent.insertBefore(doc.createElement('i'), doc.createElement('b'))).toThrow(
      /reference is not a child/,
    );
  });

  test('textContent reads the whole subtree and replaces children when set', () => {
    const { root, button } = tree();
    expect(root.textContent).toBe('onetwothree');
    button.textContent = 'four';
    expect(button.childNodes).toHaveLength(1);
    expect(button.firstChild).toBeInstanceOf(MiniText);
    expect(root.textContent).toBe('onefour');
    const text = doc.createTextNode('x');
    text.data = 'y';
    expect(text.textContent).toBe('y');
  });

  test('isConnected only under the document', () => {
    const element = doc.createElement('p');
    expect(element.isConnected).toBe(false);
    doc.body.appendChild(element);
    expect(element.isConnected).toBe(true);
  });
});

describe('attributes', () => {
  test('names are lower-cased on HTML elements, values are strings', () => {
    const element = doc.createElement('s-spinner');
    element.setAttribute('accessibilityLabel', 'Loading');
    element.setAttribute('size', 3);
    expect(element.getAttributeNames()).toEqual(['accessibilitylabel', 'size']);
    expect(element.getAttribute('ACCESSIBILITYLABEL')).toBe('Loading');
    expect(element.getAttribute('size')).toBe('3');
    element.removeAttribute('size');
    expect(element.hasAttribute('size')).toBe(false);
    element.id = 'spin';
    expect(element.getAttribute('id')).toBe('spin');
  });

  test('innerHTML serialises and can only be cleared', () => {
    const { root } = tree();
    expect(root.innerHTML).toBe(
      '<s-stack><s-text tone="critical">one</s-text><s-button id="more">two<s-text>three</s-text></s-button></s-stack>',
    );
    expect(() => (root.innerHTML = '<p>x</p>')).toThrow(/only be set to ""/);
    root.innerHTML = '';
    expect(root.childNodes).toHaveLength(0);
  });
});

describe('selectors', () => {
  test('tag, attribute, value, id, descendant, child and lists', () => {
    const { root, first, button, nested } = tree();
    expect(root.querySelectorAll('s-text')).toEqual([first, nested]);
    expect(root.querySelectorAll('[tone]')).toEqual([first]);
    expect(root.querySelectorAll('s-text[tone="critical"]')).toEqual([first]);
    expect(root.querySelectorAll("s-text[tone='info']")).toEqual([]);
    expect(root.querySelector('#more')).toBe(button);
    expect(root.querySelectorAll('s-button s-text')).toEqual([nested]);
    expect(root.querySelectorAll('s-stack > s-text')).toEqual([first]);
    // As in browsers, the scope's own ancestors (here: itself) count for matching.
    expect(root.querySelectorAll('s-section s-stack>s-button > s-text')).toEqual([nested]);
    expect(root.querySelectorAll('s-stack > s-text > s-text')).toEqual([]);
    expect(root.querySelectorAll('s-stack > s-button > s-text')).toEqual([nested]);
    expect(root.querySelectorAll('s-button, [tone]')).toEqual([first, button]);
    expect(nested.closest('s-stack')).toBe(root.querySelector('s-stack'));
    expect(nested.matches('s-button s-text')).toBe(true);
  });

  test('anything else is refused rather than guessed', () => {
    const { root } = tree();
    for (const selector of [
      '.class',
      's-text:first-child',
      'a ~ b',
      'a + b',
      '*',
      '[a^="b"]',
      '',
    ]) {
      expect(() => root.querySelector(selector), selector).toThrow(SyntaxError);
    }
  });
});

describe('Preact on it', () => {
  function Counter() {
    const [count, setCount] = useState(0);
    return h(
      's-stack',
      null,
      h('s-text', null, `count ${count}`),
      count < 2 && h('s-button', { onClick: () => setCount((n) => n + 1) }, 'add'),
    );
  }

  test('renders, handles clicks, updates and unmounts', async () => {
    const body = doc.body as unknown as Element;
    render(h(Counter, null), body);
    const button = () => doc.body.querySelector('s-button');
    expect(doc.body.textContent).toBe('count 0add');

    button()?.dispatchEvent(new Event('click'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(doc.body.querySelector('s-text')?.textContent).toBe('count 1');

    button()?.dispatchEvent(new Event('click'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(doc.body.textContent).toBe('count 2');
    expect(button()).toBeNull();

    render(null, body);
    expect(doc.body.childNodes).toHaveLength(0);
  });

  test('an attribute set to false or null is removed', () => {
    const body = doc.body as unknown as Element;
    render(h('s-button', { loading: true }, 'x'), body);
    const element = doc.body.querySelector('s-button') as MiniElement;
    expect(element.getAttribute('loading')).toBe('true');
    render(h('s-button', { loading: false }, 'x'), body);
    expect(element.hasAttribute('loading')).toBe(false);
    render(null, body);
  });
});
