import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      'build',
      '.data',
      'bench-data',
      'tests/artifacts',
      // What `shopify app build` leaves in each extension folder.
      'extensions/*/dist',
      'extensions/*/shopify.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The queue contract (app/queues) is what the web side and the workers share; app/ importing
    // workers/ would pull job processing into the web build and tie the layers both ways (ADR 017).
    files: ['app/**/*.{ts,tsx}'],
    // The composition root: the build must carry startWorkers for INLINE_WORKERS (its comment).
    ignores: ['app/entry.server.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workers/**'],
              message:
                'app/ must not depend on workers/: put what both need in app/queues (ADR 017).',
            },
          ],
        },
      ],
    },
  },
);
