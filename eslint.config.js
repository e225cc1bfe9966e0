// Type-aware lint for the whole tree: the rules that catch money-losing mistakes (a promise nobody
// awaits, a misused async callback) are errors; style belongs to Prettier.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.node/', 'bench/results/', 'scripts/verify-export.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Async generators over a store name it `store` rather than rebinding `this` in a closure.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['store'] }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Port implementations are async by contract even where an adapter answers synchronously.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read JSON answers (`response.json()` is `any`) and assert on them field by field; so does the
    // crash soak, which judges raw answers (any status, any body) rather than the typed client's.
    files: ['tests/**/*.ts', 'bench/**/*.ts', 'scripts/soak/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
