import { afterEach, beforeEach, vi, type MockInstance } from 'vitest';

// House rule: a test that expects console.error says so (expectConsoleError()); any other fails it.
let errorSpy: MockInstance<typeof console.error>;
let expected = false;

export function expectConsoleError(): MockInstance<typeof console.error> {
  expected = true;
  return errorSpy;
}

beforeEach(() => {
  expected = false;
  errorSpy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    if (!expected) {
      throw new Error(`Unexpected console.error: ${args.map(String).join(' ')}`);
    }
  });
});

afterEach(() => {
  errorSpy.mockRestore();
});
