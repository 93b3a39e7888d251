// ESLint flat config: typescript-eslint strict type-checked, as STYLE.md asks.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.serverless/',
      'bin/',
      'scripts/',
      'eslint.config.js',
      '.scratch/',
      '.cache/',
      'reports/',
      // Plain JavaScript that Node 20 and 22 run directly (the Lambda runtime stand-in), outside the TS project.
      'test/**/*.mjs',
      // The bench's spawning helper: plain JavaScript, so no compiler is loaded into it.
      'bench/spawner-child.mjs',
      // Plain CommonJS Serverless loads as it is (it builds the TypeScript), outside the TS project.
      'infra/serverless.cjs',
      'infra/deploy-hooks.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Defensive checks on untrusted input (events, HTTP bodies) are deliberate.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests assert shapes they just built; a failed assumption fails the test anyway.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
