import js from '@eslint/js';
import * as espree from 'espree';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.node-red-dev/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ignores: ['resources/**'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
      },
    },
  },
  {
    // The editor's scripts: plain browser scripts, no bundler. ES2020 because Node-RED 4's own
    // editor code uses it (optional chaining, ??), so every browser that runs the editor does;
    // ESLint's own parser, as the TypeScript one would accept any newer syntax too.
    files: ['resources/**/*.js'],
    languageOptions: {
      parser: espree,
      ecmaVersion: 2020,
      sourceType: 'script',
      globals: {
        window: 'readonly',
        RED: 'readonly',
        $: 'readonly',
        jQuery: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
);
